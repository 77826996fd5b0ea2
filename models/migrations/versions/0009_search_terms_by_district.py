"""a district's search terms, from an index

``ix_search_terms_district`` (district, term, measure, sort key) serves the "already promised?"
check before a question is sent: its word counts and its candidates read the district's
postings of a few terms straight from the index (the term index alone reads every district's
postings of each term, eight times as many in Almaty, and drops the others).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_search_terms_district",
        "search_terms",
        ["district_id", "term", "measure_id", "sort_key"],
    )


def downgrade() -> None:
    op.drop_index("ix_search_terms_district", table_name="search_terms")
