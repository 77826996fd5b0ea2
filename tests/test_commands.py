"""The command menus: per language, per scope (residents, department groups, akimat staff), and a
Bot API server that refuses them does not stop the bot."""

from __future__ import annotations

import logging

import pytest
from aiogram.methods import SetMyCommands

from bot.commands import ADMIN_COMMANDS, COMMANDS, GROUP_COMMANDS, set_commands
from bot.i18n import CatalogI18n
from tests.harness import RecordingSession, make_bot


def _sent(session: RecordingSession) -> list[SetMyCommands]:
    return [s.method for s in session.requests if isinstance(s.method, SetMyCommands)]


async def test_menus_per_language_and_scope(i18n: CatalogI18n) -> None:
    session = RecordingSession()
    await set_commands(make_bot(session), i18n, "ru", [900])
    sent = _sent(session)
    assert len(sent) == 3 * 4  # three scopes, each in ru/kk/en plus the default
    by_scope = {(m.scope.type if m.scope else None, m.language_code): m for m in sent}
    private_kk = by_scope[("all_private_chats", "kk")]
    assert [c.command for c in private_kk.commands] == [c for c, _ in COMMANDS]
    assert private_kk.commands[0].description == i18n.gettext(COMMANDS[0][1], locale="kk")
    groups_en = by_scope[("all_group_chats", "en")]
    assert [c.command for c in groups_en.commands] == [c for c, _ in GROUP_COMMANDS]
    admin_ru = by_scope[("chat", "ru")]
    assert [c.command for c in admin_ru.commands][-len(ADMIN_COMMANDS) :] == [
        c for c, _ in ADMIN_COMMANDS
    ]
    assert by_scope[("all_private_chats", None)].commands[1].description == "Главное меню"


async def test_a_refusing_server_is_logged_and_ignored(
    i18n: CatalogI18n, caplog: pytest.LogCaptureFixture
) -> None:
    session = RecordingSession()
    session.fail_next(SetMyCommands, 400, "Bad Request: chat not found")
    with caplog.at_level(logging.WARNING, logger="bot.commands"):
        await set_commands(make_bot(session), i18n, "en", [])
    assert any("refused set_my_commands" in r.getMessage() for r in caplog.records)
    # the group menu was still set after the private one failed
    assert any(m.scope and m.scope.type == "all_group_chats" for m in _sent(session))
