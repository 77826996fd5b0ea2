"""search by word forms: the index of terms per measure and the vocabulary with a trigram index

Replaces the substring search of migration 0002 (its SQLite FTS5 table on ``measures`` and its
PostgreSQL pg_trgm index), and the folded ``search_text`` columns it read, with:

- ``search_terms``: the stems of each measure's searchable text (models/search_index.py), with a
  B-tree index on the term;
- ``search_words``: the vocabulary (word, term), for typo correction. Its trigram index lives
  outside the models (``models.db.include_name``): on SQLite an external-content FTS5 table with
  the trigram tokenizer (SQLite 3.34+) kept in sync by triggers, on PostgreSQL a GIN index with
  ``gin_trgm_ops``. Where neither can be made (an older SQLite, no pg_trgm), the search reads the
  vocabulary without an index: the same results, slower.

The index of every existing measure is written here (the code of models/search_index.py at the
time of the upgrade), so a populated database searches at once.

Revision ID: 0003
Revises: 0002
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TEXT_TABLES = ("measures", "problem_issues", "departments")
SQLITE_UP = (
    "CREATE VIRTUAL TABLE search_words_fts USING fts5("
    "word, content='search_words', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_words_fts_ai AFTER INSERT ON search_words BEGIN "
    "INSERT INTO search_words_fts(rowid, word) VALUES (new.id, new.word); END",
    "CREATE TRIGGER search_words_fts_ad AFTER DELETE ON search_words BEGIN "
    "INSERT INTO search_words_fts(search_words_fts, rowid, word) "
    "VALUES ('delete', old.id, old.word); END",
    "CREATE TRIGGER search_words_fts_au AFTER UPDATE ON search_words BEGIN "
    "INSERT INTO search_words_fts(search_words_fts, rowid, word) "
    "VALUES ('delete', old.id, old.word); "
    "INSERT INTO search_words_fts(rowid, word) VALUES (new.id, new.word); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_words_fts_au",
    "DROP TRIGGER IF EXISTS search_words_fts_ad",
    "DROP TRIGGER IF EXISTS search_words_fts_ai",
    "DROP TABLE IF EXISTS search_words_fts",
)


def _previous() -> object:
    return importlib.import_module("models.migrations.versions.0002_search_index")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    previous = _previous()
    if dialect == "sqlite":
        for statement in previous.SQLITE_DOWN:  # type: ignore[attr-defined]
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_measures_search_trgm")
    for table in SEARCH_TEXT_TABLES:
        op.drop_column(table, "search_text")

    op.create_table(
        "search_terms",
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_search_terms_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("measure_id", "term", name=op.f("pk_search_terms")),
    )
    op.create_index(
        "ix_search_terms_term",
        "search_terms",
        ["term", "sort_key", "measure_id", "district_id"],
        unique=False,
    )
    op.create_table(
        "search_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_words")),
        sa.UniqueConstraint("word", "term", name=op.f("uq_search_words_word_term")),
    )

    if dialect == "sqlite":
        try:
            with bind.begin_nested():  # FTS5's trigram tokenizer needs SQLite 3.34 or later
                bind.execute(sa.text(SQLITE_UP[0]))
        except sa.exc.OperationalError:
            pass  # an older SQLite: the vocabulary is read without an index
        else:
            for statement in SQLITE_UP[1:]:
                op.execute(statement)
    elif dialect == "postgresql":
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            pass  # no pg_trgm here: the vocabulary is read without an index
        else:
            op.execute(
                "CREATE INDEX IF NOT EXISTS ix_search_words_trgm "
                "ON search_words USING gin (word gin_trgm_ops)"
            )

    from models.search_index import rebuild

    rebuild(bind)
    if dialect == "postgresql":  # the planner's statistics of the new tables, filled at once
        op.execute("ANALYZE search_terms")
        op.execute("ANALYZE search_words")


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_words_trgm")
    op.drop_table("search_words")
    op.drop_index("ix_search_terms_term", table_name="search_terms")
    op.drop_table("search_terms")
    for table in SEARCH_TEXT_TABLES:
        op.add_column(
            table,
            sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
        )
    _refill_search_text(bind)
    _previous().upgrade()  # type: ignore[attr-defined]


def _refill_search_text(bind: sa.Connection) -> None:
    """The folded texts that migration 0002's search read."""
    from models.text import fold

    meta = sa.MetaData()
    measures = sa.Table("measures", meta, autoload_with=bind)
    problems = sa.Table("problem_issues", meta, autoload_with=bind)
    departments = sa.Table("departments", meta, autoload_with=bind)
    links = sa.Table("measure_departments", meta, autoload_with=bind)
    names = ("name_ru", "name_kk", "name_en", "short_ru", "short_kk", "short_en")
    codes: dict[int, list[str]] = {}
    code_of = {row.id: row.code for row in bind.execute(sa.select(departments))}
    for row in bind.execute(sa.select(links).order_by(links.c.position)):
        codes.setdefault(row.measure_id, []).append(code_of[row.department_id])
    for row in bind.execute(sa.select(departments)):
        text = " ".join([row.code, row.alias_codes, *(getattr(row, n) for n in names)])
        bind.execute(
            departments.update().where(departments.c.id == row.id).values(search_text=fold(text))
        )
    titles = {}
    for row in bind.execute(sa.select(problems)):
        titles[row.id] = row.title
        bind.execute(
            problems.update().where(problems.c.id == row.id).values(search_text=fold(row.title))
        )
    for row in bind.execute(sa.select(measures.c.id, measures.c.problem_id, measures.c.text)):
        text = " ".join([titles[row.problem_id], row.text, *codes.get(row.id, [])])
        bind.execute(
            measures.update().where(measures.c.id == row.id).values(search_text=fold(text))
        )
