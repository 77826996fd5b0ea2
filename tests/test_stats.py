"""Statistics like the report's: the rounding, the seed's 74 questions printing exactly the
report's percentages, outcomes, measures with overdue, departments' timeliness, the chart,
typed periods, and refusals for non-admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from aiogram.methods import SendChatAction, SendPhoto
from aiogram.types import BufferedInputFile
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.i18n import CatalogI18n
from bot.keyboards.reports import ExportCb, ReportAction, StatsCb
from handlers.admin.stats import fit_message, report_name
from models.entities import (
    Category,
    Department,
    District,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    Meeting,
    ProblemIssue,
    Question,
    QuestionStatus,
)
from models.stats import Scope, ScopeKind, build_report, format_percent, percent, round_half_up
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages, visible_text

SLUGS = [
    "housing", "landscaping", "land", "business", "public_order",
    "social", "employment", "social_facilities", "roads", "other",
]  # fmt: skip
REPORT_COUNTS = [8, 18, 2, 9, 8, 8, 2, 4, 7, 8]
REPORT_PERCENTS_RU = [
    "10,8%", "24,3%", "2,7%", "12,2%", "10,8%", "10,8%", "2,7%", "5,4%", "9,5%", "10,8%",
]  # fmt: skip
OUTCOMES = [
    QuestionStatus.ANSWERED_AT_MEETING,
    QuestionStatus.DONE,
    QuestionStatus.IN_WORK,
    QuestionStatus.ACCEPTED,
]


def test_percent_rounds_half_up_to_one_decimal() -> None:
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 16) == Decimal("6.3")  # 6.25: half-even would give 6.2
    assert percent(1, 2000) == Decimal("0.1")  # 0.05
    assert percent(3, 2000) == Decimal("0.2")  # 0.15: a binary float gives 0.1
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(0, 0) == Decimal("0.0")
    assert round_half_up(0.05) == Decimal("0.1")
    assert round_half_up(2.25) == Decimal("2.3")
    assert [percent(c, 74) for c in REPORT_COUNTS] == [
        Decimal(p.replace(",", ".").rstrip("%")) for p in REPORT_PERCENTS_RU
    ]


def test_percent_is_formatted_with_the_locale_separator() -> None:
    assert format_percent(Decimal("10.8"), "ru") == "10,8%"
    assert format_percent(Decimal("10.8"), "kk") == "10,8%"
    assert format_percent(Decimal("10.8"), "en") == "10.8%"
    assert format_percent(Decimal("5.0"), "ru") == "5,0%"


@pytest.fixture
async def admin(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="ru", first_name="Staff")
    await onboard(client, "ru")
    return client


async def _categories(session: AsyncSession) -> dict[str, Category]:
    result = await session.execute(select(Category))
    return {c.slug: c for c in result.scalars()}


async def add_report_questions(session: AsyncSession, meeting_id: int) -> None:
    """The report's 74 classified questions, plus some that must not count."""
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    categories = await _categories(session)
    created = meeting.starts_at - dt.timedelta(days=3)
    n = 0
    for slug, count in zip(SLUGS, REPORT_COUNTS, strict=True):
        for _ in range(count):
            session.add(
                Question(
                    district_id=meeting.district_id,
                    meeting_id=meeting_id,
                    category_id=categories[slug].id,
                    text=f"Вопрос {n}",
                    status=OUTCOMES[n % len(OUTCOMES)],
                    created_at=created,
                )
            )
            n += 1
    for status in (
        QuestionStatus.SUBMITTED,
        QuestionStatus.SUBMITTED,
        QuestionStatus.REJECTED,
        QuestionStatus.MERGED,
    ):
        session.add(
            Question(
                district_id=meeting.district_id,
                meeting_id=meeting_id,
                category_id=categories["housing"].id,
                text="не считается",
                status=status,
                created_at=created,
            )
        )
    await session.commit()


async def test_meeting_statistics_print_the_reports_percentages(
    admin: BotClient, session: AsyncSession, demo: int
) -> None:
    await add_report_questions(session, demo)
    categories = await _categories(session)

    sent = await admin.send("/stats")
    sent = await admin.click(last_message(sent), "Встреча")
    sent = await admin.click(last_message(sent), "Алмал")
    report = last_message(sent)
    text = report.text.replace("\u202f", " ")
    assert "Статистика: встреча 23 июня 2022 г., 15:00, Алмалинский район" in text
    assert "(классифицировано: 74)" in text
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    expected = [
        f"• {categories[slug].name_ru[0].lower()}{categories[slug].name_ru[1:]} – {count} ({pct})"
        for slug, count, pct in zip(SLUGS, REPORT_COUNTS, REPORT_PERCENTS_RU, strict=True)
    ]
    assert lines[:10] == expected
    assert "• жилищные отношения – 8 (10,8%)" in text
    assert "• благоустройство, санитарная очистка и экология – 18 (24,3%)" in text
    # outcomes from the questions (74 split evenly-ish across four outcomes)
    assert "Поднято: 74; дано разъяснение на встрече: 19; исполнено: 19; в работе: 18" in text
    assert "Ждут модерации: 2; отклонено: 1; объединено дублей: 1." in text
    # and the figures the akimat published
    assert "поднято вопросов: 93; дано разъяснение на встрече: 45; исполнено: 37" in text
    assert "Мероприятия по статусам" in text
    assert len(text) <= 4096

    sent = await admin.click(report, "Диаграмма")
    photo = [s.method for s in sent if isinstance(s.method, SendPhoto)]
    assert len(photo) == 1
    # drawn in a thread while the chat shows "sending a photo…"
    actions = [s.method for s in sent if isinstance(s.method, SendChatAction)]
    assert actions and actions[0].action == "upload_photo"
    assert sent.index(next(s for s in sent if isinstance(s.method, SendChatAction))) < sent.index(
        next(s for s in sent if isinstance(s.method, SendPhoto))
    )
    assert isinstance(photo[0].photo, BufferedInputFile)
    assert photo[0].photo.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Вопросы по категориям" in (photo[0].caption or "")


async def test_english_statistics_use_a_decimal_point(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    await add_report_questions(session, demo)
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.press(StatsCb(action=ReportAction.SHOW, kind=ScopeKind.ALL).pack())
    text = last_message(sent).text
    assert "Housing relations – 8 (10.8%)" in text
    assert "Landscaping, sanitation and ecology – 18 (24.3%)" in text
    assert "Statistics: all time" in text


async def test_district_and_typed_period_and_quarter(
    admin: BotClient, session: AsyncSession, demo: int
) -> None:
    await add_report_questions(session, demo)
    sent = await admin.press(AdminCb(section=AdminSection.STATS).pack())
    menu = last_message(sent)
    sent = await admin.click(menu, "Район")
    sent = await admin.click(last_message(sent), "Алмалинский")
    assert "жилищные отношения – 8 (10,8%)" in last_message(sent).text

    sent = await admin.press(StatsCb(action=ReportAction.DATES).pack())
    assert "двумя датами" in last_message(sent).text
    sent = await admin.send("в прошлом месяце")
    assert "Не удалось распознать две даты" in last_message(sent).text
    sent = await admin.send("30.06.2022 - 01.06.2022")
    assert "Первая дата позже второй" in last_message(sent).text
    sent = await admin.send("01.06.2022 – 30.06.2022")
    text = last_message(sent).text.replace("\u202f", " ")
    assert "1 июн. 2022 г. – 30 июн. 2022 г." in text
    assert "(классифицировано: 74)" in text

    sent = await admin.press(StatsCb(action=ReportAction.SHOW, kind=ScopeKind.PERIOD,
                                     start=20230101, end=20231231).pack())  # fmt: skip
    assert "(классифицировано: 0)" in last_message(sent).text

    with time_machine.travel(dt.datetime(2022, 7, 10, 6, 0, tzinfo=dt.UTC), tick=False):
        sent = await admin.press(StatsCb(action=ReportAction.SHOW, kind=ScopeKind.QUARTER).pack())
    text = last_message(sent).text
    assert "текущий квартал" in text
    assert "(классифицировано: 0)" in text  # the meeting was in the second quarter
    with time_machine.travel(dt.datetime(2022, 6, 30, 6, 0, tzinfo=dt.UTC), tick=False):
        sent = await admin.press(StatsCb(action=ReportAction.SHOW, kind=ScopeKind.QUARTER).pack())
    assert "(классифицировано: 74)" in last_message(sent).text


async def _department(session: AsyncSession, code: str) -> Department:
    return (await session.execute(select(Department).where(Department.code == code))).scalar_one()


async def test_measures_with_overdue_and_department_timeliness(
    admin: BotClient, session: AsyncSession
) -> None:
    district = (
        await session.execute(select(District).where(District.slug == "medeu"))
    ).scalar_one()
    starts = dt.datetime(2023, 3, 1, 9, 0, tzinfo=dt.UTC)
    meeting = Meeting(district_id=district.id, starts_at=starts, place="Акимат")
    session.add(meeting)
    await session.flush()
    problem = ProblemIssue(meeting_id=meeting.id, number=1, title="Дороги")
    session.add(problem)
    await session.flush()
    department = await _department(session, "УЭиВ")
    other = (
        await session.execute(select(Department).where(Department.id != department.id).limit(1))
    ).scalar_one()
    due = dt.date(2023, 6, 30)
    specs = [
        # status, closed_at (UTC), executors
        (MeasureStatus.DONE, dt.datetime(2023, 6, 30, 17, 0, tzinfo=dt.UTC), [department]),
        # 30 June 23:00 in Almaty is 1 July UTC-wise? no: 17:00 UTC is 23:00 local, on time
        (MeasureStatus.DONE, dt.datetime(2023, 7, 10, 5, 0, tzinfo=dt.UTC), [department]),
        (MeasureStatus.PLANNED, None, [department, other]),
        (MeasureStatus.IN_PROGRESS, None, [other]),
    ]
    for position, (status, closed_at, executors) in enumerate(specs, start=1):
        measure = Measure(
            problem_id=problem.id,
            position=position,
            text=f"Мера {position}",
            due_date=due if position < 4 else dt.date(2023, 12, 31),
            status=status,
            closed_at=closed_at,
        )
        session.add(measure)
        await session.flush()
        for index, executor in enumerate(executors):
            session.add(
                MeasureDepartment(measure_id=measure.id, department_id=executor.id, position=index)
            )
    categories = await _categories(session)
    moderated = dt.datetime(2023, 2, 1, 6, 0, tzinfo=dt.UTC)
    for days in (2, 4, None):
        session.add(
            Question(
                district_id=district.id,
                meeting_id=meeting.id,
                category_id=categories["housing"].id,
                text="Вопрос управлению",
                status=QuestionStatus.IN_WORK if days is None else QuestionStatus.DONE,
                department_id=department.id,
                moderated_at=moderated,
                answered_at=None if days is None else moderated + dt.timedelta(days=days),
                created_at=moderated,
            )
        )
    await session.commit()

    # 20 July 2023 in Almaty: measure 3 is 20 days overdue; measure 2 was closed 10 days late
    with time_machine.travel(dt.datetime(2023, 7, 20, 6, 0, tzinfo=dt.UTC), tick=False):
        sent = await admin.press(
            StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=meeting.id).pack()
        )
    text = last_message(sent).text
    assert "Мероприятия по статусам (всего: 4)" in text
    assert "✅ выполнено: 2" in text
    assert "🔴 просрочено: 1" in text
    assert "🔄 в работе: 1" in text
    assert department.short("ru") == "Управление энергетики и водоснабжения"
    line = next(x for x in text.splitlines() if x.startswith(f"• {department.short('ru')}:"))
    assert (
        "мероприятий: 3; закрыто в срок: 1; с опозданием: 1; просрочено сейчас: 1; "
        "медиана опоздания, дней: 15"
    ) in line
    assert "вопросов: 3; отвечено: 2; медиана времени ответа, дней: 3" in line
    other_line = next(x for x in text.splitlines() if x.startswith(f"• {other.short('ru')}:"))
    assert "мероприятий: 2; закрыто в срок: 0; с опозданием: 0; просрочено сейчас: 1" in other_line
    assert "УЭиВ" not in text


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_timeliness_names_departments_in_the_viewers_language(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int, locale: str
) -> None:
    """Not the Russian codes (УЭиВ, УО, УКС): each department's short name in the locale."""
    admin = make_client(user_id=ADMIN_ID, language_code=locale)
    await onboard(admin, locale)
    sent = await admin.press(
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=demo).pack()
    )
    text = last_message(sent).text
    departments = {d.code: d for d in (await session.execute(select(Department))).scalars()}
    for code in ("УЭиВ", "УО", "УКС", "УОЗ", "УК"):
        name = departments[code].short(locale)
        assert name != departments[code].short("ru")
        assert any(line.startswith(f"• {name}:") for line in text.splitlines()), name
        assert f"• {code}:" not in text
    assert "УЭиВ" not in text


async def test_non_admins_get_a_refusal_and_commands_do_not_exist(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    resident = make_client(user_id=1001, language_code="ru")
    await onboard(resident, "ru")
    forged = [
        StatsCb(action=ReportAction.MENU).pack(),
        StatsCb(action=ReportAction.MEETINGS).pack(),
        StatsCb(action=ReportAction.DISTRICTS).pack(),
        StatsCb(action=ReportAction.DATES).pack(),
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=demo).pack(),
        StatsCb(action=ReportAction.CHART, kind=ScopeKind.ALL).pack(),
        ExportCb(action=ReportAction.SHOW, kind=ScopeKind.ALL).pack(),
        ExportCb(action=ReportAction.XLSX, kind=ScopeKind.MEETING, id=demo).pack(),
        ExportCb(action=ReportAction.CSV, kind=ScopeKind.ALL).pack(),
    ]
    for data in forged:
        sent = await resident.press(data)
        assert alerts(sent) == ["Извините, это только для сотрудников акимата."], data
        assert messages(sent) == [], data
    for section in (AdminSection.STATS, AdminSection.EXPORT):
        sent = await resident.press(AdminCb(section=section).pack())
        assert len(alerts(sent)) == 1
        assert messages(sent) == []
    unknown = last_message(await resident.send("/nosuchcommand")).text
    assert last_message(await resident.send("/stats")).text == unknown
    assert last_message(await resident.send("/export")).text == unknown


def test_a_long_report_keeps_within_one_message(i18n: CatalogI18n) -> None:
    head = ["📊 header", "x" * 500]
    departments = [f"• D{n}: " + "y" * 120 for n in range(200)]
    with i18n.context(), i18n.use_locale("en"):
        text = fit_message(head, departments)
    assert len(text) <= 4096
    assert text.startswith("📊 header")
    assert "• D0: " in text
    assert text.endswith("; see the export.")
    short = fit_message(head, departments[:3])
    assert short == "\n".join(head + departments[:3])


# The report's sentence, verbatim (two spaces after «(12,2%);» included), that the demo's
# published breakdown must reproduce.
SEED_CLASSIFICATION = (
    "жилищные отношения – 8 (10,8%); благоустройство, санитарная очистка и экология – 18 "
    "(24,3%); земельных отношений – 2 (2,7%); предпринимательства – 9 (12,2%);  правопорядок – "
    "8 (10,8%); социальная сфера – 8 (10,8%); трудоустройство – 2 (2,7%); ремонт и строительство "
    "объектов образования, здравоохранения, культуры и спорта – 4 (5,4%); ремонта и "
    "строительства автомобильных дорог – 7 (9,5%); другие – 8 (10,8%)."
)
PERCENTS = {
    "ru": REPORT_PERCENTS_RU,
    "kk": REPORT_PERCENTS_RU,
    "en": [p.replace(",", ".") for p in REPORT_PERCENTS_RU],
}
PUBLISHED_HEAD = (
    "<b>Questions by category, as published after the meeting</b> (classified: {total})"
)
COUNTED_HEAD = "<b>Questions by category, sent through the bot</b> (classified: {total})"
NONE_SENT = "No questions were sent through the bot for this meeting."


async def test_demo_carries_the_reports_published_breakdown_exactly(
    session: AsyncSession, demo: int
) -> None:
    report = await build_report(session, Scope(ScopeKind.MEETING, id=demo), dt.date(2024, 1, 1))
    assert report.published_total == 74
    assert len([row for row in report.published if row.count]) == 10
    sentence = "; ".join(
        f"{row.category.seed_label_ru} – {row.count} ({format_percent(row.percent, 'ru')})"
        for row in report.published
    )
    assert sentence + "." == " ".join(SEED_CLASSIFICATION.split())
    assert report.classified == 0  # no individual question exists


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_meeting_without_questions_shows_the_published_breakdown(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    demo: int,
    i18n: CatalogI18n,
    locale: str,
) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code=locale)
    await onboard(admin, locale)
    assert await session.scalar(select(func.count()).select_from(Question)) == 0
    categories = await _categories(session)

    sent = await admin.press(
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=demo).pack()
    )
    text = last_message(sent).text
    head = visible_text(i18n.gettext(PUBLISHED_HEAD, locale=locale).format(total="74"))
    assert head in text
    if locale != "en":
        assert "published" not in head
    none_sent = i18n.gettext(NONE_SENT, locale=locale)
    assert none_sent in text
    block = text[text.index(head) : text.index(none_sent)]
    lines = [line for line in block.splitlines() if line.startswith("• ")]
    assert lines == [
        f"• {report_name(categories[slug].name(locale), locale)} – {count} ({pct})"
        for slug, count, pct in zip(SLUGS, REPORT_COUNTS, PERCENTS[locale], strict=True)
    ]
    assert i18n.gettext("No classified questions yet.", locale=locale) not in text
    counted = visible_text(i18n.gettext(COUNTED_HEAD, locale=locale).format(total="0"))
    assert counted not in text
    # the other figures published after the meeting stay
    published_outcome = i18n.gettext("<b>Published after the meeting</b>", locale=locale)
    assert visible_text(published_outcome) in text

    # the chart draws the published figures, labelled as such
    sent = await admin.press(
        StatsCb(action=ReportAction.CHART, kind=ScopeKind.MEETING, id=demo).pack()
    )
    photos = [s.method for s in sent if isinstance(s.method, SendPhoto)]
    assert len(photos) == 1 and alerts(sent) == []
    caption = photos[0].caption or ""
    assert caption.startswith(
        i18n.gettext("📊 Questions by category, as published: {scope}", locale=locale).split("{")[0]
    )


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_meeting_with_questions_shows_both_never_added_up(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    demo: int,
    i18n: CatalogI18n,
    locale: str,
) -> None:
    meeting = await session.get(Meeting, demo)
    assert meeting is not None
    categories = await _categories(session)
    for slug, status in (
        ("roads", QuestionStatus.ACCEPTED),
        ("roads", QuestionStatus.DONE),
        ("housing", QuestionStatus.IN_WORK),
        ("housing", QuestionStatus.SUBMITTED),  # not classified yet
    ):
        session.add(
            Question(
                district_id=meeting.district_id,
                meeting_id=demo,
                category_id=categories[slug].id,
                text="Вопрос",
                status=status,
                created_at=meeting.starts_at - dt.timedelta(days=2),
            )
        )
    await session.commit()
    admin = make_client(user_id=ADMIN_ID, language_code=locale)
    await onboard(admin, locale)

    sent = await admin.press(
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=demo).pack()
    )
    text = last_message(sent).text
    published = visible_text(i18n.gettext(PUBLISHED_HEAD, locale=locale).format(total="74"))
    counted = visible_text(i18n.gettext(COUNTED_HEAD, locale=locale).format(total="3"))
    assert published in text and counted in text
    assert text.index(published) < text.index(counted)
    roads = report_name(categories["roads"].name(locale), locale)
    housing = report_name(categories["housing"].name(locale), locale)
    after = text[text.index(counted) :]
    pct = {"en": ("66.7%", "33.3%")}.get(locale, ("66,7%", "33,3%"))
    assert f"• {roads} – 2 ({pct[0]})" in after
    assert f"• {housing} – 1 ({pct[1]})" in after
    before = text[: text.index(counted)]
    assert f"• {roads} – 7 ({PERCENTS[locale][8]})" in before  # the published 7, not 9
    assert i18n.gettext(NONE_SENT, locale=locale) not in text

    # a district counts only the bot's questions: the published figures cover one meeting
    sent = await admin.press(
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.DISTRICT, id=meeting.district_id).pack()
    )
    text = last_message(sent).text
    assert published not in text
    plain = visible_text(
        i18n.gettext("<b>Questions by category</b> (classified: {total})", locale=locale)
    ).format(total=3)
    assert plain in text

    # the chart draws the counted questions
    sent = await admin.press(
        StatsCb(action=ReportAction.CHART, kind=ScopeKind.MEETING, id=demo).pack()
    )
    photos = [s.method for s in sent if isinstance(s.method, SendPhoto)]
    assert len(photos) == 1
    assert (photos[0].caption or "").startswith(
        i18n.gettext("📊 Questions by category: {scope}", locale=locale).split("{")[0]
    )
    assert "published" not in (photos[0].caption or "")
