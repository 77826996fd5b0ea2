"""Every message in the code is translated into ru, kk and en, and the catalogs load."""

from __future__ import annotations

from bot.i18n import SUPPORTED_LOCALES, create_i18n, guess_locale
from bot.i18n_check import extracted_messages, find_problems


def test_every_message_is_translated_in_every_language() -> None:
    problems = find_problems()
    assert not problems, "catalog problems:\n" + "\n".join(str(p) for p in problems)


def test_extraction_finds_the_code_messages() -> None:
    messages = extracted_messages()
    assert "⚙️ Settings" in messages  # marked with N_
    assert "Choose your language:" in messages  # a plain _()


def test_catalogs_compile_in_memory_without_a_build_step() -> None:
    i18n = create_i18n("ru")
    assert set(i18n.available_locales) == set(SUPPORTED_LOCALES)
    assert i18n.gettext("⚙️ Settings", locale="ru") == "⚙️ Настройки"
    assert i18n.gettext("⚙️ Settings", locale="kk") == "⚙️ Баптаулар"
    assert i18n.gettext("⚙️ Settings", locale="en") == "⚙️ Settings"


def test_telegram_language_code_preselects_a_supported_locale() -> None:
    assert guess_locale("ru") == "ru"
    assert guess_locale("kk") == "kk"
    assert guess_locale("kz") == "kk"
    assert guess_locale("en-US") == "en"
    assert guess_locale("de") == "ru"
    assert guess_locale(None, "en") == "en"
