"""The web side on the generated database: latency of the measures list (``/api/v1/measures``,
unfiltered and filtered, at random offsets) and of a measure's page (``/m/<id>``, HTML), each
request sent over a real socket to the process's web application.

Baseline, measured in the same run and over the same kind of socket: a static aiohttp handler
(a fixed body, no middleware, no database). Requests take turns (static, list, page, …) one at
a time, so both sides see the same machine. Goal: each route's p99 within 10x the static p50.

    python -m bench.web --url sqlite+aiosqlite:///data/bench/bench-1.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import ClientSession, TCPConnector, web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import settle_heap
from bot.i18n import create_i18n
from models.db import create_engine, create_session_pool
from models.entities import District, Measure
from models.settings import Settings
from tests.harness import TOKEN
from web.app import create_web_app

GOAL = 10.0  # p99 of a route ≤ GOAL × the static handler's p50
STATIC_BODY = b'{"status":"ok"}'


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class WebResult:
    backend: str
    times: dict[str, list[float]] = field(default_factory=dict)  # route → seconds
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def p(self, route: str, q: float) -> float:
        return percentile(self.times[route], q) * 1000

    def lines(self) -> list[str]:
        static = self.p("static", 0.5)
        rows = [
            f"  web ({self.backend}): one request at a time over a socket to 127.0.0.1; "
            f"static aiohttp handler p50 {static:.2f} ms, p99 {self.p('static', 0.99):.2f} ms",
        ]
        for route in self.times:
            if route == "static":
                continue
            p50, p99 = self.p(route, 0.5), self.p(route, 0.99)
            verdict = "within" if p99 <= GOAL * static else "OVER"
            rows.append(
                f"    {route:<34} p50 {p50:6.2f} ms ({p50 / static:4.1f}x static p50), "
                f"p99 {p99:6.2f} ms ({p99 / static:4.1f}x; goal ≤ {GOAL:g}x: {verdict}); "
                f"HTTP {sorted(self.statuses[route])}, n={len(self.times[route])}"
            )
        return rows


async def _static(_request: web.Request) -> web.Response:
    return web.Response(body=STATIC_BODY, content_type="application/json")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # a free port, known before the site starts
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def measure(engine: AsyncEngine, backend: str, *, requests: int = 400) -> WebResult:
    pool = create_session_pool(engine)
    async with pool() as session:
        measure_ids = list((await session.execute(select(Measure.id))).scalars())
        slugs = list((await session.execute(select(District.slug))).scalars())
        total = int((await session.execute(select(func.count(Measure.id)))).scalar_one())
    settings = Settings(bot_token=TOKEN, _env_file=None)  # type: ignore[arg-type, call-arg]
    app = create_web_app(settings, pool, create_i18n("ru"))
    static_app = web.Application()
    static_app.router.add_get("/static", _static)
    settle_heap()  # as the bot's process does after start-up (bot/app.py)
    runner, base = await _serve(app)
    static_runner, static_base = await _serve(static_app)
    rnd = random.Random(16)
    offsets = max(1, min(total, 10_000) - 50)
    routes: dict[str, Callable[[], str]] = {
        "static": lambda: f"{static_base}/static",
        "measures list (50, any offset)": lambda: (
            f"{base}/api/v1/measures?limit=50&offset={rnd.randrange(offsets)}"
        ),
        "measures list (district, overdue)": lambda: (
            f"{base}/api/v1/measures?limit=50&district={rnd.choice(slugs)}&status=overdue"
        ),
        "measure page /m/<id> (HTML)": lambda: f"{base}/m/{rnd.choice(measure_ids)}?lang=ru",
    }
    result = WebResult(backend, {name: [] for name in routes}, {name: set() for name in routes})
    try:
        async with ClientSession(connector=TCPConnector(limit=1)) as http:
            for round_ in range(requests + 20):  # the first 20 rounds warm up
                for name, make in routes.items():
                    url = make()
                    started = time.perf_counter()
                    async with http.get(url) as response:
                        await response.read()
                    elapsed = time.perf_counter() - started
                    if round_ >= 20:
                        result.times[name].append(elapsed)
                        result.statuses[name].add(response.status)
    finally:
        await runner.cleanup()
        await static_runner.cleanup()
    return result


async def _main(url: str, requests: int) -> None:
    engine = create_engine(url)
    try:
        result = await measure(engine, "sqlite" if url.startswith("sqlite") else "postgresql",
                               requests=requests)  # fmt: skip
    finally:
        await engine.dispose()
    for line in result.lines():
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="a generated bench database")
    parser.add_argument("--requests", type=int, default=400, help="requests per route")
    options = parser.parse_args()
    asyncio.run(_main(options.url, options.requests))
