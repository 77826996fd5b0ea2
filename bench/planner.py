"""The scheduler's planners on the generated database: deadline reminders (the reminder planner),
the morning digest and the meeting reminders, each timed on the real function in a transaction
that is rolled back (so every round plans the same work).

Baseline, measured in the same run: reading every measure of the database as ORM objects (the
least any planner that looks at measures could do).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.i18n import create_i18n
from models.db import create_session_pool
from models.entities import Measure, Notification
from models.settings import Settings
from tests.harness import TOKEN

Planner = Callable[[AsyncSession, I18n, Settings, dt.datetime], Awaitable[Any]]


def planners() -> dict[str, Planner]:
    """The planners that exist in this tree (each area's scheduler work may come later)."""
    found: dict[str, Planner] = {}
    try:
        from scheduler.reminders import plan_deadline_reminders

        found["deadline reminders"] = plan_deadline_reminders
    except ImportError:
        pass
    try:
        from scheduler.digest import plan_digests

        found["morning digest"] = plan_digests
    except ImportError:
        pass
    try:
        from scheduler.meetings import plan_meeting_reminders

        found["meeting reminders"] = plan_meeting_reminders
    except ImportError:
        pass
    return found


@dataclass
class Timing:
    name: str
    seconds: float
    result: dict[str, Any]


async def _time(
    engine: AsyncEngine, work: Callable[[AsyncSession], Awaitable[Any]], rounds: int
) -> tuple[float, Any]:
    pool = create_session_pool(engine)
    best = float("inf")
    result: Any = None
    for _ in range(rounds):
        async with pool() as session:
            # Timed on an empty queue (as the first run of a day finds it); a bot that ran on
            # this database (the memory benchmark's) queued them for real. Rolled back below.
            await session.execute(delete(Notification))
            started = time.perf_counter()
            result = await work(session)
            await session.flush()
            best = min(best, time.perf_counter() - started)
            await session.rollback()
    return best, result


async def measure(engine: AsyncEngine, *, rounds: int = 3) -> tuple[float, int, list[Timing]]:
    """(baseline seconds, measures read, [planner timings]); the best of ``rounds`` each."""
    settings = Settings(
        bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=engine.url.render_as_string(hide_password=False),
        _env_file=None,  # type: ignore[call-arg]
    )
    i18n = create_i18n("ru")
    now = dt.datetime.now(dt.UTC)

    async def read_all(session: AsyncSession) -> int:
        return len(list((await session.execute(select(Measure))).scalars()))

    baseline, count = await _time(engine, read_all, rounds)
    timings = []
    for name, planner in planners().items():

        async def plan(session: AsyncSession, planner: Planner = planner) -> Any:
            return await planner(session, i18n, settings, now)

        seconds, result = await _time(engine, plan, rounds)
        summary = asdict(result) if hasattr(result, "__dataclass_fields__") else {"result": result}
        timings.append(Timing(name, seconds, summary))
    return baseline, count, timings


async def open_measures(engine: AsyncEngine) -> int:
    async with create_session_pool(engine)() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(Measure)
                    .where(Measure.status.in_(("planned", "in_progress")))
                )
            ).scalar_one()
        )


def lines(backend: str, baseline: float, count: int, timings: list[Timing]) -> list[str]:
    out = [
        f"  planners ({backend}): baseline = reading all {count:,} measures: "
        f"{baseline * 1000:.1f} ms"
    ]
    if not timings:
        out.append("    no planner found in scheduler/ (nothing measured)")
    for t in timings:
        out.append(
            f"    {t.name:<19} {t.seconds * 1000:8.1f} ms = "
            f"{t.seconds / baseline:6.2f}× baseline  {t.result}"
        )
    return out
