"""Developer helper: the README's screenshot of a measure page (docs/measure-page.png).

    python tools/web_screenshot.py [OUT.png]

It loads the demo plan into a throwaway SQLite database, records a department's report on one
measure, serves the web side on 127.0.0.1 and has headless Chromium (Debian's ``chromium``)
take the page at a phone's width."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.i18n import create_i18n  # noqa: E402
from models.db import create_engine, create_session_pool, migrate  # noqa: E402
from models.demo import load_demo  # noqa: E402
from models.entities import Measure, MeasureDepartment, MeasureStatus, MeasureUpdate  # noqa: E402
from models.settings import Settings  # noqa: E402
from web.app import create_web_app  # noqa: E402

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]  # fmt: skip


async def main(out: Path) -> None:
    folder = Path(tempfile.mkdtemp())
    engine = create_engine(f"sqlite+aiosqlite:///{folder}/demo.sqlite3")
    await migrate(engine)
    pool = create_session_pool(engine)
    async with pool() as session:
        await load_demo(session)
        measure = (await session.execute(select(Measure).order_by(Measure.id))).scalars().first()
        assert measure is not None
        link = (
            (
                await session.execute(
                    select(MeasureDepartment).where(MeasureDepartment.measure_id == measure.id)
                )
            )
            .scalars()
            .first()
        )
        measure.status, measure.progress = MeasureStatus.IN_PROGRESS, 60
        session.add(
            MeasureUpdate(
                measure_id=measure.id,
                department_id=link.department_id if link else None,
                kind="status",
                status=MeasureStatus.IN_PROGRESS,
                progress=60,
                comment="Заменено 48 км кабельных линий, работы продолжаются.",
                created_at=dt.datetime(2023, 5, 12, 6, 0, tzinfo=dt.UTC),
            )
        )
        await session.commit()
        measure_id = measure.id
    settings = Settings(bot_token="1:A", _env_file=None)  # type: ignore[arg-type, call-arg]
    runner = web.AppRunner(create_web_app(settings, pool, create_i18n("ru")))
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/m/{measure_id}?lang=ru"
    command = [
        "chromium", *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--screenshot={out}",
        "--window-size=412,1000", url,
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(*command, stderr=subprocess.DEVNULL)
    await process.wait()
    await runner.cleanup()
    await engine.dispose()
    print(f"{out}: {url}")  # noqa: T201


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "measure-page.png"
    asyncio.run(main(target))
