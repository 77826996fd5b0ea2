"""``kezdesu backup PATH``: a consistent SQLite copy while the bot is writing; on PostgreSQL the
pg_dump command, without the password."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import build_parser
from models.db import create_engine, migrate
from models.settings import Settings


async def run(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    code: int = await args.handler(settings, args)
    return code


def _settings(url: str) -> Settings:
    return Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


async def test_sqlite_backup_while_the_bot_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "kezdesu.sqlite3"
    url = f"sqlite+aiosqlite:///{live}"
    engine = create_engine(url)
    await migrate(engine)
    async with engine.begin() as connection:
        for n in range(50):
            await connection.execute(
                text(
                    "INSERT INTO notifications (kind, chat_id, is_group, quiet_hours, text, "
                    "status, attempts, not_before, created_at) VALUES ('test', :chat, 0, 0, "
                    "'hello', 'pending', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"chat": n},
            )
    target = tmp_path / "copy.sqlite3"
    # the bot is in the middle of a transaction: its uncommitted row is not in the copy
    async with engine.connect() as busy:
        await busy.execute(
            text(
                "INSERT INTO notifications (kind, chat_id, is_group, quiet_hours, text, status, "
                "attempts, not_before, created_at) VALUES ('test', 999, 0, 0, 'half', "
                "'pending', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        assert await run(_settings(url), "backup", str(target)) == 0
        await busy.rollback()
    await engine.dispose()
    assert "Backed up" in capsys.readouterr().out

    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM notifications").fetchone() == (50,)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    finally:
        copy.close()

    # never over an existing file, never from nothing
    assert await run(_settings(url), "backup", str(target)) == 1
    assert "exists already" in capsys.readouterr().err
    missing = f"sqlite+aiosqlite:///{tmp_path / 'nope.sqlite3'}"
    assert await run(_settings(missing), "backup", str(tmp_path / "x.sqlite3")) == 1
    assert "there is no database" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite3").exists()


async def test_postgresql_backup_prints_pg_dump_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+asyncpg://kezdesu:s3cr%40t@db.internal:5433/kezdesu"
    assert await run(_settings(url), "backup", "/backups/kezdesu 2026.dump") == 0
    out, err = capsys.readouterr()
    assert out.strip() == (
        "pg_dump --format=custom '--file=/backups/kezdesu 2026.dump' "
        "--dbname=postgresql://kezdesu@db.internal:5433/kezdesu"
    )
    assert "s3cr" not in out + err
    assert "PGPASSWORD" in err
