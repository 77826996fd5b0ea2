"""``python -m bench``: every benchmark, each figure printed against a baseline measured in the
same run (the machine may be shared and noisy: compare ratios, not absolute times).

    python -m bench                      # full size (200,000 users, 1,000,000 questions)
    python -m bench --scale 0.05         # a quick, CI-sized run
    python -m bench --backends sqlite --skip memory

The generated databases are kept (``data/bench/bench-<scale>.sqlite3`` and the PostgreSQL
database ``kezdesu_bench_<scale>``) and reused by later runs at the same scale.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import platform
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import dispatcher, generate, memory, planner, web
from models.db import create_engine

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SECTIONS = ("throughput", "planner", "web", "memory", "delivery")


def _tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def sqlite_url(scale: float) -> str:
    path = ROOT / "data" / "bench" / f"bench-{_tag(scale)}.sqlite3"
    return f"sqlite+aiosqlite:///{path}"


async def postgres_url(scale: float) -> str | None:
    """The bench database on the PostgreSQL server (created when missing), or None if the
    server does not answer."""
    name = f"kezdesu_bench_{_tag(scale)}"
    admin = create_engine(PG_URL)
    try:
        async with admin.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = (
                await autocommit.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
            ).first()
            if not exists:
                await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:  # noqa: BLE001 - any failure: no PostgreSQL run
        print(f"  PostgreSQL not available at {PG_URL}: {type(exc).__name__}: {exc}")
        return None
    finally:
        await admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _delivery() -> None:
    """The delivery worker's benchmark (bench/delivery.py, the scheduler area's), run once."""
    try:
        module = importlib.import_module("bench.delivery")
    except ModuleNotFoundError:
        print("  delivery: bench/delivery.py is not in this tree (skipped)")
        return
    result = await module.run()
    report = getattr(module, "report", None)
    print(report(result) if callable(report) and isinstance(result, dict) else result)


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    sizes = generate.Sizes.for_scale(args.scale)
    print(
        f"Kezdesu benchmarks — scale {args.scale:g}: {sizes.measures:,} measures, "
        f"{sizes.users:,} users, {sizes.questions:,} questions; "
        f"Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    sections = [s for s in SECTIONS if s not in args.skip]
    for backend in args.backends:
        print(f"\n[{backend}]")
        url = sqlite_url(args.scale) if backend == "sqlite" else await postgres_url(args.scale)
        if url is None:
            continue
        engine = await generate.ensure(url, args.scale, force=args.regenerate)
        try:
            if "throughput" in sections:
                comparison = await dispatcher.compare(
                    engine,
                    backend,
                    updates=args.updates,
                    rounds=args.rounds,
                    width=args.concurrency,
                    telegram_checks=args.telegram_checks,
                )
                for line in comparison.lines():
                    print(line)
                if comparison.forms_opened == 0:
                    print("    (the question form could not be opened: no form step measured)")
            if "planner" in sections:
                baseline, count, timings = await planner.measure(engine, rounds=args.rounds)
                for line in planner.lines(backend, baseline, count, timings):
                    print(line)
            if "web" in sections:
                result = await web.measure(engine, backend, requests=args.web_requests)
                for line in result.lines():
                    print(line)
        finally:
            await engine.dispose()
        if "memory" in sections:
            bot_peak, echo_peak = await memory.measure(
                url, users=args.memory_users, measures=sizes.measures, wait=args.memory_wait
            )
            for line in memory.lines(backend, bot_peak, echo_peak):
                print(line)
    if "delivery" in sections:
        print("\n[delivery]")
        await _delivery()
    print(f"\ndone in {time.perf_counter() - started:.0f} s")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="database size; 1 = full")
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["sqlite", "postgresql"])
    parser.add_argument("--skip", type=lambda s: s.split(","), default=[], help=",".join(SECTIONS))
    parser.add_argument("--updates", type=int, default=600, help="updates per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="throughput: updates in flight at once"
    )
    parser.add_argument(
        "--telegram-checks",
        action="store_true",
        help="throughput: let the fake Bot API also parse each message's HTML and check its "
        "limits as Telegram does (on both sides; off by default: Telegram's work, not the bot's)",
    )
    parser.add_argument(
        "--web-requests", type=int, default=400, help="web: requests per route (and static)"
    )
    parser.add_argument("--memory-users", type=int, default=100)
    parser.add_argument("--memory-wait", type=float, default=30.0)
    parser.add_argument("--regenerate", action="store_true", help="generate the databases anew")
    return parser.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse()))
