"""Settings: a missing or malformed setting stops the bot with one clear line, never a
traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from models.db import POOL_SIZE, create_engine
from models.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_without_bot_token_one_clear_line_and_nonzero_exit(tmp_path: Path) -> None:
    result = _run({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == ["kezdesu: BOT_TOKEN is not set (put it in the environment or in .env)"]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOT_TOKEN": "nonsense"}, "BOT_TOKEN is invalid"),
        ({"BOT_TOKEN": "1:a", "ADMIN_IDS": "12,abc"}, "ADMIN_IDS is invalid"),
        ({"BOT_TOKEN": "1:a", "DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE is invalid"),
        ({"BOT_TOKEN": "1:a", "TIMEZONE": "Mars/Olympus"}, "TIMEZONE is invalid"),
        ({"BOT_TOKEN": "1:a", "DATABASE_URL": "mysql://x"}, "DATABASE_URL is invalid"),
        ({"BOT_TOKEN": "1:a", "REMINDER_DAYS": "7,-1"}, "REMINDER_DAYS is invalid"),
        ({"BOT_TOKEN": "1:a", "DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE is invalid"),
        ({"BOT_TOKEN": "1:a", "WEB_PUBLIC_URL": "http://x.kz"}, "WEB_PUBLIC_URL is invalid"),
        ({"BOT_TOKEN": "1:a", "WEB_PUBLIC_URL": "kezdesu.kz"}, "WEB_PUBLIC_URL is invalid"),
        ({"BOT_TOKEN": "1:a", "WEB_PORT": "70000"}, "WEB_PORT is invalid"),
        ({"BOT_TOKEN": "1:a", "WEB_PORT": "http"}, "WEB_PORT is invalid"),
        (
            {
                "BOT_TOKEN": "1:a",
                "WEB_PORT": "0",
                "WEBHOOK_URL": "https://x.kz/h",
                "WEBHOOK_SECRET": "s",
            },
            "WEB_PORT is invalid: webhook mode needs the web server",
        ),
        (
            {
                "BOT_TOKEN": "1:a",
                "WEBHOOK_URL": "https://x.kz",
                "WEBHOOK_SECRET": "s",
                "WEBHOOK_PATH": "/api/v1/x",
            },
            "WEBHOOK_PATH is invalid",
        ),
    ],
)
def test_malformed_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    result = _run(env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_parse_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("ADMIN_IDS", "1, 2;3")
    monkeypatch.setenv("REMINDER_DAYS", "1,30,7")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.reminder_days == (30, 7, 1)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.database_pool_size is None  # the backend's default (models/db.POOL_SIZE)


async def test_the_pool_size_is_the_settings_or_the_backends(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}"
    for size, expected in ((None, POOL_SIZE["sqlite"]), (7, 7)):
        engine = create_engine(url, pool_size=size)
        assert engine.pool.size() == expected  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
        await engine.dispose()
    engine = create_engine("postgresql+asyncpg://u@127.0.0.1/db")
    assert engine.pool.size() == POOL_SIZE["postgresql"]  # type: ignore[attr-defined]
    await engine.dispose()


def test_token_is_required_only_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    settings = load_settings(_env_file=None)
    with pytest.raises(ConfigError, match="BOT_TOKEN is not set"):
        settings.token()


def test_migrate_and_demo_subcommands(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"
    result = _run({"DATABASE_URL": url}, "migrate")
    assert result.returncode == 0, result.stderr
    assert "Database is up to date" in result.stdout
    first = _run({"DATABASE_URL": url}, "demo")
    assert first.returncode == 0, first.stderr
    assert "added problems: 10, measures: 12" in first.stdout
    second = _run({"DATABASE_URL": url}, "demo")
    assert "already present" in second.stdout
    assert "added problems: 0, measures: 0; updated: 0; unchanged: 12" in second.stdout


def test_web_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEB_PUBLIC_URL", "https://kezdesu.example.kz/ ")
    settings = load_settings(_env_file=None)
    assert settings.web_public_url == "https://kezdesu.example.kz"
    assert (settings.web_host, settings.web_port) == ("0.0.0.0", 8080)
    # the server's former names are still read
    monkeypatch.setenv("WEBHOOK_HOST", "127.0.0.1")
    monkeypatch.setenv("WEBHOOK_PORT", "8081")
    assert (load_settings(_env_file=None).web_host, load_settings(_env_file=None).web_port) == (
        "127.0.0.1",
        8081,
    )
    monkeypatch.setenv("WEB_PORT", "0")
    assert load_settings(_env_file=None).web_port == 0


async def test_a_busy_web_port_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = await asyncio.to_thread(
            _run,
            {
                "BOT_TOKEN": "1:a",
                "WEB_HOST": "127.0.0.1",
                "WEB_PORT": str(port),
                "LOG_LEVEL": "ERROR",
                "TELEGRAM_API_URL": "http://127.0.0.1:9",
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
            },
        )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("kezdesu: WEB_PORT is invalid: cannot listen on 127.0.0.1:")
