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
from models.db import alembic_config


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_async_engine(db_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    await engine.dispose()
    assert diff == []


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
