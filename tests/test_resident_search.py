"""Search through the real Dispatcher: /find and plain text, case-insensitive Cyrillic on SQLite
and PostgreSQL, department names, the user's district first, pagination, helpful "nothing
found"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models.entities import District
from models.search import search_measures
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message
from tests.test_resident_browse import count_statements, make_meeting

BAITURSYNOV = "Реконструкция водопроводных сетей по улицам Тургут Озала"
SAIRAN = "механической очистке дна водохранилища «Сайран»"
HEADER = {"ru": "найдено 1 обязательство", "kk": "1 міндеттеме табылды", "en": "found 1 commitment"}
# «Сайран»: the plan's measure 8.1 and the surroundings project stated at the meeting (🗣)
HEADER_2 = {
    "ru": "найдено 2 обязательства",
    "kk": "2 міндеттеме табылды",
    "en": "found 2 commitments",
}


async def _find_baitursynova_and_sairan(make_client: Callable[..., BotClient], locale: str) -> None:
    client = make_client(user_id=6100 + ("ru", "kk", "en").index(locale), language_code=locale)
    await onboard(client, locale)

    sent = await client.send("/find Байтурсынова")
    found = last_message(sent)
    assert BAITURSYNOV in found.text
    assert HEADER[locale] in found.text
    assert len(found.buttons) == 1

    for query in ("САЙРАН", "сайран", "Сайран"):
        sent = await client.send(query)  # plain text at the main menu is a search
        found = last_message(sent)
        assert SAIRAN in found.text, query
        assert HEADER_2[locale] in found.text
        assert "🔴 🗣 Завершение разработки проекта благоустройства" in found.text

    sent = await client.click(found, "8.1")
    card = last_message(sent)
    assert "Очищение дна и благоустройство прибрежной зоны озера Сайран" in card.text
    sent = await client.click(card, "⬅️")
    assert SAIRAN in last_message(sent).text  # back to the results


async def test_find_baitursynova_and_sairan_in_any_case_in_each_language(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    for locale in ("ru", "kk", "en"):
        await _find_baitursynova_and_sairan(make_client, locale)


async def test_search_matches_problem_titles_department_names_and_every_word(
    client: BotClient, demo: int
) -> None:
    await onboard(client, "en")
    sent = await client.send("Education")  # УО's English name: its measures 2.1 and 3.1
    text = last_message(sent).text
    assert "found 2 commitments" in text
    assert "сейсмоусиления детского сада №7" in text
    sent = await client.send("правопорядок")  # a problem title only
    assert "Сергек" in last_message(sent).text
    sent = await client.send("сейсмоусиление Сайран")  # no measure has both: each has one
    some = last_message(sent)
    assert "found 3 commitments" in some.text  # 3.1, 8.1 and the spoken Sayran project
    assert "Matching only some of the words" in some.text
    sent = await client.send("сейсмостойкость зоопарка")  # no word matches anything
    nothing = last_message(sent)
    assert "Nothing found" in nothing.text
    assert "📋 Browse by district" in nothing.buttons
    sent = await client.click(nothing, "Browse by district")
    assert "Almaly" in " ".join(last_message(sent).buttons)


async def test_no_result_is_a_helpful_answer_in_each_language(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    phrases = {"ru": "ничего не найдено", "kk": "ештеңе табылмады", "en": "Nothing found"}
    for locale, phrase in phrases.items():
        await _no_result(make_client, locale, phrase)


async def _no_result(make_client: Callable[..., BotClient], locale: str, phrase: str) -> None:
    client = make_client(user_id=6200 + ("ru", "kk", "en").index(locale), language_code=locale)
    await onboard(client, locale)
    sent = await client.send("/find зоопарк_%")
    answer = last_message(sent)
    assert phrase in answer.text
    assert "Байтурсынова" in answer.text  # an example word to try
    assert len(answer.buttons) == 2
    sent = await client.send("/find")
    assert "/find Сайран" in last_message(sent).text


async def test_own_district_first_then_the_city_and_pagination(
    client: BotClient, session: AsyncSession, demo: int
) -> None:
    await make_meeting(session, district="medeu", measures=10, text="Сайран: участок {n}")
    await onboard(client, "en")  # district Almaly
    sent = await client.send("сайран")
    page1 = last_message(sent)
    assert "found 12 commitments" in page1.text
    assert "2 of them in your district" in page1.text
    assert page1.text.index("In your district") < page1.text.index(SAIRAN)
    assert page1.text.index(SAIRAN) < page1.text.index("Elsewhere in the city")
    assert "1/2" in page1.buttons
    sent = await client.click(page1, "▶️")
    page2 = last_message(sent)
    assert "2/2" in page2.buttons
    assert "участок" in page2.text
    assert SAIRAN not in page2.text
    sent = await client.click(page2, "11. ")
    sent = await client.click(last_message(sent), "Back to the results")
    assert "2/2" in last_message(sent).buttons  # back to the page the card came from

    # a user of another district sees that district first
    medeu = (await session.execute(select(District).where(District.slug == "medeu"))).scalar_one()
    result = await search_measures(
        session, "САЙРАН", district_id=medeu.id, page=0, per_page=6, today=dt.date(2023, 1, 1)
    )
    assert result.total == 12
    assert result.in_district == 10
    assert all(r.district_id == medeu.id for r in result.rows)


async def test_wildcards_are_literal_and_search_is_bounded(
    session: AsyncSession, engine: AsyncEngine, demo: int
) -> None:
    today = dt.date(2023, 1, 1)
    for query in ("%", "__", "%%", "са__ан"):
        result = await search_measures(
            session, query, district_id=None, page=0, per_page=6, today=today
        )
        assert result.total == 0, query
    # "_" and "%" separate words: «йран» matches nothing and is read as a typo of «сайран»
    result = await search_measures(
        session, "с_йран", district_id=None, page=0, per_page=6, today=today
    )
    assert (result.total, result.corrections) == (2, ["сайран"])  # 8.1 and the spoken one
    await make_meeting(session, measures=40, text="Сайран {n}")
    with count_statements(engine) as statements:
        result = await search_measures(
            session, "сайран", district_id=None, page=0, per_page=40, today=today
        )
    assert result.total == 42  # the 40 made here, 8.1 and the spoken Sayran project
    assert len(statements) == 1  # found, ranked, counted and read in one statement


async def test_search_page_of_an_expired_search(client: BotClient, demo: int) -> None:
    await onboard(client, "en")
    sent = await client.press("rs:1")
    assert "expired" in alerts(sent)[0]


async def test_kazakh_letters_fold_on_both_databases(session: AsyncSession) -> None:
    await make_meeting(
        session,
        district="auezov",
        measures=2,
        text="Әуезов ауданындағы ҮЛКЕН саябақты абаттандыру {n}",
    )
    today = dt.date(2023, 1, 1)
    for query in ("ӘУЕЗОВ", "әуезов", "үлкен САЯБАҚТЫ", "Саябақ"):
        result = await search_measures(
            session, query, district_id=None, page=0, per_page=6, today=today
        )
        assert result.total == 2, query


async def test_a_search_counts_and_ranks_at_most_a_hundred(
    client: BotClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    """Beyond RESULTS matches the count is «more than 100», the closest come first, and the
    pages end at the hundredth; the page is found without ranking every match."""
    await make_meeting(session, district="almaly", measures=105, text="Сайран: участок {n}")
    await make_meeting(session, measures=3, text="Сайран и парк {n}")
    await onboard(client, "en")  # district Almaly
    page1 = last_message(await client.send("сайран участок"))
    assert "found more than 100 commitments" in page1.text
    assert "More than 100 of them in your district." in page1.text
    assert "add a word to narrow the search" in page1.text
    assert "1/17" in page1.buttons  # 100 results, 6 a page
    result = await search_measures(
        session, "сайран участок", district_id=None, page=99, per_page=5, today=dt.date(2023, 1, 1)
    )
    assert (result.total, result.more, result.page) == (100, True, 19)  # the last page shown
    assert len(result.rows) == 5
    with count_statements(engine) as statements:
        exact = await search_measures(
            session, "парк", district_id=None, page=0, per_page=5, today=dt.date(2023, 1, 1)
        )
    assert (exact.total, exact.more) == (3, False)
    assert len(statements) == 1
