"""Scheduled jobs: each opens its own session, plans, commits, and logs what it did.

The planners take ``now`` so tests (and a catch-up run after downtime) control time; the jobs
pass the current time. Every job is idempotent through the queue's unique ``dedup_key``: running
one twice, late, or in two processes at once queues one copy of each message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.settings import Settings
from scheduler.announcements import advance_announcements
from scheduler.digest import plan_digests
from scheduler.followers import plan_follower_news
from scheduler.meetings import plan_meeting_reminders
from scheduler.reminders import plan_deadline_reminders

logger = logging.getLogger(__name__)

OnPlanned = Callable[[str, int], None]  # (job, notifications queued): the metrics
Planner = Callable[[AsyncSession, I18n, Settings, dt.datetime], Awaitable[Any]]


async def _run(
    name: str,
    planner: Planner,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    moment = now or dt.datetime.now(dt.UTC)
    async with session_pool() as session:
        result = await planner(session, i18n, settings, moment)
        await session.commit()
    counts = {k: int(v) for k, v in asdict(result).items()}
    logger.info("Job %s at %s: %s", name, moment.isoformat(timespec="seconds"), counts)
    if on_planned is not None:
        on_planned(name, counts.get("queued", 0))
    return counts


async def deadline_reminders_job(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None = None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    return await _run(
        "deadline_reminders", plan_deadline_reminders, session_pool, i18n, settings, now, on_planned
    )


async def morning_digest_job(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None = None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    return await _run("morning_digest", plan_digests, session_pool, i18n, settings, now, on_planned)


async def meeting_reminders_job(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None = None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    return await _run(
        "meeting_reminders", plan_meeting_reminders, session_pool, i18n, settings, now, on_planned
    )


async def follower_news_job(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None = None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    return await _run(
        "follower_news", plan_follower_news, session_pool, i18n, settings, now, on_planned
    )


async def announcements_job(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    now: dt.datetime | None = None,
    on_planned: OnPlanned | None = None,
) -> dict[str, int]:
    """Announcements recorded by admins: their messages queued in batches, then the reports."""
    moment = now or dt.datetime.now(dt.UTC)
    progress = await advance_announcements(session_pool, i18n, moment)
    counts = asdict(progress)
    if on_planned is not None and progress.queued:
        on_planned("announcements", progress.queued)
    if progress.queued or progress.reported:
        logger.info("Job announcements at %s: %s", moment.isoformat(timespec="seconds"), counts)
    return counts
