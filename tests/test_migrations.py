"""Migrations: they build exactly the models' schema, and go down and up again cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from models import entities  # noqa: F401
from models.base import Base
from models.db import HEAD_REVISION, alembic_config, include_name


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_async_engine(db_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    await engine.dispose()
    assert diff == []


def test_head_revision_is_alembics_head() -> None:
    """``migrate()`` skips Alembic for a database at ``HEAD_REVISION``: it must be the head."""
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD_REVISION]


def _stairway(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    script = ScriptDirectory.from_config(config)
    revisions = list(script.walk_revisions("base", "heads"))
    assert revisions, "no migrations"
    command.downgrade(config, "base")
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    command.upgrade(config, "heads")


async def test_stairway_down_and_up(tmp_path: object, sqlite_template: object) -> None:
    import shutil
    from pathlib import Path

    path = Path(str(tmp_path)) / "stairway.sqlite3"
    shutil.copy(str(sqlite_template), path)
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(_stairway)
    await engine.dispose()


async def test_migrations_apply_to_an_empty_postgresql_database() -> None:
    """A brand-new PostgreSQL database (created and dropped here): up, down to base, up again,
    and the result is exactly the models' schema."""
    import os
    import uuid

    import pytest
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL, postgres_available

    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (set TEST_POSTGRES_URL)")
    name = f"kezdesu_fresh_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            tables = await connection.run_sync(lambda c: c.dialect.get_table_names(c))
            assert tables == [], "the database must start empty"
            await connection.run_sync(_stairway)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
