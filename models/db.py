"""Engine, session factory and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from models import pg_async, sqlite_async
from models.reads import (
    READER,
    ReadConnections,
    close_reader,
    engine_reader,
    held_connection,
    keep_reader,
)
from models.search import SearchCache
from models.users import ProfileCache

pg_async.register()  # postgresql+asyncpg: transactions begin at the first write, no pre-ping

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the scheduler and the handlers write side by side; busy_timeout waits for a lock
    # instead of failing at once; SQLite checks foreign keys only when asked to.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Connections per process. Each update holds one only while it uses the database (the bot gives
# it back before talking to Telegram: bot/middlewares.ReleaseConnectionBeforeRequest), so a few
# serve many updates in flight. No overflow: a connection opened for a burst and closed after it
# cost more than waiting for one (on SQLite a thread, the pragmas and a cold statement cache; on
# PostgreSQL a server process): ``python -m bench`` saw 317 connections opened in 3,000 updates
# with 16 in flight under SQLAlchemy's default of 5 + 10, and more CPU per update with each
# SQLite connection (a thread) kept.
POOL_SIZE = {"sqlite": 4, "postgresql": 20}


def create_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    backend = parsed.get_backend_name()
    database = parsed.database or ""
    on_file = backend == "sqlite" and database not in ("", ":memory:")
    if backend == "sqlite":
        if on_file:
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=pool_size or POOL_SIZE["sqlite"], max_overflow=0)
        # check_same_thread off: short reads run in the event loop's thread, everything else in
        # aiosqlite's (models/sqlite_async.py); sqlite3 is serialized, so either is safe.
        kwargs["connect_args"] = {"timeout": 10, "check_same_thread": False}
        # Every use goes through a SQLAlchemy Connection (sessions, engine.begin/connect), whose
        # close() already rolls back a transaction left open; after a commit there is nothing to
        # reset, and the pool's extra rollback would be one more aiosqlite thread hop per update.
        kwargs["pool_reset_on_return"] = None
        if parsed.get_driver_name() == "aiosqlite":
            kwargs["module"] = sqlite_async.dbapi()  # one thread hand-off per statement
    else:
        # No pre-ping: a connection the server ended is replaced when first used
        # (models/pg_async.LazyBeginConnection), without a round trip before every use.
        kwargs.update(pool_size=pool_size or POOL_SIZE.get(backend, 20), max_overflow=0)
    engine = Engine(create_async_engine(url, **kwargs).sync_engine)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        if on_file and parsed.get_driver_name() == "aiosqlite":
            keep_reader(engine, sqlite_async.LoopReader(parsed))
    elif (size := kwargs["pool_size"] * READ_SHARE[0] // READ_SHARE[1]) > 0:
        keep_reader(engine, ReadConnections(engine, size))
    return engine


# On PostgreSQL, up to 2 in 5 pool connections stay open for the reads every update runs
# (models/reads.ReadConnections): 8 of the default 20, none with a pool under 3. With 16 updates
# in flight, 8 served the reads measurably better than 2 or 4 (python -m bench); the others
# serve the sessions, which hold one only while they write.
READ_SHARE = (2, 5)


class Engine(AsyncEngine):
    """The bot's engine: ``dispose()`` first closes its reader (models/reads.py)."""

    __slots__ = ()

    async def dispose(self, close: bool = True) -> None:
        await close_reader(self)
        await super().dispose(close)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Schema comparison skips the search index objects that live outside the models: the
    SQLite FTS5 table (and its shadow tables) and the PostgreSQL trigram index (migration 0002)."""
    return not (name or "").startswith(("measures_fts", "ix_measures_search_trgm"))


PROFILE_CACHE_SECONDS = 30.0
SEARCH_CACHE_SECONDS = 60.0


def create_session_pool(
    engine: AsyncEngine,
    *,
    profile_cache_seconds: float = PROFILE_CACHE_SECONDS,
    search_cache_seconds: float = SEARCH_CACHE_SECONDS,
) -> async_sessionmaker[AsyncSession]:
    """Sessions of one database. They share a cache of recently read profiles
    (:class:`models.users.ProfileCache`) and one of search matches
    (:class:`models.search.SearchCache`), both emptied by their own writes; 0 seconds turns
    either off."""
    info: dict[str, Any] = {
        "profile_cache": ProfileCache(profile_cache_seconds),
        "search_cache": SearchCache(search_cache_seconds),
    }
    reader = engine_reader(engine)
    if reader is not None:
        info[READER] = reader  # models/reads.read_rows
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending Alembic migration over the engine's own connection."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def driver_transaction_open(dbapi_connection: Any) -> bool:
    """Whether the database has a transaction of this connection open: something written or
    locked there. Our drivers begin one only at the first write (models/sqlite_async.py,
    models/pg_async.py); for any other driver the answer is yes."""
    if isinstance(dbapi_connection, sqlite_async.OneHopConnection):
        return bool(dbapi_connection.in_transaction)
    if isinstance(dbapi_connection, pg_async.LazyBeginConnection):
        return dbapi_connection._transaction is not None
    return True


def _pending(session: Session | AsyncSession) -> bool:
    return bool(session.new or session.dirty or session.deleted)


async def release_idle_connection(session: AsyncSession) -> bool:
    """Give the session's connection back to the pool when the database holds nothing of the
    session's (no transaction open there: nothing written, nothing locked) and the session has
    nothing to write. The session stays usable: its objects stay loaded, and a later statement
    takes a connection again. Returns whether it released one."""
    sync = session.sync_session
    held = held_connection(sync)
    if held is None or sync.in_nested_transaction() or _pending(sync):
        return False
    if driver_transaction_open(held.connection.dbapi_connection):
        return False
    await session.commit()  # sends nothing to the database: there is no transaction to end
    return True


class SessionShelf:
    """Sessions of one pool, kept between updates (the bot's update middleware takes one per
    update). Making a session and closing it through ``AsyncSession``'s ``async with`` (which
    closes in a task of its own, shielded) cost a few percent of a whole update
    (``python -m bench``); a session that holds no connection when its update ends is emptied
    and kept instead, up to ``keep`` of them. One that still holds a connection, or whose update
    failed, is closed as usual and not kept."""

    def __init__(self, pool: async_sessionmaker[AsyncSession], keep: int = 64) -> None:
        self.pool = pool
        self.keep = keep
        self._idle: list[AsyncSession] = []

    def take(self) -> AsyncSession:
        while self._idle:
            session = self._idle.pop()
            if session.bind is self.pool.kw.get("bind"):  # not kept across pool.configure()
                return session
        return self.pool()

    async def give_back(self, session: AsyncSession, *, failed: bool = False) -> None:
        sync = session.sync_session
        if failed or held_connection(sync) is not None or len(self._idle) >= self.keep:
            await session.close()
            return
        # Nothing to end in the database: closing only forgets the objects and the transaction
        # (no I/O, so no greenlet needed), as a new session would start.
        sync.close()
        self._idle.append(session)


def needs_commit(session: AsyncSession) -> bool:
    """Whether committing would do anything: changes waiting to be written, or a connection
    (and what the database holds for it) to end."""
    return _pending(session) or held_connection(session.sync_session) is not None
