"""Background work started and stopped with the bot: the APScheduler jobs and the delivery worker.

``start_background`` is a ``dp.startup`` hook and ``stop_background`` a ``dp.shutdown`` hook
(registered in ``bot.app.create_dispatcher``); both receive the Dispatcher's workflow data. The
scheduler keeps its jobs in memory (they carry the Bot and the session pool, which must not be
serialised): they are registered afresh at every start with explicit ids and
``replace_existing``; durability lives in the queue table. Jobs, in Asia/Almaty (``TIMEZONE``):

- ``deadline_reminders``: daily at 09:05, and once at start (a catch-up after downtime);
- ``morning_digest``: daily at 09:00, and once at start when that is between 09:00 and the start
  of the quiet hours (today's digest was missed);
- ``meeting_reminders``: every 15 minutes, the first run at start;
- ``follower_news``: daily at 10:00, and once at start (followers told of measures that slipped
  past their due date, and early in the month their monthly summary);
- ``announcements``: every 5 seconds, the messages of recorded announcements queued in batches
  and, once all have been tried, the delivery report to their author.

Pass ``run_background=False`` as workflow data to ``create_dispatcher`` to leave them off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import (
    announcements_job,
    deadline_reminders_job,
    follower_news_job,
    meeting_reminders_job,
    morning_digest_job,
)

logger = logging.getLogger(__name__)

RUNTIME_KEY = "background"
JOB_DEFAULTS: dict[str, Any] = {
    "max_instances": 1,
    "coalesce": True,
    "misfire_grace_time": 6 * 3600,
}


@dataclass
class Background:
    scheduler: AsyncIOScheduler
    worker: DeliveryWorker
    worker_task: asyncio.Task[None]

    @property
    def worker_alive(self) -> bool:
        """False once the worker's task has ended (stopped, or died of an error)."""
        return not self.worker_task.done()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.worker.stop()


def create_scheduler(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    on_planned: Callable[[str, int], None] | None = None,
) -> AsyncIOScheduler:
    """The scheduler with every job registered (not started). ``on_planned(job, queued)`` is
    told how many notifications each run queued (the metrics)."""
    tz = settings.tz
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    scheduler = AsyncIOScheduler(timezone=tz, job_defaults=JOB_DEFAULTS)
    kwargs = {
        "session_pool": session_pool,
        "i18n": i18n,
        "settings": settings,
        "on_planned": on_planned,
    }
    scheduler.add_job(
        deadline_reminders_job,
        CronTrigger(hour=9, minute=5, timezone=tz),
        id="deadline_reminders",
        name="Deadline reminders to departments",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    scheduler.add_job(
        deadline_reminders_job,
        "date",
        run_date=moment + dt.timedelta(seconds=20),
        id="deadline_reminders_catch_up",
        name="Deadline reminders (catch-up at start)",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    scheduler.add_job(
        morning_digest_job,
        CronTrigger(hour=9, minute=0, timezone=tz),
        id="morning_digest",
        name="Morning digest to departments",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    if 9 <= moment.hour < settings.quiet_hours_start:
        scheduler.add_job(
            morning_digest_job,
            "date",
            run_date=moment + dt.timedelta(seconds=40),
            id="morning_digest_catch_up",
            name="Morning digest (catch-up at start)",
            replace_existing=True,
            **JOB_DEFAULTS,
            kwargs=kwargs,
        )
    scheduler.add_job(
        announcements_job,
        IntervalTrigger(seconds=5, timezone=tz),
        id="announcements",
        name="Announcements: queue in batches, report delivery",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    scheduler.add_job(
        meeting_reminders_job,
        IntervalTrigger(minutes=15, timezone=tz),
        id="meeting_reminders",
        name="Meeting reminders to district followers",
        replace_existing=True,
        **JOB_DEFAULTS,
        next_run_time=moment + dt.timedelta(seconds=10),
        kwargs=kwargs,
    )
    scheduler.add_job(
        follower_news_job,
        CronTrigger(hour=10, minute=0, timezone=tz),
        id="follower_news",
        name="Overdue notices and monthly summaries to followers",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    scheduler.add_job(
        follower_news_job,
        "date",
        run_date=moment + dt.timedelta(seconds=30),
        id="follower_news_catch_up",
        name="Follower news (catch-up at start)",
        replace_existing=True,
        **JOB_DEFAULTS,
        kwargs=kwargs,
    )
    return scheduler


async def start_background(
    dispatcher: Dispatcher,
    bot: Bot,
    settings: Settings,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    **_: Any,
) -> None:
    """``dp.startup`` hook: start the scheduler and the delivery worker of this process."""
    if not dispatcher.workflow_data.get("run_background", True):
        return
    if isinstance(dispatcher.workflow_data.get(RUNTIME_KEY), Background):
        return  # already running (a second startup of the same Dispatcher)
    metrics = dispatcher.workflow_data.get("metrics")
    on_planned = getattr(metrics, "planned", None)
    scheduler = create_scheduler(session_pool, i18n, settings, on_planned=on_planned)
    worker = DeliveryWorker(bot, session_pool, settings)
    scheduler.start()
    task = worker.start()
    dispatcher.workflow_data[RUNTIME_KEY] = Background(scheduler, worker, task)
    logger.info(
        "Scheduler started with jobs %s; delivery worker %s at %.0f messages/s",
        ", ".join(job.id for job in scheduler.get_jobs()),
        worker.worker_id,
        settings.rate_limit_per_second,
    )


async def stop_background(dispatcher: Dispatcher, **_: Any) -> None:
    """``dp.shutdown`` hook: stop the scheduler, let the worker finish its message in flight."""
    background = dispatcher.workflow_data.pop(RUNTIME_KEY, None)
    if isinstance(background, Background):
        await background.stop()
        logger.info("Scheduler and delivery worker stopped")
