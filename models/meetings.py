"""Meetings: queries for the admin screens, and what can happen to a meeting."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.entities import District, Measure, Meeting, ProblemIssue

MAX_OUTCOME_VALUE = 1_000_000


async def list_meetings(
    session: AsyncSession, district_id: int | None, page: int, per_page: int
) -> tuple[list[Meeting], int]:
    """One page of meetings, newest first (of a district, or of all districts), and the total."""
    count_query = select(func.count(Meeting.id))
    query = select(Meeting).options(selectinload(Meeting.district))
    if district_id is not None:
        count_query = count_query.where(Meeting.district_id == district_id)
        query = query.where(Meeting.district_id == district_id)
    total = int((await session.execute(count_query)).scalar_one())
    result = await session.execute(
        query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .offset(page * per_page)
        .limit(per_page)
    )
    return list(result.scalars()), total


async def meeting_with_district(
    session: AsyncSession, meeting_id: int
) -> tuple[Meeting, District] | None:
    """The meeting and its district, in one statement (None: no such meeting)."""
    found = (
        await session.execute(
            select(Meeting, District)
            .join(District, District.id == Meeting.district_id)
            .where(Meeting.id == meeting_id)
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting | None:
    result = await session.execute(
        select(Meeting)
        .options(selectinload(Meeting.district))
        .where(Meeting.id == meeting_id)
        .execution_options(populate_existing=True)  # the district may have just changed
    )
    return result.scalar_one_or_none()


async def slot_taken(
    session: AsyncSession, district_id: int, starts_at: dt.datetime, exclude_id: int | None = None
) -> bool:
    """Another meeting of the district already starts at this moment."""
    query = select(Meeting.id).where(
        Meeting.district_id == district_id, Meeting.starts_at == starts_at
    )
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    return (await session.execute(query.limit(1))).first() is not None


async def plan_counts(session: AsyncSession, meeting_id: int) -> tuple[int, int]:
    """(problem issues, measures) of the meeting's action plan."""
    problems = (
        await session.execute(
            select(func.count(ProblemIssue.id)).where(ProblemIssue.meeting_id == meeting_id)
        )
    ).scalar_one()
    measures = (
        await session.execute(
            select(func.count(Measure.id))
            .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
            .where(ProblemIssue.meeting_id == meeting_id)
        )
    ).scalar_one()
    return int(problems), int(measures)


class MeetingEvent(StrEnum):
    CREATED = "new"
    MOVED = "moved"
    CANCELLED = "cancelled"
