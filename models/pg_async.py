"""PostgreSQL over asyncpg with a connection check of one round trip.

``pool_pre_ping`` checks each connection as it leaves the pool (a PostgreSQL restart must not
cost a user an error). SQLAlchemy's asyncpg dialect checks with three round trips (``BEGIN``,
``;``, ``ROLLBACK``: a transaction for pgbouncer's transaction mode and asyncpg's prepared
statements). ``Connection.execute("SELECT 1")`` without arguments uses PostgreSQL's simple query
protocol, no prepared statement, so one round trip does the same check, behind pgbouncer too.
On a busy update that was half of its round trips to the server (``python -m bench``).

:func:`register` makes this the dialect of ``postgresql+asyncpg://`` URLs in this process
(``models.db`` calls it); everything else is SQLAlchemy's asyncpg dialect.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.util.concurrency import await_


class OneTripPingDialect(PGDialect_asyncpg):
    supports_statement_cache = True

    def do_ping(self, dbapi_connection: Any) -> bool:
        """True when the connection answers; False when the server ended it (the pool then
        replaces it and every connection older than now); other errors are raised as the
        dialect's own ping raises them."""
        driver = dbapi_connection._connection
        try:
            await_(driver.execute("SELECT 1"))
        except Exception as error:
            # A server that ended the session (restart, pg_terminate_backend) shows either as a
            # closed connection or, when its goodbye arrived before the close, as a protocol
            # stuck in another operation.
            if driver.is_closed() or isinstance(error, asyncpg.InternalClientError):
                return False
            dbapi_connection._handle_exception(error)  # translated like the dialect's ping
            raise
        return True


def register() -> None:
    registry.register("postgresql.asyncpg", __name__, OneTripPingDialect.__name__)
