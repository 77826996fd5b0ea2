"""followers' monthly summary switch and a question's photo

- ``users.monthly_summary``: whether a follower gets the monthly summary of their followed
  measures that are still overdue (on by default, switched in ⚙️ Settings);
- ``questions.photo_file_id``: the one optional photo of a question, as Telegram's file id (shown
  to moderators and the department; never exported or published).

Both are plain added columns (``ALTER TABLE … ADD COLUMN`` on SQLite too), so existing rows keep
their data: every existing user gets the summary, every existing question has no photo.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("monthly_summary", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("questions", sa.Column("photo_file_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    # native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the old tables, and through
    # ON DELETE CASCADE every row that refers to them
    op.drop_column("questions", "photo_file_id")
    op.drop_column("users", "monthly_summary")
