"""``kezdesu backup PATH``: a consistent copy of the database while the bot runs.

SQLite: sqlite3's online backup API (``sqlite3.Connection.backup``) copies the database page by
page under the database's own locks, so the copy is consistent even while the bot writes (a plain
``cp`` of a WAL database can miss the last transactions or catch one half written).
PostgreSQL: the server's own tool does it; the command prints the ``pg_dump`` command line for
the configured database, without the password (``PGPASSWORD`` or ``~/.pgpass`` supply it).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sqlite3
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from models.settings import Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backup",
        help="copy the SQLite database safely while the bot runs (PostgreSQL: print the "
        "pg_dump command)",
    )
    p.add_argument("path", type=Path, help="the file to write (it must not exist yet)")
    p.set_defaults(handler=backup)


def _fail(message: str) -> int:
    print(f"kezdesu backup: {message}", file=sys.stderr)  # noqa: T201
    return 1


async def backup(settings: Settings, args: argparse.Namespace) -> int:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        print(pg_dump_command(url, args.path))  # noqa: T201
        if url.password:
            print(  # noqa: T201
                "The password is not shown: pg_dump reads it from PGPASSWORD or ~/.pgpass.",
                file=sys.stderr,
            )
        return 0
    if url.get_backend_name() != "sqlite":
        return _fail(f"cannot back up a {url.get_backend_name()} database")
    database = url.database or ""
    if database in ("", ":memory:"):
        return _fail("the database is in memory; there is nothing on disk to copy")
    try:
        done = await asyncio.to_thread(backup_sqlite, Path(database), args.path)
    except BackupError as exc:
        return _fail(str(exc))
    print(done)  # noqa: T201
    return 0


class BackupError(Exception):
    pass


def backup_sqlite(source: Path, target: Path) -> str:
    """Copy the database at ``source`` to the new file ``target``; returns what was done."""
    source = source.expanduser()
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already; choose another path")
    if not target.parent.is_dir():
        raise BackupError(f"there is no directory {target.parent}")
    pages = copy_sqlite(source, target)
    return f"Backed up {source} to {target}: {pages} pages, {target.stat().st_size} bytes."


def copy_sqlite(source: Path, target: Path) -> int:
    """Copy with the online backup API in one step: one read transaction, so the copy is one
    consistent snapshot, and in WAL mode (the bot's) the bot's writers are not held up by it;
    returns the pages copied."""
    copied = 0

    def progress(_status: int, remaining: int, total: int) -> None:
        nonlocal copied
        copied = total - remaining

    live = sqlite3.connect(source, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            live.backup(copy, pages=-1, progress=progress)
        finally:
            copy.close()
    finally:
        live.close()
    return copied


def pg_dump_command(url: URL, target: Path) -> str:
    """The pg_dump command line for ``url`` (its driver and password left out)."""
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return shlex.join(
        [
            "pg_dump",
            "--format=custom",
            f"--file={target}",
            f"--dbname={plain.render_as_string(hide_password=False)}",
        ]
    )
