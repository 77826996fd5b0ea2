"""What a polling bot's process loads: a start on a migrated database with ``WEB_PORT=0`` reads
the database's revision and builds the Dispatcher, and leaves out what it does not use: Alembic
and Mako (no migration is due), the web side's pages and templates (no web server), matplotlib and
openpyxl (no chart, import or export yet). Each is megabytes for the process's whole life."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

NOT_LOADED = ("alembic", "mako", "jinja2", "aiohttp_jinja2", "web.app", "matplotlib", "openpyxl")


def test_a_polling_start_loads_only_what_it_uses(tmp_path: Path, sqlite_template: object) -> None:
    path = tmp_path / "migrated.sqlite3"
    shutil.copy(str(sqlite_template), path)
    script = (
        "import asyncio, sys\n"
        "from bot.app import create_dispatcher, prepare_database\n"
        "from models.settings import Settings\n"
        f"settings = Settings(bot_token='42:T', database_url='sqlite+aiosqlite:///{path}',"
        " web_port=0, _env_file=None)\n"
        "engine, pool = asyncio.run(prepare_database(settings))\n"
        "create_dispatcher(settings, pool)\n"
        f"print(sorted(m for m in {NOT_LOADED!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stderr
