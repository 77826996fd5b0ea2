"""Engine, sessions and migrations for SQLite (default) and PostgreSQL.

The standard dialects as SQLAlchemy ships them: ``sqlite+aiosqlite`` and
``postgresql+asyncpg``. The bot opens one session per update (``bot/middlewares.py``) and may
end a session's transaction early, before it talks to Telegram, when the session has written
nothing (:func:`release_connection`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

import models.search_index  # noqa: F401  (registers the index's flush hook on every session)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration (tests/test_migrations.py checks that it is Alembic's head).
HEAD_REVISION = "0009"

# Connections per process. An update holds one only while it uses the database (the bot gives
# it back before talking to Telegram), so a few serve many updates in flight. No overflow: a
# connection opened for a burst and closed after it costs more than waiting for one.
POOL_SIZE = {"sqlite": 4, "postgresql": 20}


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler and the handlers write side by side; busy_timeout waits for a lock
    # instead of failing at once; SQLite checks foreign keys only when asked to.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> AsyncEngine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # hide_parameters: what people typed (the statement's parameters) stays out of error
    # messages and logs; the SQL itself is still shown.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if backend == "sqlite":
        database = parsed.database or ""
        if database not in ("", ":memory:"):
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=pool_size or POOL_SIZE["sqlite"], max_overflow=0)
        kwargs["connect_args"] = {"timeout": 10}
    else:
        # pre-ping: a connection the server ended (a restart) is replaced before it is used.
        kwargs.update(
            pool_size=pool_size or POOL_SIZE["postgresql"], max_overflow=0, pool_pre_ping=True
        )
    engine = create_async_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Schema comparison skips the search objects that live outside the models (migration
    0003): the vocabulary's SQLite FTS5 table (and its shadow tables) and its PostgreSQL trigram
    index."""
    return not (name or "").startswith(("search_words_fts", "ix_search_words_trgm"))


class BotSession(Session):
    """The sessions of the bot's pools: they note whether their transaction has written
    anything (:func:`release_connection`)."""


WROTE = "wrote"  # in Session.info while the session's transaction holds a write


@event.listens_for(BotSession, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    session.info[WROTE] = True


@event.listens_for(BotSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(BotSession, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def create_session_pool(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of one database (one per update, opened by the update middleware)."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, sync_session_class=BotSession
    )


async def release_connection(session: AsyncSession) -> bool:
    """End the session's transaction if it has written nothing (only read), so that its
    connection goes back to the pool; the session stays usable, its objects loaded, and a later
    statement takes a connection again. A session holding changes, written or not yet flushed,
    keeps its transaction until it commits. Returns whether a connection was given back.

    (Statements run through ``session.connection()`` directly and ``SELECT … FOR UPDATE`` are
    not seen as writes; the update handlers use neither.)"""
    if not session.in_transaction() or session.in_nested_transaction():
        return False
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        return False
    await session.commit()
    return True


def alembic_config() -> Config:
    from alembic.config import Config  # only when migrating: see migrate()

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _revision(connection: Connection) -> str | None:
    """The revision the database is at (None when never migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection) -> None:
    from alembic import command  # only when migrating: see migrate()

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending Alembic migration over the engine's own connection.

    A database already at ``HEAD_REVISION`` (every start but the first after an upgrade) is only
    read: Alembic and its templates are not even imported, which would cost the bot's process
    about 20 MiB for the rest of its life."""
    async with engine.begin() as connection:
        if await connection.run_sync(_revision) != HEAD_REVISION:
            await connection.run_sync(_upgrade)
