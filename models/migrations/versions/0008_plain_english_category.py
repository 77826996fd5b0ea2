"""the category «Social sphere» is called «Social services» in English

Reference rows are never overwritten at start (admins may have renamed them), so the new English
name reaches an existing database here, and only where the old name is still unchanged.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = sa.table(
    "categories", sa.column("name_en", sa.String), sa.column("short_en", sa.String)
)


def _rename(old: str, new: str) -> None:
    for column in ("name_en", "short_en"):
        op.execute(CATEGORIES.update().where(CATEGORIES.c[column] == old).values({column: new}))


def upgrade() -> None:
    _rename("Social sphere", "Social services")


def downgrade() -> None:
    _rename("Social services", "Social sphere")
