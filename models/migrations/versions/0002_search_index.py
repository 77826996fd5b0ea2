"""search index on measures: SQLite FTS5 trigram table, PostgreSQL pg_trgm GIN index

Both serve ``LIKE '%word%'`` on the folded ``measures.search_text`` (models/search.py), which a
B-tree index cannot. SQLite: an external-content FTS5 table with the trigram tokenizer (SQLite
3.34+), kept in sync by triggers. PostgreSQL: a GIN index with ``gin_trgm_ops``; where the
``pg_trgm`` extension cannot be created (no contrib package, no privilege) the migration goes on
without it and search scans, as before.

A later migration that rebuilds ``measures`` in batch mode on SQLite drops these triggers with
the old table: it must create them again (``SQLITE_UP[1:]``). Without FTS5 trigram support (SQLite
older than 3.34) the migration goes on without the index; models/search.py checks for the table.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = (
    "CREATE VIRTUAL TABLE measures_fts USING fts5("
    "search_text, content='measures', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER measures_fts_ai AFTER INSERT ON measures BEGIN "
    "INSERT INTO measures_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER measures_fts_ad AFTER DELETE ON measures BEGIN "
    "INSERT INTO measures_fts(measures_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER measures_fts_au AFTER UPDATE OF search_text ON measures BEGIN "
    "INSERT INTO measures_fts(measures_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO measures_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO measures_fts(measures_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS measures_fts_au",
    "DROP TRIGGER IF EXISTS measures_fts_ad",
    "DROP TRIGGER IF EXISTS measures_fts_ai",
    "DROP TABLE IF EXISTS measures_fts",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        try:
            with bind.begin_nested():  # FTS5's trigram tokenizer needs SQLite 3.34 or later
                bind.execute(sa.text(SQLITE_UP[0]))
        except sa.exc.OperationalError:
            return  # an older SQLite: search keeps working without the index
        for statement in SQLITE_UP[1:]:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            return  # no pg_trgm here: search keeps working without the index
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_measures_search_trgm "
            "ON measures USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_measures_search_trgm")
