"""Redis: a form started on one replica continues on another, and one user's updates are handled
one at a time across replicas. Two real Dispatchers (the app's own, all middlewares) share a
Redis database; each test uses its own key prefix and removes its keys afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.types import Message

from bot.app import create_dispatcher
from bot.storage import create_storage
from models.settings import Settings
from tests.conftest import REDIS_URL, onboard, redis_available
from tests.harness import BotClient, RecordingSession, last_message, make_bot

pytestmark = pytest.mark.skipif(
    not redis_available(), reason=f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL)"
)


class Survey(StatesGroup):
    street = State()
    house = State()


def _survey_router() -> Router:
    """A two-step form, as the areas' forms are built (strict step + state kept in FSM data)."""
    router = Router(name="survey")

    @router.message(StateFilter(None), Command("survey"))
    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state(Survey.street)
        await message.answer("Street?")

    @router.message(Survey.street, F.text)
    async def street(message: Message, state: FSMContext) -> None:
        await state.update_data(street=message.text)
        await state.set_state(Survey.house)
        await message.answer("House?")

    @router.message(Survey.house, F.text)
    async def house(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.clear()
        await message.answer(f"Saved: {data['street']}, {message.text}")

    @router.message(Command("count"))
    async def count(message: Message, state: FSMContext) -> None:
        # read-modify-write with a pause: only per-user isolation keeps every increment
        value = int((await state.get_data()).get("count", 0))
        await asyncio.sleep(0.01)
        await state.update_data(count=value + 1)

    return router


@pytest.fixture
async def redis_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL})


@pytest.fixture
async def replicas(
    redis_settings: Settings, session_pool: Any, i18n: Any
) -> AsyncIterator[tuple[Dispatcher, Dispatcher]]:
    prefix = f"kezdesu-test-{uuid.uuid4().hex[:12]}"
    dps = []
    for _ in range(2):
        storage, isolation = create_storage(redis_settings, prefix=prefix)
        dp = create_dispatcher(
            redis_settings, session_pool, i18n, storage=storage, events_isolation=isolation
        )
        router = _survey_router()
        dp.include_router(router)
        dp.sub_routers.insert(len(dp.sub_routers) - 2, dp.sub_routers.pop())  # before fallback
        dps.append(dp)
    yield dps[0], dps[1]
    storage = dps[0].storage
    assert isinstance(storage, RedisStorage)
    keys = [key async for key in storage.redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await storage.redis.delete(*keys)
    for dp in dps:
        await dp.storage.close()


def _clients(replicas: tuple[Dispatcher, Dispatcher], user_id: int) -> tuple[BotClient, BotClient]:
    a, b = replicas
    return (
        BotClient(dp=a, bot=make_bot(RecordingSession()), user_id=user_id),
        BotClient(dp=b, bot=make_bot(RecordingSession()), user_id=user_id),
    )


def test_default_is_memory_and_redis_when_configured(
    settings: Settings, redis_settings: Settings
) -> None:
    storage, isolation = create_storage(settings)
    assert type(storage).__name__ == "MemoryStorage"
    storage, isolation = create_storage(redis_settings)
    assert isinstance(storage, RedisStorage) and isinstance(isolation, RedisEventIsolation)
    assert storage.key_builder.with_bot_id  # type: ignore[attr-defined]


async def test_form_started_on_one_replica_continues_on_another(
    replicas: tuple[Dispatcher, Dispatcher],
) -> None:
    on_a, on_b = _clients(replicas, 6201)
    await onboard(on_a, "en")
    assert "Street?" in last_message(await on_a.send("/survey")).text
    assert "House?" in last_message(await on_b.send("Abay avenue")).text
    assert "Saved: Abay avenue, 150" in last_message(await on_a.send("150")).text
    # the form is over on both replicas
    assert "nothing to cancel" in last_message(await on_b.send("/cancel")).text


async def test_cancel_on_another_replica_ends_the_form(
    replicas: tuple[Dispatcher, Dispatcher],
) -> None:
    on_a, on_b = _clients(replicas, 6202)
    await onboard(on_a, "en")
    await on_a.send("/survey")
    # a main-menu command inside the form on replica B: B knows the form is open
    assert "Cancelled" in last_message(await on_b.send("/cancel")).text
    assert "nothing to cancel" in last_message(await on_a.send("/cancel")).text


async def test_state_is_per_user(replicas: tuple[Dispatcher, Dispatcher]) -> None:
    first, _ = _clients(replicas, 6203)
    _, second = _clients(replicas, 6204)
    await onboard(first, "en")
    await onboard(second, "en")
    await first.send("/survey")
    assert "nothing to cancel" in last_message(await second.send("/cancel")).text


async def test_one_users_updates_are_serialised_across_replicas(
    replicas: tuple[Dispatcher, Dispatcher],
) -> None:
    on_a, on_b = _clients(replicas, 6205)
    await onboard(on_a, "en")
    sends: list[Callable[[], Any]] = [on_a.send, on_b.send] * 5
    await asyncio.gather(*(send("/count") for send in sends))
    state = FSMContext(
        storage=replicas[0].storage,
        key=_key(replicas[0], on_a.user_id),
    )
    assert (await state.get_data())["count"] == 10


def _key(dp: Dispatcher, user_id: int) -> Any:
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=42, chat_id=user_id, user_id=user_id)
