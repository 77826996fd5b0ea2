"""a delivery claim is a lease; announcements are queued in batches and reported

- ``notifications.lease_until``: until when the worker that claimed the row (``status =
  sending``) holds it. The worker renews the lease while it lives; a row whose lease ran out
  (its process was killed) goes back to ``pending`` within a minute instead of ten.
- ``announcements``: an announcement recorded when the admin presses «Send»; a job queues its
  messages in batches and reports to the author when every one has been tried.

A plain added column (``ALTER TABLE … ADD COLUMN`` on SQLite too): existing rows keep their data;
a row claimed before the upgrade has no lease and is judged by ``claimed_at`` as before. The new
table refers to nothing, so dropping it on downgrade deletes nothing else.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications", sa.Column("lease_until", models.base.UTCDateTime(), nullable=True)
    )
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("author_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("author_locale", sa.String(length=5), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("next_user_id", sa.BigInteger(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("queued_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("reported_at", models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("token", name=op.f("uq_announcements_token")),
    )


def downgrade() -> None:
    # native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the table, and through
    # ON DELETE CASCADE every row that refers to it
    op.drop_table("announcements")
    op.drop_column("notifications", "lease_until")
