"""``/healthz`` and ``/metrics`` on the process's web server, in both modes: health reports the
database, the scheduler, the delivery worker and a stale queue (503 with the reason); metrics
count updates by type and outcome, handler latency, Telegram's answers, the queue by status and
the reminders planned. The process tests run the real bot (long polling) against the fake Bot
API and ``python -m bot.healthcheck`` against it. (The database-down case: test_webhook.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import SendMessage
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import create_dispatcher
from bot.webhook import create_app
from models.entities import Notification, NotificationStatus
from models.settings import Settings
from scheduler.jobs import meeting_reminders_job
from scheduler.runtime import RUNTIME_KEY, Background
from tests.fake_bot_api import FakeBotAPI
from tests.harness import RecordingSession
from tests.processes import ROOT, bot_env, free_port, start_bot, stop_bot
from tests.test_webhook import HEADER, SECRET, _start_update


def _webhook_settings(settings: Settings, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "webhook_url": "https://bot.example.kz/telegram/webhook",
            "webhook_secret": SecretStr(SECRET),
            **extra,
        }
    )


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def running(
    settings: Settings, session_pool: Any, i18n: Any, bot: Any
) -> AsyncIterator[tuple[TestClient[Any, Any], Any]]:
    """Webhook mode with the scheduler and the delivery worker running (started by the app)."""
    webhook_settings = _webhook_settings(settings)
    dp = create_dispatcher(webhook_settings, session_pool, i18n)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, dp


async def test_health_is_200_with_every_check(running: tuple[TestClient[Any, Any], Any]) -> None:
    http, _dp = running
    response = await http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "ok",
        "delivery_worker": "ok",
        "queue": "ok",
    }
    assert response.headers["Cache-Control"] == "no-store"


async def test_health_is_503_when_the_delivery_worker_died(
    running: tuple[TestClient[Any, Any], Any],
) -> None:
    http, dp = running
    background = dp.workflow_data[RUNTIME_KEY]
    assert isinstance(background, Background)
    background.worker_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await background.worker_task
    response = await http.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable"
    assert body["delivery_worker"].startswith("error")
    assert body["scheduler"] == "ok"


async def test_health_is_503_when_the_queue_is_stale(
    settings: Settings, session_pool: Any, i18n: Any, bot: Any, session: AsyncSession
) -> None:
    now = dt.datetime.now(dt.UTC)
    session.add_all(
        [
            Notification(
                kind="test", chat_id=1, text="late", not_before=now - dt.timedelta(hours=2)
            ),
            # held for the quiet hours: not due, so not stale however old
            Notification(
                kind="test",
                chat_id=2,
                text="held",
                not_before=now + dt.timedelta(hours=5),
                created_at=now - dt.timedelta(days=1),
            ),
        ]
    )
    await session.commit()
    webhook_settings = _webhook_settings(settings, health_queue_max_age_seconds=600)
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["database"] == "ok"
        assert body["queue"].startswith("error: a notification has waited")
        assert "limit 600 s" in body["queue"]
        # a larger limit: healthy again
    relaxed = _webhook_settings(settings, health_queue_max_age_seconds=3 * 3600)
    dp = create_dispatcher(relaxed, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, relaxed, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.get("/healthz")
        assert response.status == 200
        assert (await response.json())["queue"] == "ok"
        # the queue by status, read at the scrape
        samples = _samples(await (await http.get("/metrics")).text())
        assert _value(samples, "kezdesu_queue_depth", status="pending") == 2
        assert _value(samples, "kezdesu_queue_depth", status="sent") == 0
        assert 7000 <= _value(samples, "kezdesu_queue_oldest_due_seconds") <= 7300


async def test_metrics_count_updates_outcomes_and_telegram_answers(
    settings: Settings,
    session_pool: Any,
    i18n: Any,
    bot: Any,
    bot_session: RecordingSession,
    session: AsyncSession,
) -> None:
    webhook_settings = _webhook_settings(settings)
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        for n in range(3):
            response = await http.post(
                "/telegram/webhook", json=_start_update(10 + n, 5300 + n), headers={HEADER: SECRET}
            )
            assert response.status == 200
        # the person blocked the bot: the answer gets 403, the handler's error is answered
        bot_session.fail_next(SendMessage, 403, "Forbidden: bot was blocked by the user")
        response = await http.post(
            "/telegram/webhook", json=_start_update(20, 5310), headers={HEADER: SECRET}
        )
        assert response.status == 200
        # flood control on the next answer
        bot_session.fail_next(SendMessage, 429, "Too Many Requests", {"retry_after": 3})
        await http.post("/telegram/webhook", json=_start_update(21, 5311), headers={HEADER: SECRET})
        # the scheduler's planning is counted (no meeting is near: none queued, but counted)
        await meeting_reminders_job(session_pool, i18n, settings, on_planned=dp["metrics"].planned)

        response = await http.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        samples = _samples(await response.text())
    ok = _value(samples, "kezdesu_updates_total", type="message", outcome="ok")
    errors = _value(samples, "kezdesu_updates_total", type="message", outcome="error")
    assert ok == 3 and errors == 2
    assert _value(samples, "kezdesu_update_seconds_count", type="message") == 5
    assert _value(samples, "kezdesu_update_seconds_bucket", type="message", le="+Inf") == 5
    assert _value(samples, "kezdesu_telegram_messages_sent_total", method="SendMessage") >= 3
    assert _value(samples, "kezdesu_telegram_forbidden_total", method="SendMessage") == 1
    assert _value(samples, "kezdesu_telegram_retry_after_total", method="SendMessage") == 1
    assert ("kezdesu_reminders_planned_total", frozenset({("job", "meeting_reminders")})) in samples
    for status in NotificationStatus:
        assert ("kezdesu_queue_depth", frozenset({("status", status.value)})) in samples


async def test_each_app_has_its_own_registry(
    settings: Settings, session_pool: Any, i18n: Any
) -> None:
    first = create_dispatcher(settings, session_pool, i18n, run_background=False)
    second = create_dispatcher(settings, session_pool, i18n, run_background=False)
    assert first["metrics"].registry is not second["metrics"].registry


# --- the real process --------------------------------------------------------------------------


async def _healthcheck(port: int) -> tuple[int, str]:
    env = {**os.environ, "WEB_PORT": str(port), "WEB_HOST": "0.0.0.0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.healthcheck", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_polling_process_serves_health_and_metrics(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    port = free_port()
    env = bot_env(
        f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
        api.url,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
    )
    process = await start_bot(env)
    try:
        api.push_message(7100, "/start", language_code="en")
        await api.wait_for(
            lambda c: c.method == "sendMessage" and int(c.params["chat_id"]) == 7100, timeout=120
        )
        base = f"http://127.0.0.1:{port}"
        async with ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                body = await response.json()
                assert response.status == 200, body
                assert body["scheduler"] == body["delivery_worker"] == "ok"
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                samples = _samples(await response.text())
        assert _value(samples, "kezdesu_updates_total", type="message", outcome="ok") == 1
        assert _value(samples, "kezdesu_telegram_messages_sent_total", method="SendMessage") >= 1
        code, out = await _healthcheck(port)
        assert code == 0, out
    finally:
        try:
            err = await stop_bot(process, timeout=60)
        finally:
            await api.stop()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
    # the process is gone: the Docker health check fails
    code, out = await _healthcheck(port)
    assert code == 1
    assert "unhealthy" in out


@pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")
async def test_an_update_of_no_known_type_is_counted_not_failed(
    settings: Settings, session_pool: Any, i18n: Any, bot: Any
) -> None:
    """A type newer than aiogram (Telegram sends only the types the webhook asked for, so this
    is rare): accepted with 200 (a 4xx would make Telegram retry it forever), counted."""
    webhook_settings = _webhook_settings(settings)
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.post(
            "/telegram/webhook", json={"update_id": 77}, headers={HEADER: SECRET}
        )
        assert response.status == 200
        samples = _samples(await (await http.get("/metrics")).text())
    assert _value(samples, "kezdesu_updates_total", type="unknown", outcome="unhandled") == 1
