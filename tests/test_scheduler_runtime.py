"""The scheduler and the delivery worker start and stop with the bot; ``kezdesu queue`` reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendMessage
from apscheduler.triggers.cron import CronTrigger

from bot.cli import main
from bot.i18n import CatalogI18n
from models.db import create_engine, create_session_pool
from models.entities import Notification
from models.settings import Settings
from scheduler.queue import enqueue
from scheduler.runtime import RUNTIME_KEY, Background, create_scheduler
from tests.harness import RecordingSession

ALMATY = ZoneInfo("Asia/Almaty")
BAD_GATEWAY = "TelegramServerError: Bad Gateway"


def test_jobs_are_registered_in_almaty_time_with_safe_defaults(i18n: CatalogI18n) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    morning = dt.datetime(2026, 3, 10, 10, 0, tzinfo=ALMATY)
    scheduler = create_scheduler(None, i18n, settings, now=morning)  # type: ignore[arg-type]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "deadline_reminders",
        "deadline_reminders_catch_up",
        "morning_digest",
        "morning_digest_catch_up",  # started at 10:00: today's digest was missed
        "meeting_reminders",
        "follower_news",
        "follower_news_catch_up",
        "announcements",
    }
    for job in jobs.values():
        assert job.max_instances == 1
        assert job.coalesce is True
        assert job.misfire_grace_time >= 3600
        assert job.kwargs["settings"] is settings
    digest = jobs["morning_digest"].trigger
    assert isinstance(digest, CronTrigger)
    assert str(digest.timezone) == "Asia/Almaty"
    fire = digest.get_next_fire_time(None, morning)
    assert fire == dt.datetime(2026, 3, 11, 9, 0, tzinfo=ALMATY)
    news = jobs["follower_news"].trigger
    tomorrow = dt.datetime(2026, 3, 11, 10, 0, tzinfo=ALMATY)
    assert news.get_next_fire_time(None, morning.replace(minute=1)) == tomorrow
    night = create_scheduler(None, i18n, settings, now=morning.replace(hour=23))  # type: ignore[arg-type]
    assert "morning_digest_catch_up" not in {job.id for job in night.get_jobs()}


async def test_started_and_stopped_with_the_dispatcher(
    dp: Any, bot: Any, bot_session: RecordingSession, session_pool: Any
) -> None:
    async with session_pool() as session:
        await enqueue(session, chat_id=4242, text="queued before the start", kind="test",
                      quiet_hours=False)  # fmt: skip
        await session.commit()
    await dp.emit_startup(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)
    background = dp.workflow_data[RUNTIME_KEY]
    assert isinstance(background, Background)
    assert background.scheduler.running
    assert {j.id for j in background.scheduler.get_jobs()} >= {
        "deadline_reminders",
        "morning_digest",
        "meeting_reminders",
    }
    task = background.worker_task
    assert not task.done() and background.worker_alive
    try:
        deadline = time.monotonic() + 120  # the worker sends it on its first pass
        while time.monotonic() < deadline:
            if any(isinstance(r.method, SendMessage) for r in bot_session.requests):
                break
            await asyncio.sleep(0.02)
        sent = [r.method for r in bot_session.requests if isinstance(r.method, SendMessage)]
        assert [m.chat_id for m in sent] == [4242]
    finally:
        await dp.emit_shutdown(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)
    assert RUNTIME_KEY not in dp.workflow_data
    assert not background.scheduler.running
    assert task.done()


async def test_background_can_be_left_off(
    settings: Settings, session_pool: Any, bot: Any, i18n: CatalogI18n
) -> None:
    from bot.app import create_dispatcher

    dp = create_dispatcher(settings, session_pool, i18n, run_background=False)
    await dp.emit_startup(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)
    assert RUNTIME_KEY not in dp.workflow_data
    await dp.emit_shutdown(bot=bot, dispatcher=dp, bots=[bot], **dp.workflow_data)


async def _fill_queue(url: str) -> None:
    engine = create_engine(url)
    now = dt.datetime.now(dt.UTC)
    try:
        async with create_session_pool(engine)() as session:
            for n, (status, age) in enumerate(
                [("pending", 2 * 3600 + 5), ("pending", 60), ("sent", 9000), ("failed", 9000)]
            ):
                session.add(
                    Notification(
                        chat_id=100 + n, text="x", kind="test", status=status,
                        created_at=now - dt.timedelta(seconds=age), not_before=now,
                        attempts=6 if status == "failed" else 0,
                        last_error=BAD_GATEWAY if status == "failed" else None,
                    )
                )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()


def test_queue_command_prints_counts_and_oldest_pending_age(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill_queue(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["queue"]) == 0
    out = capsys.readouterr().out
    assert "pending: 2 (due now: 2;" in out
    assert "sent: 1" in out
    assert "failed: 1" in out
    assert "dropped: 0" in out
    assert "oldest pending: 2h 0m" in out
    assert "to 103, 6 attempts: TelegramServerError: Bad Gateway" in out


def test_queue_command_on_an_empty_queue(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill_queue_empty(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["queue"]) == 0
    out = capsys.readouterr().out
    assert "pending: 0" in out
    assert "oldest pending: none" in out


async def _fill_queue_empty(url: str) -> None:
    engine = create_engine(url)
    await engine.dispose()


def test_queue_command_on_a_database_without_tables(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.sqlite3")
    assert main(["queue"]) == 1
    err = capsys.readouterr().err
    assert "kezdesu migrate" in err
    assert "Traceback" not in err
