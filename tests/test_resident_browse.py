"""Browsing commitments through the real Dispatcher: district → meetings → plan → measure card,
history, pagination and "back" on a 60-measure meeting, the city overview, long texts, forged
buttons, and a bounded number of SQL statements per screen."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine
from babel.dates import format_date
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.formatting import fmt_datetime
from bot.keyboards.resident import (
    MEASURES_PER_PAGE,
    CardCb,
    DistrictPageCb,
    HistoryCb,
    MeetingCb,
    Src,
)
from models import commitments
from models.clock import ALMATY
from models.entities import (
    Department,
    Dispute,
    District,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    Meeting,
    ProblemIssue,
    User,
)
from models.measures import record_change
from models.reference import DATA_DIR
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message, messages

MENU = {"ru": "📋 Обязательства", "kk": "📋 Міндеттемелер", "en": "📋 Commitments"}
COMMENT = "Работы идут <по графику> & в срок"
TODAY = dt.datetime(2022, 8, 1, 12, 0, tzinfo=ALMATY)  # 30 days before 31 August 2022


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=True):
        yield


def reference_department(code: str) -> dict[str, Any]:
    data = json.loads((DATA_DIR / "reference.json").read_text(encoding="utf-8"))
    return next(d for d in data["departments"] if d["code"] == code)


async def make_meeting(
    session: AsyncSession,
    *,
    district: str = "medeu",
    measures: int = 60,
    problems: int = 1,
    starts_at: dt.datetime = dt.datetime(2023, 3, 1, 9, 0, tzinfo=dt.UTC),
    text: str = "Ремонт двора по улице Пример, дом {n}",
    departments: tuple[str, ...] = ("УЭиВ",),
) -> tuple[int, list[int]]:
    """A meeting with ``measures`` measures spread over ``problems`` problem issues."""
    district_id = (
        await session.execute(select(District.id).where(District.slug == district))
    ).scalar_one()
    department_ids = [
        (await session.execute(select(Department.id).where(Department.code == c))).scalar_one()
        for c in departments
    ]
    meeting = Meeting(district_id=district_id, starts_at=starts_at, place="Акимат")
    session.add(meeting)
    await session.flush()
    ids = []
    per_problem = -(-measures // problems)
    for p in range(problems):
        title = f"Проблема номер {p + 1}"
        problem = ProblemIssue(meeting_id=meeting.id, number=p + 1, title=title)
        session.add(problem)
        await session.flush()
        for i in range(per_problem):
            n = p * per_problem + i + 1
            if n > measures:
                break
            body = text.format(n=n)
            measure = Measure(
                problem_id=problem.id,
                position=i + 1,
                text=body,
                deadline_text="4 квартал 2022 года",
                due_date=dt.date(2022, 12, 31),
            )
            session.add(measure)
            await session.flush()
            for pos, dep in enumerate(department_ids):
                session.add(
                    MeasureDepartment(measure_id=measure.id, department_id=dep, position=pos)
                )
            ids.append(measure.id)
    await session.commit()
    return meeting.id, ids


async def kindergarten_id(session: AsyncSession) -> int:
    return (
        await session.execute(select(Measure.id).where(Measure.text.like("%детского сада №7%")))
    ).scalar_one()


async def _browse_to_the_kindergarten_card(
    make_client: Callable[..., BotClient], locale: str
) -> None:
    client = make_client(user_id=5100 + ("ru", "kk", "en").index(locale), language_code=locale)
    await onboard(client, locale)
    sent = await client.send(MENU[locale])
    chooser = last_message(sent)
    assert chooser.buttons[0].startswith("📍 ")  # the resident's own district comes first
    assert "(21)" in chooser.buttons[0]  # the demo's 12 measures and 9 promises stated
    assert len([b for b in chooser.buttons if not b.startswith("🏙")]) == 8

    sent = await client.click(chooser, "📍")
    district_page = last_message(sent)
    date = {loc: fmt_datetime(dt.datetime(2022, 6, 23, 9, tzinfo=dt.UTC), loc) for loc in MENU}
    assert date[locale] in district_page.text
    tally = {  # the plan's 12 measures and the 9 promises stated at the meeting
        "ru": "21 мероприятие: 21 запланировано",
        "kk": "21 іс-шара: 21 жоспарланған",
        "en": "21 measures: 21 planned",
    }
    assert tally[locale] in district_page.text
    assert "Шевченко, 97" in district_page.text  # the place

    sent = await client.click(district_page, "📅")
    plan = last_message(sent)
    assert "1. Инженерные сети" in plan.text
    assert "3.1 Завершение сейсмоусиления" in plan.text

    sent = await client.click(plan, "3.1")
    card = last_message(sent)
    assert "Завершение сейсмоусиления детского сада №7" in card.text
    assert "Дефицит мест в дошкольных организациях" in card.text
    assert "31 август 2022 года" in card.text  # as written
    assert format_date(dt.date(2022, 8, 31), "long", locale=locale) in card.text  # Babel
    days = {"ru": "осталось 30 дней", "kk": "30 күн қалды", "en": "30 days left"}
    assert days[locale] in card.text
    for code in ("УО", "УКС"):
        assert reference_department(code)[f"name_{locale}"] in card.text
    status = {"ru": "🗓 запланировано", "kk": "🗓", "en": "🗓 planned"}
    assert status[locale] in card.text
    assert "Report" not in " ".join(card.buttons)  # a resident cannot report progress

    # back returns to the plan page the card was opened from, then to the district page
    sent = await client.click(card, "⬅️")
    assert "3.1 Завершение сейсмоусиления" in last_message(sent).text
    sent = await client.click(last_message(sent), "⬅️")
    assert date[locale] in last_message(sent).text
    # every step edited the same message in place
    assert all(type(s.method).__name__ == "EditMessageText" for s in messages(sent))


async def test_browse_to_the_kindergarten_card_in_each_language(
    make_client: Callable[..., BotClient], demo: int, today: None
) -> None:
    for locale in ("ru", "kk", "en"):
        await _browse_to_the_kindergarten_card(make_client, locale)


async def test_card_shows_overdue_progress_latest_update_disputes_and_history(
    client: BotClient, session: AsyncSession, demo: int
) -> None:
    measure_id = await kindergarten_id(session)
    measure = await session.get(Measure, measure_id)
    assert measure is not None
    uo = (await session.execute(select(Department).where(Department.code == "УО"))).scalar_one()
    with time_machine.travel(dt.datetime(2022, 7, 1, 10, tzinfo=ALMATY), tick=True):
        await record_change(
            session, measure, author_id=None, department_id=uo.id,
            status=MeasureStatus.IN_PROGRESS, progress=40, comment=COMMENT,
        )  # fmt: skip
    session.add(Dispute(measure_id=measure_id, comment="не сделано"))
    session.add(Dispute(measure_id=measure_id, comment="не сделано"))
    session.add(Dispute(measure_id=measure_id, comment="старое", resolved=True))
    await session.commit()

    await onboard(client, "en")
    with time_machine.travel(dt.datetime(2022, 9, 3, 12, tzinfo=ALMATY), tick=True):
        sent = await client.press(OpenMeasureCb(id=measure_id).pack())
    card = last_message(sent)
    assert "🔴 overdue" in card.text
    assert "3 days overdue" in card.text
    assert "Progress: 40%" in card.text
    assert "Jul 1, 2022, Education Department" in card.text
    assert COMMENT in card.text  # escaped, shown literally
    assert "⚠️ 2 residents disagree that it is done" in card.text
    assert "📜 History (1)" in card.buttons

    sent = await client.click(card, "History")
    history = last_message(sent)
    assert "Education Department" in history.text
    assert "🔄 in progress, 40%" in history.text
    sent = await client.click(history, "Back to the card")
    assert "Завершение сейсмоусиления" in last_message(sent).text


async def test_report_button_only_for_responsible_members_and_admins(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    from tests.conftest import ADMIN_ID

    measure_id = await kindergarten_id(session)
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.press(OpenMeasureCb(id=measure_id).pack())
    card = last_message(sent)
    assert "📝 Report progress" in card.buttons
    report = next(
        b for row in card.markup.inline_keyboard for b in row  # type: ignore[union-attr]
        if b.text == "📝 Report progress"
    )  # fmt: skip
    assert report.callback_data == f"rpt:{measure_id}"

    resident = make_client(user_id=5301, language_code="en")
    await onboard(resident, "en")
    sent = await resident.press(OpenMeasureCb(id=measure_id).pack())
    assert "📝 Report progress" not in last_message(sent).buttons


async def test_proof_photo_button_sends_the_photo(
    client: BotClient, session: AsyncSession, demo: int
) -> None:
    measure_id = await kindergarten_id(session)
    measure = await session.get(Measure, measure_id)
    assert measure is not None
    measure.proof_photo_file_id = "proof-file-id"
    await session.commit()
    await onboard(client, "ru")
    sent = await client.press(OpenMeasureCb(id=measure_id).pack())
    sent = await client.click(last_message(sent), "📷")
    photo = last_message(sent)
    assert type(photo.method).__name__ == "SendPhoto"
    assert photo.method.photo == "proof-file-id"  # type: ignore[attr-defined]


async def test_pagination_and_back_on_a_meeting_with_60_measures(
    client: BotClient, session: AsyncSession
) -> None:
    meeting_id, _ids = await make_meeting(session, measures=60, problems=3)
    await onboard(client, "en")
    sent = await client.send(MENU["en"])
    sent = await client.click(last_message(sent), "Medeu (60)")
    sent = await client.click(last_message(sent), "📅")
    plan = last_message(sent)
    assert "1/8" in plan.buttons
    assert "1.1 Ремонт двора" in plan.text
    assert "1.9 " not in plan.text

    sent = await client.click(plan, "▶️")
    page2 = last_message(sent)
    assert "2/8" in page2.buttons
    assert "1.9 Ремонт двора по улице Пример, дом 9" in page2.text
    assert "1.16 " in page2.text

    sent = await client.click(page2, "1.12 ")
    card = last_message(sent)
    assert "дом 12" in card.text
    sent = await client.click(card, "⬅️ Back")
    back = last_message(sent)
    assert "2/8" in back.buttons  # back on the page the card was opened from
    assert "1.12 " in back.text

    # the last page, then beyond it with a forged page number
    sent = await client.press(MeetingCb(id=meeting_id, page=7, dp=0).pack())
    assert "8/8" in last_message(sent).buttons
    assert "3.20 " in last_message(sent).text
    sent = await client.press(MeetingCb(id=meeting_id, page=99, dp=0).pack())
    assert "8/8" in last_message(sent).buttons
    assert any("page 8" in a for a in alerts(sent))

    # problem headings repeat on every page and every list fits Telegram's limits
    sent = await client.press(MeetingCb(id=meeting_id, page=3, dp=0).pack())
    assert "2. Проблема номер 2" in last_message(sent).text


async def test_forged_and_stale_buttons_change_nothing(
    client: BotClient, session: AsyncSession, demo: int
) -> None:
    await onboard(client, "en")
    for data in (
        CardCb(id=999_999, src=Src.MEETING, page=0, dp=0).pack(),
        HistoryCb(id=999_999, hp=0, src=Src.NONE, page=0, dp=0).pack(),
        MeetingCb(id=999_999, page=0, dp=0).pack(),
        DistrictPageCb(id=999_999, page=0).pack(),
        OpenMeasureCb(id=999_999).pack(),
        "rf:999999:1:m:0:0",
        "rg:999999:1:0",
        "rx:999999",
        "rc:not-a-number",
        # beyond the databases' 32-bit ids and with absurd pages: still a polite answer
        "rc:99999999999999:m:0:0",
        "om:99999999999999",
        "ru:m:99999999999999:0",
        "rf:99999999999999:1:m:0:0",
        "rm:99999999999999:0",
        "rh:99999999999999:0:n:0:0",
        "rx:-5",
    ):
        sent = await client.press(data)
        assert alerts(sent), data
        assert not messages(sent), data
    assert "no longer exists" in alerts(await client.press("rc:999999:m:0:0"))[0]
    from models.entities import Follow

    assert (await session.execute(select(Follow))).first() is None

    # a forged huge page to go back to is kept small, so the buttons stay within 64 bytes
    measure_id = await kindergarten_id(session)
    sent = await client.press(f"rc:{measure_id}:m:{'9' * 30}:{'9' * 30}")
    assert "сейсмоусиления" in last_message(sent).text
    sent = await client.press(f"rn:{demo}:{'9' * 30}:{'9' * 30}")
    assert "Инженерные сети" not in last_message(sent).text  # the last page
    sent = await client.send("/start m99999999999999")
    assert "Kezdesu" in last_message(sent).text  # an unknown payload: a plain /start


async def test_city_overview(client: BotClient, session: AsyncSession, demo: int) -> None:
    await make_meeting(session, district="medeu", measures=3)
    await onboard(client, "ru")
    sent = await client.send(MENU["ru"])
    sent = await client.click(last_message(sent), "Сводка по городу")
    overview = last_message(sent)
    assert "Алмалинский" in overview.text
    assert "21 мероприятие" in overview.text  # 12 in the plan, 9 stated at the meeting
    assert "Медеуский" in overview.text
    assert "Весь город" in overview.text
    assert "24 мероприятия" in overview.text
    assert "Наурызбайский</b>: опубликованных обязательств пока нет" not in overview.text
    assert "Наурызбайский: опубликованных обязательств пока нет" in overview.text
    sent = await client.click(overview, "Медеуский")
    assert "Медеуский район" in last_message(sent).text


async def test_a_3000_character_measure_still_sends(
    client: BotClient, session: AsyncSession
) -> None:
    everyone = ("УЭиВ", "УО", "УКС", "УОЗ", "УК", "УЗиСП", "УЭиОС", "ДП", "УРКИ", "УГМ", "УПиИ")
    text = ("Очень длинная мера & <важная> " * 120)[:3000]
    _meeting, ids = await make_meeting(session, measures=1, text=text, departments=everyone)
    measure = await session.get(Measure, ids[0])
    problem = await session.get(ProblemIssue, measure.problem_id) if measure else None
    assert measure is not None and problem is not None
    problem.title = "Т" * 1000
    measure.deadline_text = "д" * 500
    await record_change(
        session, measure, author_id=None, department_id=None, comment="к" * 3000, progress=10
    )
    await session.commit()
    assert len(measure.text) == 3000

    await onboard(client, "kk")
    sent = await client.press(OpenMeasureCb(id=ids[0]).pack())
    card = last_message(sent)
    assert card.result is not None  # the recording Bot API accepted it
    assert "Очень длинная мера &amp; &lt;важная&gt;" in str(card.method.text)  # type: ignore[attr-defined]
    assert len(str(card.method.text)) <= 4096  # type: ignore[attr-defined]
    assert "және тағы 5" in card.text  # departments beyond six are counted, not listed
    for data in (b.callback_data for row in card.markup.inline_keyboard for b in row):  # type: ignore[union-attr]
        assert data is None or len(data.encode()) <= 64


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_bounded_queries_for_card_and_lists(
    engine: AsyncEngine, session: AsyncSession, demo: int
) -> None:
    small_id, small = await make_meeting(session, measures=3, departments=("УО", "УКС"))
    big_id, big = await make_meeting(
        session, measures=60, problems=6, departments=("УО", "УКС", "УЭиВ"),
        starts_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    measure = await session.get(Measure, big[0])
    assert measure is not None
    for n in range(12):
        await record_change(session, measure, author_id=None, department_id=None, progress=n)
    first = await session.get(Measure, small[0])
    assert first is not None
    await record_change(session, first, author_id=None, department_id=None, comment="one")
    user = User(tg_id=77, locale="en")
    session.add(user)
    await session.commit()
    today = dt.date(2023, 1, 1)

    async def card_cost(measure_id: int) -> int:
        session.expunge_all()
        with count_statements(engine) as statements:
            card = await commitments.load_card(session, measure_id, user=user, is_admin=False)
        assert card is not None
        return len(statements)

    assert await card_cost(small[0]) == await card_cost(big[0]) <= 8

    async def list_cost(meeting_id: int) -> int:
        session.expunge_all()
        with count_statements(engine) as statements:
            page = await commitments.meeting_page(session, meeting_id, 0, 60, today)
        assert page is not None
        return len(statements)

    assert await list_cost(small_id) == await list_cost(big_id) <= 4

    async def history_cost(measure_id: int) -> int:
        session.expunge_all()
        with count_statements(engine) as statements:
            await commitments.measure_history(session, measure_id, 0, 50)
        return len(statements)

    assert await history_cost(small[0]) == await history_cost(big[0]) <= 3

    session.expunge_all()
    with count_statements(engine) as statements:
        await commitments.city_overview(session, today)
    assert len(statements) <= 3


async def test_bounded_queries_through_the_dispatcher(
    client: BotClient, engine: AsyncEngine, session: AsyncSession
) -> None:
    small_id, _small = await make_meeting(session, measures=3)
    big_id, _big = await make_meeting(
        session, measures=60, starts_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    )
    await onboard(client, "en")

    async def cost(meeting_id: int) -> int:
        with count_statements(engine) as statements:
            await client.press(MeetingCb(id=meeting_id, page=0, dp=0).pack())
        return len(statements)

    await cost(small_id)  # the profile is read once, then cached
    assert await cost(small_id) == await cost(big_id)
    assert MEASURES_PER_PAGE == 8


async def test_browse_queries_use_indexes_not_table_scans(
    engine: AsyncEngine, session: AsyncSession, db_url: str
) -> None:
    """On SQLite, ``EXPLAIN QUERY PLAN`` of every statement behind a card, a plan page and a
    history page searches an index; none scans a whole per-row table."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the query plan check reads SQLite's EXPLAIN QUERY PLAN")
    meeting_id, ids = await make_meeting(session, measures=20, departments=("УО", "УКС"))
    measure = await session.get(Measure, ids[3])
    assert measure is not None
    await record_change(session, measure, author_id=None, department_id=None, progress=5)
    user = User(tg_id=78, locale="ru")
    session.add(user)
    await session.commit()
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    district_id = meeting.district_id
    captured: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        await commitments.load_card(session, ids[3], user=user, is_admin=False)
        await commitments.meeting_page(session, meeting_id, 1, 8, dt.date(2023, 1, 1))
        await commitments.measure_history(session, ids[3], 0, 6)
        await commitments.district_page(session, district_id, 0, 5, dt.date(2023, 1, 1), user.id)
        await commitments.following_page(session, user.id, 0, 6, dt.date(2023, 1, 1))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
    assert captured
    per_row_tables = ("measures", "measure_updates", "follows", "disputes", "problem_issues",
                      "measure_departments", "meetings")  # fmt: skip
    async with engine.connect() as conn:
        for statement, parameters in captured:
            raw = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [str(row[-1]) for row in raw.all()]
            for line in plan:
                for table in per_row_tables:
                    assert not line.startswith(f"SCAN {table}"), (statement, plan)


async def test_pressing_the_current_page_again_is_harmless(
    client: BotClient, session: AsyncSession, bot_session: Any
) -> None:
    from aiogram.methods import EditMessageText

    meeting_id, _ids = await make_meeting(session, measures=20)
    await onboard(client, "en")
    sent = await client.press(MeetingCb(id=meeting_id, page=0, dp=0).pack())
    bot_session.fail_next(EditMessageText, 400, "Bad Request: message is not modified")
    sent = await client.click(last_message(sent), "1/3")
    assert not [a for a in alerts(sent) if "Sorry" in a]


async def test_open_card_from_a_group_reminder_in_the_pressers_language(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    measure_id = await kindergarten_id(session)
    official = make_client(
        user_id=5401, language_code="en", chat_id=-100500, chat_type="supergroup"
    )  # never opened the bot privately: Telegram's language decides
    sent = await official.press(OpenMeasureCb(id=measure_id).pack())
    card = last_message(sent)
    assert card.method.chat_id == -100500  # type: ignore[attr-defined]
    assert "Status:" in card.text
    assert "August 31, 2022" in card.text
    assert "Almaty City Department of Education" in card.text


async def test_render_card_is_reusable_without_navigation(
    session: AsyncSession, i18n: Any, demo: int
) -> None:
    """Other areas load a card with ``load_card`` and render it with ``render_card``."""
    from bot.keyboards.resident import render_card

    measure_id = await kindergarten_id(session)
    card = await commitments.load_card(session, measure_id, is_admin=True)
    assert card is not None
    with i18n.context(), i18n.use_locale("kk"):
        text, markup = render_card(card, "kk", dt.date(2022, 8, 30), nav=None)
    assert "1 күн қалды" in text
    assert format_date(dt.date(2022, 8, 31), "long", locale="kk") in text
    buttons = [b.text for row in markup.inline_keyboard for b in row]
    assert "⬅️ Артқа" not in buttons  # no "back" without navigation
    assert any("📝" in b for b in buttons)  # an admin may report progress
