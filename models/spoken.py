"""Promises stated at a meeting that its published plan lacks («в текущем году будет
реконструировано 415 м тепловых сетей»): residents heard them, so they are tracked too.

Each is a :class:`~models.entities.Measure` with ``source = spoken``, so following, reminders,
the card, statistics and exports take them through the same paths as the plan's measures. A
measure belongs to a problem issue; a meeting's spoken promises belong to one problem issue of
their own, numbered :data:`SPOKEN_GROUP_NUMBER`: after every number a plan can have (a plan's
numbers are 1–9999), so lists in plan order show them last, and importing a plan (which matches
problem issues by number) never reaches them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import to_local
from models.deadlines import parse_deadline
from models.entities import (
    Department,
    Measure,
    MeasureDepartment,
    MeasureSource,
    Meeting,
    ProblemIssue,
)
from models.plans import MAX_DEADLINE_TEXT, MAX_MEASURE_TEXT, MAX_PROBLEM_NUMBER
from models.text import fold

SPOKEN_GROUP_NUMBER = MAX_PROBLEM_NUMBER + 1
SPOKEN_MARK = "🗣"
MAX_SPOKEN_TEXT = MAX_MEASURE_TEXT
MAX_SPOKEN_DEADLINE = MAX_DEADLINE_TEXT


def measure_number(problem_number: int, position: int, source: str) -> str:
    """How a measure is numbered in lists: ``3.1`` in the plan, ``🗣2`` stated at the meeting."""
    if source == MeasureSource.SPOKEN:
        return f"{SPOKEN_MARK}{position}"
    return f"{problem_number}.{position}"


def meeting_day(meeting: Meeting) -> dt.date:
    """The meeting's local date: the reference of deadlines such as «до конца года»."""
    return to_local(meeting.starts_at).date()


def resolve_deadline(deadline_text: str, meeting: Meeting) -> dt.date | None:
    """«до конца года» said at a meeting of 23.06.2022 → 2022-12-31."""
    return parse_deadline(deadline_text, meeting_day(meeting))


async def spoken_group(session: AsyncSession, meeting_id: int) -> ProblemIssue | None:
    result = await session.execute(
        select(ProblemIssue).where(
            ProblemIssue.meeting_id == meeting_id, ProblemIssue.number == SPOKEN_GROUP_NUMBER
        )
    )
    return result.scalar_one_or_none()


async def add_spoken_promise(
    session: AsyncSession,
    meeting: Meeting,
    text: str,
    deadline_text: str,
    department_ids: Sequence[int] = (),
) -> Measure:
    """Record a promise stated at the meeting: its deadline phrase is resolved against the
    meeting's date; its responsible departments may be none."""
    group = await spoken_group(session, meeting.id)
    if group is None:
        group = ProblemIssue(meeting_id=meeting.id, number=SPOKEN_GROUP_NUMBER, title="")
        session.add(group)
        await session.flush()
    last = (
        await session.execute(
            select(func.max(Measure.position)).where(Measure.problem_id == group.id)
        )
    ).scalar_one()
    ids = list(dict.fromkeys(department_ids))
    if ids:
        known = set(
            (await session.execute(select(Department.id).where(Department.id.in_(ids)))).scalars()
        )
        ids = [i for i in ids if i in known]
    measure = Measure(
        problem_id=group.id,
        position=int(last or 0) + 1,
        text=text,
        deadline_text=deadline_text,
        due_date=resolve_deadline(deadline_text, meeting),
        source=MeasureSource.SPOKEN,
    )
    session.add(measure)
    await session.flush()
    for position, department_id in enumerate(ids):
        session.add(
            MeasureDepartment(measure_id=measure.id, department_id=department_id, position=position)
        )
    await session.flush()
    return measure


async def spoken_texts(session: AsyncSession, meeting_id: int) -> set[str]:
    """The folded texts of the meeting's spoken promises (to load the demo's once)."""
    result = await session.execute(
        select(Measure.text)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .where(ProblemIssue.meeting_id == meeting_id, Measure.source == MeasureSource.SPOKEN)
    )
    return {fold(text) for text in result.scalars()}
