"""promises stated at a meeting beside its plan (measures.source), published category counts

``measures.source``: ``plan`` for a line of the published action plan (every existing measure),
``spoken`` for a commitment stated at the meeting that the published plan lacks. Adding a column
with a constant default is a plain ``ALTER TABLE`` on SQLite, so the search index's triggers on
``measures`` (migration 0002) stay; removing it rebuilds the table in batch mode, which drops
them, so the downgrade creates them again.

``meeting_category_counts``: the published classification of a meeting's questions (the seed's
«жилищные отношения – 8 (10,8%), …»), one row per category; the report and the statistics take
a meeting's figures from here when it has them.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "measures",
        sa.Column("source", sa.String(length=10), server_default="plan", nullable=False),
    )
    op.create_table(
        "meeting_category_counts",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_meeting_category_counts_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_category_counts_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "category_id", name=op.f("pk_meeting_category_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("meeting_category_counts")
    # a native DROP COLUMN (SQLite 3.35+, as migration 0003): rebuilding the table in batch
    # mode would drop the old one, and with it, through ON DELETE CASCADE, every row that
    # refers to a measure
    op.drop_column("measures", "source")
