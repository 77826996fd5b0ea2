"""Search by word forms, typos and every searchable field, on SQLite and PostgreSQL alike.

Each query runs once per backend (the ``db_url`` fixture): the expected result lists below are the
same constants for both, so both databases give exactly these results in exactly this order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import District, Meeting
from models.search import SearchPage, search_measures
from models.terms import query_words, similarity, word_terms
from tests.conftest import onboard
from tests.harness import BotClient, last_message
from tests.test_resident_browse import make_meeting

TODAY = dt.date(2022, 9, 1)
PLAN = [(1, 1), (1, 2), (1, 3), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 1),
        (10, 1)]  # fmt: skip
SPOKEN = [(10000, n) for n in range(1, 10)]  # the promises stated at the meeting (🗣), after it
ALL_DEMO = PLAN + SPOKEN


async def _find(
    session: AsyncSession, query: str, district_id: int | None = None, per_page: int = 30
) -> SearchPage:
    return await search_measures(
        session, query, district_id=district_id, page=0, per_page=per_page, today=TODAY
    )


def _plan(page: SearchPage) -> list[tuple[int, int]]:
    return [(row.problem_number, row.position) for row in page.rows]


async def _almaly(session: AsyncSession) -> int:
    return (
        await session.execute(select(District.id).where(District.slug == "almaly"))
    ).scalar_one()


# --- word forms through the bot ------------------------------------------------------------------

WORD_FORMS = [
    ("поликлиника", "новой поликлиники на 500 посещений"),
    ("мавзолей", "Реконструкция мавзолея Райымбек батыра"),
    ("кабельные линии", "кабельных линий с увеличением"),
    ("детский сад", "сейсмоусиления детского сада №7"),
    ("школа 16", "пристройки к школе №16"),
    ("поликлинника", "новой поликлиники на 500 посещений"),
    ("сейсмоусиление", "сейсмоусиления детского сада №7"),
    ("спортивный центр бассейн", "спортивного центра с бассейном"),
]


async def test_word_forms_and_a_typo_find_the_seed_measures(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    client = make_client(user_id=6301, language_code="ru")
    await onboard(client, "ru")
    for query, expected in WORD_FORMS:
        found = last_message(await client.send(query))
        assert expected in found.text, query
        assert "1." in found.text, query
    typo = last_message(await client.send("поликлинника"))
    assert "Искали также похожие слова: поликлиники." in typo.text


async def test_kazakh_word_forms(
    session: AsyncSession, make_client: Callable[..., BotClient]
) -> None:
    school = "Алмалы ауданындағы №{n} мектептің шатырын жөндеу"
    clinic = "Емхананың {n}-ғимаратын салу"
    await make_meeting(session, district="almaly", measures=1, text=school)
    await make_meeting(
        session, district="medeu", measures=1, text=clinic,
        starts_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    for query, expected in (
        ("мектеп", school),
        ("мектептер", school),
        ("мектебінің", school),
        ("емхана", clinic),
        ("емханаға", clinic),
        ("ғимарат", clinic),
    ):
        page = await _find(session, query)
        assert [row.text for row in page.rows] == [expected.format(n=1)], query
    client = make_client(user_id=6302, language_code="kk")
    await onboard(client, "kk")
    found = last_message(await client.send("мектеп"))
    assert "1 міндеттеме табылды" in found.text
    assert "мектептің шатырын" in found.text


# --- every searchable field ----------------------------------------------------------------------


async def test_department_names_and_codes_in_three_languages(
    session: AsyncSession, demo: int
) -> None:
    for query in ("образования", "Управление образования", "Education", "білім", "УО"):
        assert _plan(await _find(session, query)) == [(2, 1), (3, 1)], query
    assert _plan(await _find(session, "УЭиВ")) == [(1, 1), (1, 2), (1, 3)]
    assert _plan(await _find(session, "здравоохранения")) == [(4, 1), (5, 1)]


async def test_district_names_aliases_and_meeting_place(session: AsyncSession, demo: int) -> None:
    for query in ("Алмалинский", "Алмалинский район", "Алмалы ауданы", "Almaly", "Almalinsky",
                  "алмалинского", "Шевченко", "логистики"):  # fmt: skip
        assert _plan(await _find(session, query)) == ALL_DEMO, query
    assert (await _find(session, "Медеу")).total == 0  # another district's name


async def test_problem_titles_and_numbers(session: AsyncSession, demo: int) -> None:
    assert _plan(await _find(session, "правопорядок")) == [(9, 1)]
    assert _plan(await _find(session, "16")) == [(2, 1)]  # «№16», not 160 nor 1 069
    assert _plan(await _find(session, "312")) == [(5, 1)]
    assert _plan(await _find(session, "97")) == []  # a house number of the place is not searched


# --- ranking -------------------------------------------------------------------------------------


async def test_every_word_first_then_the_district_then_more_words(session: AsyncSession) -> None:
    almaly = await _almaly(session)
    newest = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    await make_meeting(session, district="medeu", measures=1, text="Ремонт школы и сквера {n}",
                       starts_at=newest)  # fmt: skip
    await make_meeting(session, district="almaly", measures=1, text="Ремонт школы {n}")
    await make_meeting(session, district="medeu", measures=1, text="Ремонт сквера у школы {n}",
                       starts_at=dt.datetime(2023, 6, 1, 9, tzinfo=dt.UTC))  # fmt: skip
    await make_meeting(session, district="almaly", measures=1, text="Освещение сквера {n}",
                       starts_at=dt.datetime(2023, 7, 1, 9, tzinfo=dt.UTC))  # fmt: skip
    page = await _find(session, "ремонт школа сквер", district_id=almaly)
    assert [row.text for row in page.rows] == [
        "Ремонт школы и сквера 1",  # every word, another district, newest meeting
        "Ремонт сквера у школы 1",  # every word, older
        "Ремонт школы 1",  # two words, in the district
        "Освещение сквера 1",  # one word, in the district
    ]
    assert (page.total, page.complete, page.in_district) == (4, 2, 2)
    nobody = await _find(session, "ремонт школа сквер")
    assert [row.text for row in nobody.rows][2:] == ["Ремонт школы 1", "Освещение сквера 1"]


async def test_the_view_marks_partial_matches_and_the_district(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    client = make_client(user_id=6303, language_code="en")
    await onboard(client, "en")
    found = last_message(await client.send("сейсмоусиление Сайран"))
    assert "found 3 commitments" in found.text  # 3.1, 8.1 and the spoken Sayran project
    assert "Matching only some of the words" in found.text
    assert found.text.index("Matching only some") < found.text.index("In your district")
    assert "сейсмоусиления" in found.text and "Сайран" in found.text


# --- typos and "nothing found" -------------------------------------------------------------------

# the spoken promises that mention either word: 🗣1 (heating networks), 🗣3, 🗣4 (Sayran)
SPOKEN_SAIRAN_NETWORKS = [(10000, 1), (10000, 3), (10000, 4)]


async def test_a_typo_is_corrected_only_when_the_word_finds_nothing(
    session: AsyncSession, demo: int
) -> None:
    typo = await _find(session, "поликлинника")
    assert (_plan(typo), typo.corrections) == ([(4, 1)], ["поликлиники"])
    exact = await _find(session, "поликлиники")
    assert (_plan(exact), exact.corrections) == ([(4, 1)], [])
    both = await _find(session, "сайрн реконструкция")  # one word each: plan order
    assert (_plan(both), both.complete) == ([(1, 2), (6, 1), (8, 1), *SPOKEN_SAIRAN_NETWORKS], 0)
    assert both.corrections == ["сайран"]


async def test_nothing_found_suggests_the_closest_words(
    session: AsyncSession, make_client: Callable[..., BotClient], demo: int
) -> None:
    nothing = await _find(session, "сайарн")
    assert (nothing.total, nothing.rows, nothing.suggestions) == (0, [], ["сайран"])
    for locale, phrase in (
        ("ru", "Возможно, вы имели в виду: сайран?"),
        ("kk", "Мүмкін, сіз мынаны іздедіңіз: сайран?"),
        ("en", "Did you mean: сайран?"),
    ):
        client = make_client(user_id=6310 + len(locale) + ord(locale[0]), language_code=locale)
        await onboard(client, locale)
        answer = last_message(await client.send("сайарн"))
        assert phrase in answer.text, locale
        assert len(answer.buttons) == 2
    assert (await _find(session, "щщщщщ")).suggestions == []


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "   ", "!!!", "«»—…", "%", "_", "%_%", "'; DROP TABLE measures; --", "\\", "😀", "😀😀 🏫",
     "а" * 200, "сайран " * 40, "\x00", "ъ"],
)  # fmt: skip
async def test_bad_input_finds_nothing_and_breaks_nothing(
    session: AsyncSession, demo: int, query: str
) -> None:
    page = await _find(session, query)
    if "сайран" in query:
        assert _plan(page) == [(8, 1), (10000, 4)]
    else:
        assert (page.total, page.rows, page.page) == (0, [], 0), query


async def test_bad_input_through_the_bot(make_client: Callable[..., BotClient], demo: int) -> None:
    client = make_client(user_id=6320, language_code="en")
    await onboard(client, "en")
    for query in ("%_%", "😀", "а" * 200, "'; DROP TABLE search_terms; --"):
        answer = last_message(await client.send(query))
        assert "Nothing found" in answer.text or "Type what to look for" in answer.text, query
    found = last_message(await client.send("😀 Сайран!!!"))
    assert "found 2 commitments" in found.text


@pytest.mark.parametrize(
    ("word", "terms"),
    [
        ("уэив", ("уэив",)),  # a code: no Snowball stem shorter than three letters
        ("уо", ("уо",)),
        ("сад", ("сад",)),
        ("поликлиники", ("поликлиник",)),
        ("мавзолей", ("мавзол",)),
        ("мавзолея", ("мавзол",)),
        ("мектептің", ("мектеп",)),  # Kazakh letters: Kazakh rules only
        ("lighting", ("light",)),
        ("№", ()),
        ("016", ("16",)),
        ("и", ()),  # a stop word
        ("д", ()),  # one letter
    ],
)
def test_word_terms(word: str, terms: tuple[str, ...]) -> None:
    assert word_terms(word) == terms


def test_query_words_are_bounded() -> None:
    words = query_words(" ".join(f"слово{n}" for n in range(50)))
    assert len(words) == 6
    assert query_words("в на и по") == []  # stop words only
    assert word_terms("№") == () and word_terms("007") == ("7",)


async def test_trigram_similarity_is_pg_trgm_s(session: AsyncSession) -> None:
    pairs = [("поликлинника", "поликлиники"), ("сайарн", "сайран"), ("мектеп", "мектептің"),
             ("school", "schools"), ("ab", "abc"), ("әуезов", "ауэзов")]  # fmt: skip
    if session.get_bind().dialect.name != "postgresql":
        assert similarity("поликлинника", "поликлиники") == pytest.approx(9 / 16)
        return
    has_trgm = await session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if not has_trgm:
        pytest.skip("pg_trgm is not installed")
    for first, second in pairs:
        expected = await session.scalar(
            text("SELECT similarity(:a, :b)"), {"a": first, "b": second}
        )
        assert similarity(first, second) == pytest.approx(expected, abs=1e-6), (first, second)


# --- the same results on both databases ----------------------------------------------------------

SAME_ON_BOTH = [
    # (query, expected (problem number, position) in order, how many match every word)
    ("поликлиника", [(4, 1)], 1),
    # 3.1: УКС, «…строительства»; 🗣3, 🗣8: the spoken promises of building works
    ("строительство", [(2, 1), (3, 1), (4, 1), (5, 1), (10000, 3), (10000, 8)], 6),
    (
        "строительство центра",
        [(4, 1), (5, 1), (2, 1), (3, 1), (10000, 3), (10000, 8), (10000, 9)],
        2,
    ),
    ("реконструкция сети", [(1, 2), (10000, 1), (10000, 3), (1, 1), (1, 3), (6, 1)], 3),
    ("Толе би", [(1, 2), (10, 1)], 2),
    ("детского сада №7", [(3, 1)], 1),
    ("ремонт сквера", [(10, 1), (10000, 5), (10000, 7)], 1),
    ("дна озера", [(8, 1)], 1),
    ("батыра", [(6, 1), (10, 1), (10000, 1)], 3),
    ("Райымбек", [(5, 1), (6, 1)], 2),
    ("2022", [], 0),  # deadlines are not searched
    ("УЗиСП", [(8, 1)], 1),
    ("ұйымдастыру", [], 0),
]


@pytest.mark.parametrize(("query", "expected", "complete"), SAME_ON_BOTH)
async def test_the_same_results_on_sqlite_and_postgresql(
    session: AsyncSession, demo: int, query: str, expected: list[tuple[int, int]], complete: int
) -> None:
    page = await _find(session, query, district_id=await _almaly(session))
    assert (_plan(page), page.complete) == (expected, complete)
    assert page.total == page.in_district == len(expected)


async def test_pages_cross_from_every_word_to_some(session: AsyncSession) -> None:
    await make_meeting(session, district="almaly", measures=8, text="Ремонт школы {n}")
    await make_meeting(session, district="medeu", measures=8, text="Ремонт двора {n}",
                       starts_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC))  # fmt: skip
    pages = [
        await search_measures(
            session, "ремонт школы", district_id=None, page=n, per_page=6, today=TODAY
        )
        for n in range(4)
    ]
    assert [(p.page, p.total, p.complete, len(p.rows)) for p in pages] == [
        (0, 16, 8, 6), (1, 16, 8, 6), (2, 16, 8, 4), (2, 16, 8, 4)  # the last page, again
    ]  # fmt: skip
    texts = [row.text for p in pages[:3] for row in p.rows]
    assert texts[:8] == [f"Ремонт школы {n}" for n in range(1, 9)]
    assert texts[8:] == [f"Ремонт двора {n}" for n in range(1, 9)]  # one word: newest meeting


async def test_a_district_renamed_and_a_meeting_moved(session: AsyncSession, demo: int) -> None:
    district = (
        await session.execute(select(District).where(District.slug == "almaly"))
    ).scalar_one()
    district.name_en = "Apple District"
    district.short_en = "Apple"
    await session.commit()
    assert _plan(await _find(session, "apple")) == ALL_DEMO
    assert _plan(await _find(session, "Almaly")) == ALL_DEMO  # still an alias
    meeting_id, _ids = await make_meeting(
        session, district="almaly", measures=1, text="Новый сквер {n}"
    )
    older = await _find(session, "сквер")
    assert older.rows[0].text == "Новый сквер 1"  # 2023 is newer than 2022
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    meeting.starts_at = dt.datetime(2021, 1, 1, 9, tzinfo=dt.UTC)
    await session.commit()
    moved = await _find(session, "сквер")
    assert moved.rows[-1].text == "Новый сквер 1"  # now the oldest
