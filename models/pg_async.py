"""PostgreSQL over asyncpg: no transaction for reads, and no check before each use of a connection.

Round trips of a typical update saved here (``python -m bench`` measures them):

- **Transactions begin at the first write.** The dialect sends ``BEGIN`` before the first
  statement of every transaction and ``COMMIT`` at its end, so an update that only reads (a
  card, a search, a form step) paid two round trips for a transaction that protected nothing:
  under ``READ COMMITTED``, PostgreSQL's default, every statement takes its own snapshot inside a
  transaction or outside it. Here a plain ``SELECT`` that arrives while no transaction is open
  runs on its own; the first other statement (``INSERT``/``UPDATE``/``DELETE``, a savepoint,
  ``SELECT … FOR UPDATE``/``FOR SHARE``, a transaction-scoped advisory lock or setting) opens the
  transaction as before, and everything after it is inside: reads see the transaction's own
  writes, locks are held to the end, a rollback undoes every write. This is what Python's
  ``sqlite3`` module does for SQLite. Where the server's default isolation is stricter
  (``REPEATABLE READ``, ``SERIALIZABLE``: a snapshot for the whole transaction) or a connection
  is given an isolation level, every statement runs in the transaction as SQLAlchemy does.
- **No pre-ping.** A PostgreSQL restart must not cost a user an error; the pool's pre-ping
  guarded against it with a round trip before every use of a pooled connection. Here a statement
  sent while no transaction is open, on a connection the server has ended, is sent again on a
  new connection (:meth:`LazyBeginConnection.replay_if_lost`): nothing of the session was on the
  server, so nothing is lost or done twice. Inside a transaction the error is raised as before
  (the pool then replaces the connection), since its earlier statements died with it.

:func:`register` makes this the dialect of ``postgresql+asyncpg://`` URLs in this process
(``models.db`` calls it); everything else is SQLAlchemy's asyncpg dialect.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_cursor,
    AsyncAdapt_asyncpg_dbapi,
    PGDialect_asyncpg,
)
from sqlalchemy.util.concurrency import await_

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_SELECT = re.compile(r"\s*\(*\s*SELECT\b", re.IGNORECASE)
# What makes a SELECT more than a read: row locks, and functions scoped to the transaction.
_TRANSACTIONAL = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|_xact_|\bset_config\s*\(|\bINTO\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)
def plain_read(operation: str) -> bool:
    """True for a statement that only reads rows: it may run outside a transaction."""
    return bool(_SELECT.match(operation)) and not _TRANSACTIONAL.search(operation)


class LazyBeginCursor(AsyncAdapt_asyncpg_cursor):
    __slots__ = ()

    async def _prepare_and_execute(self, operation: Any, parameters: Any) -> None:
        connection = self._adapt_connection
        level = connection.isolation_level
        if (
            connection._transaction is not None
            or not (level == "read_committed" or (level is None and connection.dbapi.lazy_begin))
            or not plain_read(operation)
        ):
            await super()._prepare_and_execute(operation, parameters)
            return
        # The dialect begins a transaction unless the connection is in autocommit: for this one
        # read it is (a session uses its connection for one statement at a time).
        connection.isolation_level = "autocommit"
        try:
            await super()._prepare_and_execute(operation, parameters)
        finally:
            connection.isolation_level = level

    def execute(self, operation: Any, parameters: Any = None) -> None:
        connection = self._adapt_connection
        assert isinstance(connection, LazyBeginConnection)
        connection.replay_if_lost(
            lambda: AsyncAdapt_asyncpg_cursor.execute(self, operation, parameters)
        )

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection = self._adapt_connection
        assert isinstance(connection, LazyBeginConnection)
        return connection.replay_if_lost(
            lambda: AsyncAdapt_asyncpg_cursor.executemany(self, operation, seq_of_parameters)
        )


class LazyBeginConnection(AsyncAdapt_asyncpg_connection):
    """A connection that begins transactions lazily and, when the server has ended it (a restart,
    ``pg_terminate_backend``), opens a new one and sends the statement again, provided no
    transaction was open: then nothing of this session was on the server to lose. This replaces
    the pool's pre-ping, a round trip before every use of a pooled connection."""

    __slots__ = ("_reopen", "_setup")
    _cursor_cls = LazyBeginCursor
    _reopen: Callable[[], Awaitable[Any]]  # a new driver connection, as the first was made
    _setup: Callable[[Any], None] | None

    def replay_if_lost(self, run: Callable[[], _T]) -> _T:
        fresh = self._transaction is None
        try:
            return run()
        except self.dbapi.Error as error:
            if not (fresh and self._lost(error)):
                raise
        logger.info("PostgreSQL ended the connection; reconnecting and sending the statement again")
        self._reconnect()
        return run()

    def _lost(self, error: BaseException) -> bool:
        cause = error.__cause__
        return self._connection.is_closed() or isinstance(
            cause, asyncpg.InternalClientError | asyncpg.ConnectionDoesNotExistError | OSError
        )

    def _reconnect(self) -> None:
        self._connection.terminate()
        self._connection = await_(self._reopen())
        self._transaction = None
        if self._prepared_statement_cache is not None:
            self._prepared_statement_cache.clear()
        if self._setup is not None:
            self._setup(self)  # the dialect's own set-up of a new connection (type codecs)


class LazyBeginDBAPI(AsyncAdapt_asyncpg_dbapi):
    """SQLAlchemy's asyncpg DBAPI adapter whose connections begin transactions lazily."""

    def __init__(self, driver: Any) -> None:
        super().__init__(driver)
        # Switched on by the dialect once it knows the server's default isolation.
        self.lazy_begin = False

    def connect(self, *arg: Any, **kw: Any) -> LazyBeginConnection:
        creator_fn = kw.pop("async_creator_fn", self.asyncpg.connect)
        cache_size = kw.pop("prepared_statement_cache_size", 100)
        name_func = kw.pop("prepared_statement_name_func", None)
        connection = await_(
            LazyBeginConnection.create(
                self,
                creator_fn(*arg, **kw),
                prepared_statement_cache_size=cache_size,
                prepared_statement_name_func=name_func,
            )
        )
        connection._reopen = lambda: creator_fn(*arg, **kw)
        connection._setup = None  # given by the dialect's on_connect
        return connection


class KezdesuPGDialect(PGDialect_asyncpg):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> LazyBeginDBAPI:  # type: ignore[override]
        return LazyBeginDBAPI(asyncpg)

    def on_connect(self) -> Callable[[Any], None] | None:
        setup = super().on_connect()

        def connect(dbapi_connection: Any) -> None:
            if isinstance(dbapi_connection, LazyBeginConnection):
                dbapi_connection._setup = setup  # run again on a reconnected connection
            if setup is not None:
                setup(dbapi_connection)

        return connect

    def initialize(self, connection: Any) -> None:
        super().initialize(connection)
        # Statements outside a transaction are equivalent only under READ COMMITTED.
        dbapi = self.loaded_dbapi
        if isinstance(dbapi, LazyBeginDBAPI):
            dbapi.lazy_begin = self.default_isolation_level == "READ COMMITTED"


def register() -> None:
    registry.register("postgresql.asyncpg", __name__, KezdesuPGDialect.__name__)
