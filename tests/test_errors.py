"""The single error path: any exception is logged with its traceback, the user gets a translated
apology (never a traceback), the transaction is rolled back, and the next update works."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import User
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message


def _boom_router() -> Router:
    router = Router(name="boom")

    @router.message(F.text == "boom")
    async def boom(message: Message, user: User) -> None:
        user.full_name = "written before the failure"
        raise RuntimeError("handler failed")

    @router.callback_query(F.data == "boom")
    async def boom_button(query: CallbackQuery) -> None:
        raise RuntimeError("button failed")

    return router


@pytest.fixture
def boom_client(dp: Any, make_client: Callable[..., BotClient]) -> BotClient:
    router = _boom_router()
    dp.include_router(router)
    dp.sub_routers.insert(0, dp.sub_routers.pop())  # try it before every other router
    return make_client()


@pytest.mark.parametrize(
    ("locale", "apology"),
    [("ru", "Извините"), ("kk", "Кешіріңіз"), ("en", "Sorry, something went wrong")],
)
async def test_error_gets_a_translated_apology_and_rolls_back(
    boom_client: BotClient,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
    locale: str,
    apology: str,
) -> None:
    await onboard(boom_client, locale)
    with caplog.at_level(logging.ERROR, logger="bot.middlewares"):
        sent = await boom_client.send("boom")
    assert apology in last_message(sent).text
    assert "Traceback" not in last_message(sent).text
    assert any(r.exc_info for r in caplog.records), "the traceback goes to the log"
    user = (
        await session.execute(select(User).where(User.tg_id == boom_client.user_id))
    ).scalar_one()
    assert user.full_name != "written before the failure"

    sent = await boom_client.press("boom")
    assert apology in alerts(sent)[0]

    sent = await boom_client.send("/help")  # the bot keeps working
    assert "eOtinish" in last_message(sent).text
