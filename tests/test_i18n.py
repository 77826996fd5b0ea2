"""Every message in the code is translated into ru, kk and en, and the catalogs load."""

from __future__ import annotations

import pytest

from bot.i18n import SUPPORTED_LOCALES, create_i18n, guess_locale
from bot.i18n_check import (
    counted_without_plural,
    extracted_messages,
    find_problems,
    find_wording_problems,
    kazakh_case_after_placeholder,
    placeholders,
)
from models.reference import DISTRICT_FORMS, district_form, district_placeholders, reference_data


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


def test_the_catalogs_have_none_of_the_known_wording_mistakes() -> None:
    problems = find_wording_problems()
    assert not problems, "wording problems:\n" + "\n".join(str(p) for p in problems)


@pytest.mark.parametrize(
    "text",
    [
        "Сұрақтар қабылданады: {deadline} дейін",
        "Ботпен бірге: {date} бастап",
        "{date} кейін жауап береді",
        "{min}-ден {max} таңбаға дейін",
        "{count}-ға жетті",
        "{name}ге жіберілді",
    ],
)
def test_a_kazakh_ending_glued_to_a_placeholder_is_found(text: str) -> None:
    assert kazakh_case_after_placeholder(text)


@pytest.mark.parametrize(
    "text",
    [
        "Сұрақ қабылдаудың соңғы мерзімі: {deadline}",
        "Ұзындығы: {min}–{max} таңба",
        "{row}-жол: {reason}",  # an ordinal: the ending is the same after any number
        "<b>{number}-проблемалық мәселе. {title}</b>",
        "{days} күннен кейін",  # the ending is on the noun, not on the placeholder
        "{district_dat} жазылдыңыз",  # the placeholder carries its own case
        "Мерзімі: {deadline} ({date})",
    ],
)
def test_a_label_and_a_value_pass_the_kazakh_check(text: str) -> None:
    assert not kazakh_case_after_placeholder(text)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Your question has been supported by {count} residents.", "en"),
        ("Your personal data has been deleted: {follows} follows removed.", "en"),
        ("The meeting is cancelled; {count} followers will be told.", "en"),
        ("Напишите хотя бы {minimum} символа(ов).", "ru"),
        ("Ваш вопрос поддержали {count} жителей.", "ru"),
    ],
)
def test_a_count_before_a_noun_outside_ngettext_is_found(text: str, locale: str) -> None:
    assert counted_without_plural(text, locale)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Followers: {count}", "en"),
        ("{n} done", "en"),  # a status reads the same for any number
        ("…and {count} more.", "en"),
        ("Поддержали: {count}", "ru"),
        ("{n} выполнено", "ru"),
        ("Вопрос {ref} принят", "ru"),  # not a count
    ],
)
def test_a_label_and_a_count_pass_the_plural_check(text: str, locale: str) -> None:
    assert not counted_without_plural(text, locale)


def test_a_district_placeholder_may_take_the_form_the_language_needs() -> None:
    assert placeholders("{district_gen} тұрғындарымен: {date}") == {"{district}", "{date}"}
    assert placeholders("{district_dat} жазылдыңыз") == placeholders("You follow {district}")


def test_every_district_has_its_forms_in_every_language() -> None:
    for item in reference_data()["districts"]:
        code = item["code"]
        assert district_form(code, "ru", "nom") == item["name_ru"]
        assert district_form(code, "kk", "nom") == item["name_kk"]
        for locale in ("ru", "kk", "en"):
            assert all(district_form(code, locale, form) for form in DISTRICT_FORMS)
    assert district_form("AL", "ru", "gen") == "Алмалинского района"
    assert district_form("AL", "ru", "loc") == "Алмалинском районе"
    assert district_form("AL", "kk", "gen") == "Алмалы ауданының"
    assert district_form("AL", "kk", "acc") == "Алмалы ауданын"
    assert district_form("AL", "kk", "loc") == "Алмалы ауданында"
    assert district_form("AL", "en", "gen") == "Almaly district"
    assert district_form("XX", "ru", "gen") is None


def test_a_district_without_forms_falls_back_to_its_stored_name() -> None:
    args = district_placeholders("XX", "kk", "Жаңа <аудан>")
    assert args["district"] == args["district_gen"] == "Жаңа &lt;аудан&gt;"
    assert district_placeholders("AL", "ru", "", escape=False)["district_gen"] == (
        "Алмалинского района"
    )


def test_a_count_that_ends_a_line_is_a_value() -> None:
    assert not counted_without_plural("Participants: {count}\nSpeakers: {n}", "en")
    assert counted_without_plural("Participants: {count} people", "en")
