"""The seed's plan: loaded by `kezdesu demo`, idempotently, with executors split and deadlines
parsed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.demo import load_demo
from models.entities import (
    Category,
    Department,
    District,
    Measure,
    MeasureDepartment,
    MeasureSource,
    Meeting,
    MeetingCategoryCount,
    ProblemIssue,
)
from models.plans import split_executors
from models.spoken import SPOKEN_GROUP_NUMBER

EXPECTED = [
    # (problem number, measure start, deadline as written, due date, executor codes)
    (1, "Модернизация 81 км", "2022 год", dt.date(2022, 12, 31), ["УЭиВ"]),
    (1, "Реконструкция водопроводных", "4 квартал 2022 года", dt.date(2022, 12, 31), ["УЭиВ"]),
    (1, "Передача бесхозных", "4 квартал 2022 года", dt.date(2022, 12, 31), ["УЭиВ"]),
    (2, "Разработка проектной", "3 квартал 2023 года", dt.date(2023, 9, 30), ["УО", "УКС"]),
    (3, "Завершение сейсмоусиления", "31 август 2022 года", dt.date(2022, 8, 31), ["УО", "УКС"]),
    (4, "Разработка ПСД по строительству", "2 квартал 2023 года", dt.date(2023, 6, 30), ["УОЗ"]),
    (5, "Разработка ПСД на строительство", "2 квартал 2023 года", dt.date(2023, 6, 30), ["УОЗ"]),
    (6, "Реконструкция мавзолея", "2023 год", dt.date(2023, 12, 31), ["УК"]),
    (7, "Благоустройство парковой", "2022 год", dt.date(2022, 12, 31),
     ["Аппарат акима Алмалинского района"]),
    (8, "Получение заключения", "2022 год", dt.date(2022, 12, 31),
     ["УЗиСП", "УЭиОС", "Аппарат акима Алмалинского района"]),
    (9, "Увеличение количества камер", "2022 год", dt.date(2022, 12, 31), ["ДП"]),
    (10, "Завершение ремонта сквера", "31 август 2022 года", dt.date(2022, 8, 31),
     ["Аппарат акима Алмалинского района"]),
]  # fmt: skip


async def _plan(session: AsyncSession) -> list[tuple[int, str, str, dt.date | None, list[str]]]:
    rows = await session.execute(
        select(ProblemIssue.number, Measure)
        .join(Measure, Measure.problem_id == ProblemIssue.id)
        .where(Measure.source == MeasureSource.PLAN)
        .order_by(ProblemIssue.number, Measure.position)
    )
    result = []
    for number, measure in rows.all():
        codes = (
            await session.execute(
                select(Department.code)
                .join(MeasureDepartment, MeasureDepartment.department_id == Department.id)
                .where(MeasureDepartment.measure_id == measure.id)
                .order_by(MeasureDepartment.position)
            )
        ).scalars()
        result.append((number, measure.text, measure.deadline_text, measure.due_date, list(codes)))
    return result


async def test_demo_twice_leaves_exactly_the_seed_plan(
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    for attempt in range(2):
        async with session_pool() as session:
            result = await load_demo(session)
            await session.commit()
        if attempt == 0:
            assert result.meeting_created
            assert result.plan.problems_created == 10
            assert result.plan.measures_created == 12
            assert result.spoken_added == 9
        else:
            assert not result.meeting_created
            assert not result.plan.changed
            assert result.plan.measures_unchanged == 12
            assert result.spoken_added == 0

    async with session_pool() as session:
        assert await session.scalar(select(func.count()).select_from(Meeting)) == 1
        plan_problems = select(func.count()).where(ProblemIssue.number != SPOKEN_GROUP_NUMBER)
        assert await session.scalar(plan_problems) == 10
        published = await session.execute(
            select(Category.slug, MeetingCategoryCount.count)
            .join(Category, Category.id == MeetingCategoryCount.category_id)
            .order_by(Category.order)
        )
        assert [count for _slug, count in published.all()] == [8, 18, 2, 9, 8, 8, 2, 4, 7, 8]
        plan = await _plan(session)
        assert len(plan) == len(EXPECTED)
        for (number, text, deadline, due, codes), expected in zip(plan, EXPECTED, strict=True):
            assert (number, deadline, due, codes) == (expected[0], *expected[2:])
            assert text.startswith(expected[1])
        meeting = (await session.execute(select(Meeting))).scalar_one()
        # 15:00 in Almaty on 23 June 2022 was 09:00 UTC (UTC+6 until March 2024)
        assert meeting.starts_at == dt.datetime(2022, 6, 23, 9, 0, tzinfo=dt.UTC)
        assert (meeting.questions_raised, meeting.answered_at_meeting) == (93, 45)
        assert (meeting.questions_done, meeting.questions_in_work) == (37, 11)


async def test_reference_data_is_present_in_every_new_database(session: AsyncSession) -> None:
    assert await session.scalar(select(func.count()).select_from(District)) == 8
    assert await session.scalar(select(func.count()).select_from(Category)) == 10
    departments = set((await session.execute(select(Department.code))).scalars())
    assert {"УЭиВ", "УО", "УКС", "УОЗ", "УК", "УЗиСП", "УЭиОС", "ДП"} <= departments
    education = (
        await session.execute(select(Department).where(Department.code == "УО"))
    ).scalar_one()
    assert education.name("ru") == "Управление образования города Алматы"
    assert education.name("kk") == "Алматы қаласы Білім басқармасы"
    assert education.name("en") == "Almaty City Department of Education"


def test_split_executors() -> None:
    assert split_executors("УО и УКС") == ["УО", "УКС"]
    assert split_executors("УЭиВ") == ["УЭиВ"]
    assert split_executors("УЗиСП, УЭиОС,\nАппарат акима Алмалинского района") == [
        "УЗиСП",
        "УЭиОС",
        "Аппарат акима Алмалинского района",
    ]
    assert split_executors("УО; УО , УКС") == ["УО", "УКС"]
    assert split_executors("  ") == []


SPOKEN = [
    # (start of the promise, deadline as said, due date: resolved against 23.06.2022)
    ("Реконструкция 415 м тепловых сетей", "в текущем году", dt.date(2022, 12, 31)),
    ("Аварийно-восстановительные работы на 8 участках", "до конца года", dt.date(2022, 12, 31)),
    ("Начало работ по реконструкции и строительству арычной сети протяжённостью 34 км",
     "до 1 сентября текущего года", dt.date(2022, 9, 1)),
    ("Завершение разработки проекта благоустройства прилегающей к водохранилищу «Сайран»",
     "в октябре текущего года", dt.date(2022, 10, 31)),
    ("Начало работ по благоустройству сквера «Алия и Маншук»", "осенью текущего года",
     dt.date(2022, 12, 31)),
    ("Высадка ещё более 10 тысяч саженцев", "до конца года", dt.date(2022, 12, 31)),
    ("Ремонт фасадов 44 домов", "в этом году", dt.date(2022, 12, 31)),
    ("Регулирование транспортного потока на 6 участках", "в текущем году", dt.date(2022, 12, 31)),
    ("Переезд Ревматологического центра", "до конца текущего года", dt.date(2022, 12, 31)),
]  # fmt: skip


async def test_demo_loads_the_promises_stated_at_the_meeting_as_their_own_group(
    session: AsyncSession, demo: int
) -> None:
    rows = await session.execute(
        select(ProblemIssue.number, Measure)
        .join(Measure, Measure.problem_id == ProblemIssue.id)
        .where(ProblemIssue.meeting_id == demo, Measure.source == MeasureSource.SPOKEN)
        .order_by(Measure.position)
    )
    spoken = rows.all()
    assert len(spoken) == len(SPOKEN)
    for (number, measure), (start, deadline, due) in zip(spoken, SPOKEN, strict=True):
        assert number == SPOKEN_GROUP_NUMBER
        assert measure.text.startswith(start)
        assert (measure.deadline_text, measure.due_date) == (deadline, due)
    links = select(func.count()).select_from(MeasureDepartment)
    assert (
        await session.scalar(
            links.where(MeasureDepartment.measure_id.in_([m.id for _n, m in spoken]))
        )
        == 0
    )  # the report names no responsible department for them
