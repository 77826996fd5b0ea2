"""The search index of migration 0003 (models/search_index.py) stays true: a plan imported or
re-imported, a measure's text changed, a department renamed, a meeting's place changed, a measure
deleted, the demo loaded twice; the migration indexes a populated database; the databases use
their indexes."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.db import alembic_config
from models.demo import load_demo
from models.departments import set_department_name
from models.entities import Department, Measure, Meeting, ProblemIssue, SearchTerm, SearchWord
from models.plans import PlanRow, apply_plan, parse_plan
from models.search import search_measures
from models.search_index import rebuild

TODAY = dt.date(2022, 9, 1)


async def _found(session: AsyncSession, query: str) -> list[str]:
    page = await search_measures(session, query, district_id=None, page=0, per_page=50, today=TODAY)
    return [row.text for row in page.rows]


async def _terms(session: AsyncSession) -> list[tuple[int, str, int, int]]:
    rows = await session.execute(
        select(
            SearchTerm.measure_id, SearchTerm.term, SearchTerm.district_id, SearchTerm.sort_key
        ).order_by(SearchTerm.measure_id, SearchTerm.term)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


SPOKEN_SAIRAN = (
    "Завершение разработки проекта благоустройства прилегающей к водохранилищу «Сайран» "
    "территории для организации доступной зоны отдыха горожан"
)
DEMO_MEASURES = 21  # the 12 of the plan and the 9 stated at the meeting


async def test_a_measure_edited_and_deleted(session: AsyncSession, demo: int) -> None:
    measure = (
        await session.execute(
            select(Measure).where(Measure.text.like("%дна водохранилища «Сайран»%"))
        )
    ).scalar_one()
    measure.text = "Озеро Сайран: очистка дна и новые пляжи"
    await session.commit()
    assert await _found(session, "пляж") == [measure.text]
    # the old words are gone: only the spoken promise of the reservoir's shore is left
    assert await _found(session, "водохранилище") == [SPOKEN_SAIRAN]
    assert len(await _found(session, "озеро")) == 1  # still in its problem's title
    await session.execute(delete(Measure).where(Measure.id == measure.id))
    await session.commit()
    assert await _found(session, "пляж") == []
    left = await session.scalar(
        select(func.count()).select_from(SearchTerm).where(SearchTerm.measure_id == measure.id)
    )
    assert left == 0


async def test_a_plan_re_imported_a_department_renamed_a_place_changed(
    session: AsyncSession, demo: int
) -> None:
    # a re-imported plan changes a measure's text and its problem's title
    departments = list((await session.execute(select(Department))).scalars())
    rows = [
        PlanRow(1, "1", "Строительство здания поликлиники", "Проект новой амбулатории", "2023",
                "УОЗ"),
        PlanRow(2, "2", "Детская библиотека", "Ремонт читального зала", "2023", "УК"),
    ]  # fmt: skip
    meeting_id = (await session.execute(select(Meeting.id))).scalar_one()
    await apply_plan(session, meeting_id, parse_plan(rows, TODAY, departments))
    await session.commit()
    assert await _found(session, "амбулатория") == ["Проект новой амбулатории"]
    assert await _found(session, "Модернизация") == []  # measure 1.1 was replaced
    assert "Ремонт читального зала" in await _found(session, "библиотеки")
    assert "Ремонт читального зала" in await _found(session, "культуры")  # УК, its new department

    # a department renamed: its measures are found by the new name, not the old
    health = next(d for d in departments if d.code == "УОЗ")
    set_department_name(health, "name_en", "Department of Public Medicine")
    set_department_name(health, "short_en", "Public Medicine")
    await session.commit()
    assert "Проект новой амбулатории" in await _found(session, "medicine")
    assert await _found(session, "health") == []

    # a meeting's place changed
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    meeting.place = "Дворец школьников, пр. Абая, 2"
    await session.commit()
    assert len(await _found(session, "дворец")) == DEMO_MEASURES
    assert await _found(session, "логистики") == []


async def test_loading_the_demo_again_changes_nothing_and_matches_a_rebuild(
    session_pool: async_sessionmaker[AsyncSession], demo: int
) -> None:
    async with session_pool() as session:
        before = await _terms(session)
        words = await session.scalar(select(func.count()).select_from(SearchWord))
        await load_demo(session)
        await session.commit()
        assert await _terms(session) == before
        assert await session.scalar(select(func.count()).select_from(SearchWord)) == words
        await session.run_sync(lambda s: rebuild(s.connection()))
        await session.commit()
        assert await _terms(session) == before  # what the session wrote is a full rebuild
        assert len({measure_id for measure_id, *_rest in before}) == DEMO_MEASURES
        problem_ids = select(ProblemIssue.id).where(ProblemIssue.number == 8)
        eighth = (
            await session.execute(select(Measure.id).where(Measure.problem_id.in_(problem_ids)))
        ).scalar_one()
        assert {"сайран", "алмалинск", "almali", "уэиос", "шевченк"} <= {
            term for measure_id, term, *_rest in before if measure_id == eighth
        }


def _down_and_up(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0002")
    assert connection.execute(text("SELECT count(*) FROM measures")).scalar() == DEMO_MEASURES
    command.upgrade(config, "heads")


async def test_the_migration_indexes_a_populated_database(
    engine: AsyncEngine, session_pool: async_sessionmaker[AsyncSession], demo: int
) -> None:
    async with session_pool() as session:
        before = await _terms(session)
    async with engine.begin() as connection:
        await connection.run_sync(_down_and_up)
    async with session_pool() as session:
        assert await _terms(session) == before
        assert await _found(session, "поликлиника") != []
        assert (await search_measures(
            session, "поликлинника", district_id=None, page=0, per_page=6, today=TODAY
        )).corrections == ["поликлиники"]  # fmt: skip


async def test_the_database_uses_its_indexes(session: AsyncSession, demo: int) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        plan = (
            await session.execute(
                text("EXPLAIN QUERY PLAN SELECT measure_id FROM search_terms WHERE term = 'сайран'")
            )
        ).all()
        assert "ix_search_terms_term" in " ".join(str(row[-1]) for row in plan)
        plan = (
            await session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT rowid FROM search_words_fts "
                    "WHERE search_words_fts MATCH '\"сай\"'"
                )
            )
        ).all()
        assert "VIRTUAL TABLE INDEX" in " ".join(str(row[-1]) for row in plan)
    else:
        indexes = (
            await session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = 'search_words'")
            )
        ).scalars()
        assert "gin_trgm_ops" in " ".join(indexes)  # small tables: the planner may scan them
        plan = (
            await session.execute(
                text("EXPLAIN SELECT measure_id FROM search_terms WHERE term = 'сайран'")
            )
        ).scalars()
        assert "ix_search_terms_term" in " ".join(plan)
