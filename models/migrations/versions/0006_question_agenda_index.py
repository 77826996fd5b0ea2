"""a meeting's questions in agenda order, from an index

``ix_questions_agenda`` (meeting, supporters descending, created, id) serves the agenda order:
the most supported questions of a meeting read straight from the index and stopping at the
limit, as the "already asked?" check before a question is sent reads its 300 at every question
(without it, every public question of the meeting was read and sorted first).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_questions_agenda",
        "questions",
        ["meeting_id", sa.text("supporters DESC"), "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_questions_agenda", table_name="questions")
