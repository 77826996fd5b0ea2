"""Two bot processes (``python -m bot`` in webhook mode) on one PostgreSQL database and one Redis:
they migrate a brand-new database together, share a resident's dialogue update by update (a
load balancer alternates between them), and both run the scheduler and the delivery worker
without sending any notification twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from models.db import create_engine, create_session_pool
from models.demo import load_demo
from models.entities import (
    DepartmentMember,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    Notification,
    NotificationStatus,
    User,
)
from scheduler.queue import enqueue
from tests.conftest import (
    PG_URL,
    REDIS_URL,
    _admin_execute,
    postgres_available,
    redis_available,
)
from tests.fake_bot_api import Call, FakeBotAPI
from tests.processes import bot_env, free_port, start_bot, wait_listening
from tests.test_questions_form import add_meeting

pytestmark = [
    pytest.mark.skipif(not postgres_available(), reason=f"PostgreSQL is not reachable at {PG_URL}"),
    pytest.mark.skipif(not redis_available(), reason=f"Redis is not reachable at {REDIS_URL}"),
]

SECRET = "replica-secret"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOTIFICATIONS = 30
# Per-run ids: parallel test runs share the Redis database without touching each other's keys.
BASE = 9_000_000 + (os.getpid() % 5000) * 100


@dataclass
class Replica:
    name: str
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg"


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    name = f"kezdesu_replicas_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def replicas(fresh_database: str, api: FakeBotAPI) -> AsyncIterator[list[Replica]]:
    started: list[Replica] = []
    for name in ("a", "b"):
        port = free_port()
        env = bot_env(
            fresh_database,
            api.url,
            REDIS_URL=REDIS_URL,
            WEBHOOK_URL="https://bot.example.kz/tg",
            WEBHOOK_SECRET=SECRET,
            WEB_HOST="127.0.0.1",
            WEB_PORT=str(port),
            WEBHOOK_PATH="/tg",
        )
        env.pop("ADMIN_IDS", None)
        process = await start_bot(env)
        started.append(Replica(name, port, process))
    try:
        for replica in started:
            await wait_listening(replica.port, replica.process)
        yield started
    finally:
        for replica in started:
            if replica.process.returncode is None:
                replica.process.send_signal(signal.SIGTERM)
        errors = []
        for replica in started:
            _out, err = await asyncio.wait_for(replica.process.communicate(), 120)
            if replica.process.returncode != 0 or b"Traceback" in err:
                errors.append(
                    f"replica {replica.name}: {replica.process.returncode} {err.decode()}"
                )
        await _forget_redis_keys()
        assert not errors, errors


async def _forget_redis_keys() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match="kezdesu:42:*")]
        mine = [k for k in keys if _chat_of(k.decode()) in range(BASE, BASE + 100)]
        if mine:
            await redis.delete(*mine)
    finally:
        await redis.aclose()


def _chat_of(key: str) -> int:
    """``kezdesu:<bot>:<chat>:<user>:…`` → the chat id (0 when not such a key)."""
    parts = key.split(":")
    return int(parts[2]) if len(parts) > 2 and parts[2].lstrip("-").isdigit() else 0


async def _post(http: ClientSession, replica: Replica, update: dict[str, Any]) -> None:
    async with http.post(replica.url, json=update, headers={HEADER: SECRET}) as response:
        assert response.status == 200


def _message(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(dt.datetime.now(dt.UTC).timestamp()),
        "chat": {"id": user_id, "type": "private", "first_name": "Dana"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Dana", "language_code": "ru"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


def _press(update_id: int, user_id: int, data: str, message_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user_id, "is_bot": False, "first_name": "Dana", "language_code": "ru"},
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(dt.datetime.now(dt.UTC).timestamp()),
                "chat": {"id": user_id, "type": "private", "first_name": "Dana"},
                "from": {"id": 42, "is_bot": True, "first_name": "Kezdesu"},
                "text": "…",
            },
        },
    }


def _buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [
        (b.get("text", ""), b.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


def _screens(api: FakeBotAPI, chat_id: int) -> list[Call]:
    return [
        c
        for c in api.calls
        if c.method in {"sendMessage", "editMessageText"}
        and int(c.params.get("chat_id") or 0) == chat_id
    ]


async def _screen(api: FakeBotAPI, chat_id: int, since: int, expect: str) -> Call:
    """The first message sent or edited in ``chat_id`` after the first ``since`` ones that
    contains ``expect``."""
    for _ in range(1200):  # up to a minute: a loaded machine starts processes slowly
        for call in _screens(api, chat_id)[since:]:
            if expect in str(call.params.get("text", "")):
                return call
        await asyncio.sleep(0.05)
    shown = [c.params.get("text") for c in _screens(api, chat_id)]
    raise AssertionError(f"{expect!r} never shown in chat {chat_id}: {shown}")


async def _seed(url: str, member_tg: int) -> tuple[list[int], int]:
    """An upcoming meeting, the demo plan with one measure due in 7 days, a department member
    who takes night pushes, and queued notifications; returns (notified chats, measure id)."""
    engine = create_engine(url)
    pool = create_session_pool(engine)
    try:
        await add_meeting(pool, days=10, intake_days=8)
        async with pool() as session:
            await load_demo(session)
            await session.commit()
        async with pool() as session:
            measure_id, department_id = (
                await session.execute(
                    select(Measure.id, MeasureDepartment.department_id)
                    .join(MeasureDepartment, MeasureDepartment.measure_id == Measure.id)
                    .order_by(Measure.id)
                    .limit(1)
                )
            ).one()
            today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=5))).date()
            await session.execute(
                update(Measure)
                .where(Measure.id == measure_id)
                .values(due_date=today + dt.timedelta(days=7), status=MeasureStatus.IN_PROGRESS)
            )
            # every other measure out of the reminders' way: only this one is due
            await session.execute(
                update(Measure).where(Measure.id != measure_id).values(due_date=None)
            )
            member = User(tg_id=member_tg, locale="ru", full_name="Official", night_pushes=True)
            session.add(member)
            await session.flush()
            session.add(DepartmentMember(department_id=department_id, user_id=member.id))
            chats = [BASE + 50 + n for n in range(NOTIFICATIONS)]
            for n, chat_id in enumerate(chats):
                assert await enqueue(
                    session,
                    chat_id=chat_id,
                    text=f"Notification {n} for replicas",
                    kind="test",
                    dedup_key=f"replicas:{BASE}:{n}",
                    quiet_hours=False,
                )
            await session.commit()
        return chats, measure_id
    finally:
        await engine.dispose()


async def test_two_replicas_share_dialogues_and_send_each_notification_once(
    replicas: list[Replica], api: FakeBotAPI, fresh_database: str
) -> None:
    a, b = replicas
    assert len(api.sent("setWebhook")) == 2, "each replica sets the same webhook"
    resident = BASE + 1
    member = BASE + 2
    chats, _measure_id = await _seed(fresh_database, member)

    async with ClientSession() as http:
        ids = iter(range(BASE * 10, BASE * 10 + 1000))
        # a resident's dialogue, its updates alternating between the replicas
        await _post(http, a, _message(next(ids), resident, "/start"))
        await _screen(api, resident, 0, "Выберите язык")
        since = len(_screens(api, resident))
        await _post(http, b, _press(next(ids), resident, "lang:ru:s", 1))
        screen = await _screen(api, resident, since, "Выберите свой район")
        district = next(data for text, data in _buttons(screen) if "Алмал" in text)
        since = len(_screens(api, resident))
        await _post(http, a, _press(next(ids), resident, district, 1))
        # two screens (the district confirmed, then the main menu): wait for the last one, or
        # on a loaded machine the menu arrives after the next step has started looking
        await _screen(api, resident, since, "показывает, что обещано")
        # the question form: started on B, continued on A, then on B (state in Redis)
        since = len(_screens(api, resident))
        await _post(http, b, _message(next(ids), resident, "/ask"))
        screen = await _screen(api, resident, since, "")
        buttons = _buttons(screen)
        if buttons and buttons[0][1].startswith("qc:"):  # consent first
            since = len(_screens(api, resident))
            await _post(http, a, _press(next(ids), resident, buttons[0][1], 1))
            screen = await _screen(api, resident, since, "Выберите категорию")
            buttons = _buttons(screen)
        assert "Выберите категорию" in screen.params["text"], screen.params["text"]
        since = len(_screens(api, resident))
        await _post(http, a, _press(next(ids), resident, buttons[0][1], 1))
        await _screen(api, resident, since, "Напишите вопрос")
        since = len(_screens(api, resident))
        text = "Во дворе дома на Толе би 85 не работает освещение."
        await _post(http, b, _message(next(ids), resident, text))
        await _screen(api, resident, since, "адрес")

    # the queued notifications and the scheduler's reminder: each sent exactly once
    def delivered() -> dict[int, int]:
        counts: dict[int, int] = {}
        for call in api.sent("sendMessage"):
            chat = int(call.params.get("chat_id") or 0)
            if chat in chats or chat == member:
                counts[chat] = counts.get(chat, 0) + 1
        return counts

    async def settled() -> list[Notification]:
        """Every row of these chats sent and none being sent: a message sent twice would need
        a second claim, which a sent row does not give, so nothing more can arrive."""
        async with create_session_pool(engine)() as session:
            rows = list((await session.execute(select(Notification))).scalars().all())
        ours = [r for r in rows if r.chat_id in {*chats, member}]
        done = len(ours) == NOTIFICATIONS + 1 and all(
            r.status == NotificationStatus.SENT for r in ours
        )
        sending = any(r.status == NotificationStatus.SENDING for r in rows)
        return rows if done and not sending else []

    engine = create_engine(fresh_database)
    try:
        # the catch-up reminder runs 20 s after each replica's start; the bound reports a hang
        deadline = time.monotonic() + 240
        while True:
            rows = await settled()
            if rows or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    counts = delivered()
    assert set(counts) == {*chats, member}, f"missing: {set(chats) - set(counts)}"
    assert all(n == 1 for n in counts.values()), f"sent twice: {counts}"
    reminders = [r for r in rows if r.chat_id == member]
    assert len(reminders) == 1, "both replicas planned the reminder; one row"
    assert all(r.status == NotificationStatus.SENT for r in rows if r.chat_id in {*chats, member})
    workers = {r.claimed_by for r in rows if r.chat_id in chats}
    assert workers and None not in workers, "each row records the replica that sent it"
