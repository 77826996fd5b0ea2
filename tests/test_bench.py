"""The benchmarks keep working (no timing is asserted): the generator fills a database with
consistent data at a tiny scale, and the dispatcher, planner workloads run on it without an
error."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bench import dispatcher, generate, planner
from models.db import create_session_pool
from models.entities import Follow, Measure, Meeting, Question, User


async def test_generator_and_workloads_on_a_tiny_database(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = await generate.prepare(db_url)
    try:
        report = await generate.generate(engine, scale=0.0005)
        sizes = generate.Sizes.for_scale(0.0005)
        assert report.rows["users"] == sizes.users
        assert report.rows["questions"] == sizes.questions
        assert report.rows["measures"] == sizes.measures
        async with create_session_pool(engine)() as session:
            count = func.count()
            assert (await session.execute(select(count).select_from(User))).scalar_one() == (
                sizes.users
            )
            assert (await session.execute(select(count).select_from(Follow))).scalar_one() == (
                sizes.follows
            )
            # every question goes to a meeting of its own district, refs are unique
            wrong = await session.execute(
                select(count)
                .select_from(Question)
                .join(Meeting, Meeting.id == Question.meeting_id)
                .where(Meeting.district_id != Question.district_id)
            )
            assert wrong.scalar_one() == 0
            refs = await session.execute(select(func.count(func.distinct(Question.ref))))
            assert refs.scalar_one() == sizes.questions
            open_ = await session.execute(
                select(count).select_from(Meeting).where(Meeting.status == "scheduled")
            )
            assert open_.scalar_one() == 8, "each district has its next meeting open"
            assert (await session.execute(select(count).select_from(Measure))).scalar_one()
        # new rows after the bulk load get fresh ids (sequences moved past the loaded ones)
        async with create_session_pool(engine)() as session:
            session.add(User(tg_id=1, full_name="new"))
            await session.commit()

        with caplog.at_level(logging.ERROR):
            comparison = await dispatcher.compare(engine, "test", updates=12, residents=4, rounds=1)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert comparison.forms_opened > 0, "the question form opens for generated residents"
        assert {s.kind for s in comparison.full.samples} == set(dispatcher.KINDS)
        assert comparison.lines()

        baseline, measures, timings = await planner.measure(engine, rounds=1)
        assert measures == sizes.measures and baseline > 0
        assert {t.name for t in timings} >= {"deadline reminders"}
    finally:
        await engine.dispose()
