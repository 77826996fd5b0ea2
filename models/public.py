"""Read side of the public web (web/): open data about districts, meetings, measures,
departments and residents' accepted questions, never with a person's name, username or
Telegram id.

Queries select the columns they publish (never a whole ``User`` or the author columns of a
question), and each runs a fixed number of statements whatever the size of its list. Overdue
is derived from the ``today`` the caller passes (Asia/Almaty), as everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.clock import ALMATY
from models.commitments import (
    CardNames,
    CardUpdate,
    MeasureRow,
    Tally,
    joined_to_district,
    measure_tallies,
    names_columns,
    names_of,
)
from models.entities import (
    OPEN_STATUSES,
    Category,
    Department,
    District,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    MeasureUpdate,
    Meeting,
    ProblemIssue,
    Question,
    QuestionStatus,
)
from models.search import search_measures
from models.stats import DepartmentRow, count_measure
from models.statuses import OVERDUE, effective_status

# Statuses a measure can be filtered by: as a person sees them (overdue derived).
MEASURE_STATUSES: tuple[str, ...] = (
    MeasureStatus.PLANNED,
    MeasureStatus.IN_PROGRESS,
    MeasureStatus.DONE,
    MeasureStatus.CANCELLED,
    OVERDUE,
)
# The most matches of ``q`` (the bot's search, best first) the measure list filters further.
SEARCH_LIMIT = 5000
CHUNK = 5000  # ids per IN (...) list

# Residents' questions that are published: accepted by the moderators and kept. Submitted
# (not yet moderated), rejected and merged-away questions never are.
OPEN_QUESTIONS: tuple[str, ...] = (QuestionStatus.ACCEPTED, QuestionStatus.IN_WORK)
CLOSED_QUESTIONS: tuple[str, ...] = (QuestionStatus.ANSWERED_AT_MEETING, QuestionStatus.DONE)
PUBLISHED_QUESTIONS = OPEN_QUESTIONS + CLOSED_QUESTIONS


# --- reference rows ----------------------------------------------------------------------------


async def districts(session: AsyncSession) -> list[District]:
    return list((await session.execute(select(District).order_by(District.order))).scalars())


async def district_by_slug(session: AsyncSession, slug: str) -> District | None:
    found = await session.execute(select(District).where(District.slug == slug))
    return found.scalar_one_or_none()


async def district_by_id(session: AsyncSession, district_id: int) -> District | None:
    return await session.get(District, district_id)


async def meeting_exists(session: AsyncSession, meeting_id: int) -> bool:
    found = await session.execute(select(Meeting.id).where(Meeting.id == meeting_id))
    return found.first() is not None


async def department_by_slug(session: AsyncSession, slug: str) -> Department | None:
    """A department by its URL slug (``uevr``) or by its code as plans write it (``УЭиВ``)."""
    found = await session.execute(
        select(Department).where(or_(Department.slug == slug, Department.code == slug)).limit(1)
    )
    return found.scalar_one_or_none()


async def categories(session: AsyncSession) -> list[tuple[Category, Department | None]]:
    """The report's categories in order, each with the department that receives it."""
    result = await session.execute(
        select(Category, Department)
        .outerjoin(Department, Department.id == Category.default_department_id)
        .order_by(Category.order, Category.id)
    )
    return [(category, department) for category, department in result.all()]


# --- meetings ----------------------------------------------------------------------------------


@dataclass
class MeetingItem:
    meeting: Meeting
    district: District
    tally: Tally


async def meetings(
    session: AsyncSession,
    today: dt.date,
    *,
    district_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[MeetingItem], int]:
    """Meetings newest first, each with its district and its measures' tally; and the total."""
    where: ColumnElement[bool] | None = None
    if district_id is not None:
        where = Meeting.district_id == district_id
    count = select(func.count(Meeting.id))
    query = select(Meeting, District).join(District, District.id == Meeting.district_id)
    if where is not None:
        count, query = count.where(where), query.where(where)
    total = int((await session.execute(count)).scalar_one())
    rows = (
        await session.execute(
            query.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).offset(offset).limit(limit)
        )
    ).all()
    counted: dict[int, Tally] = {}
    if rows:
        ids = [meeting.id for meeting, _district in rows]
        counted = await measure_tallies(session, Meeting.id, today, Meeting.id.in_(ids))
    items = [MeetingItem(m, d, counted.get(m.id, Tally())) for m, d in rows]
    return items, total


# --- measures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureFilter:
    district_id: int | None = None
    meeting_id: int | None = None
    status: str | None = None  # one of MEASURE_STATUSES
    department_id: int | None = None
    q: str | None = None


def _status_condition(status: str, today: dt.date) -> ColumnElement[bool]:
    past_due = and_(Measure.due_date.is_not(None), Measure.due_date < today)
    if status == OVERDUE:
        return and_(Measure.status.in_([str(s) for s in OPEN_STATUSES]), past_due)
    if status in OPEN_STATUSES:
        return and_(Measure.status == status, ~past_due)
    return Measure.status == status


@dataclass
class MeasurePage:
    rows: list[MeasureRow]
    total: int
    departments: dict[int, list[str]] = field(default_factory=dict)  # measure id → codes
    meeting_ids: dict[int, int] = field(default_factory=dict)  # measure id → meeting id
    district_slugs: dict[int, str] = field(default_factory=dict)  # district id → slug
    searched: int = 0  # with ``q``: how many measures the search found in all


async def find_measures(
    session: AsyncSession,
    flt: MeasureFilter,
    today: dt.date,
    *,
    limit: int,
    offset: int,
    known_total: int | None = None,
) -> MeasurePage:
    """Measures matching every filter given. Without ``q`` newest first (by id); with ``q`` in
    the bot's search order (:func:`models.search.search_measures`), among its first
    :data:`SEARCH_LIMIT` matches.

    Without ``q``: the page's rows (its ids picked from ``measures`` alone, the primary key
    walked backwards), their departments, and the total unless the caller knows it
    (``known_total``, e.g. counted a moment ago: counting is a scan of every measure)."""
    conditions: list[ColumnElement[bool]] = []
    searched = 0
    if flt.district_id is not None:
        conditions.append(
            Measure.problem_id.in_(
                select(ProblemIssue.id)
                .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
                .where(Meeting.district_id == flt.district_id)
            )
        )
    if flt.meeting_id is not None:
        conditions.append(
            Measure.problem_id.in_(
                select(ProblemIssue.id).where(ProblemIssue.meeting_id == flt.meeting_id)
            )
        )
    if flt.status is not None:
        conditions.append(_status_condition(flt.status, today))
    if flt.department_id is not None:
        conditions.append(
            Measure.id.in_(
                select(MeasureDepartment.measure_id).where(
                    MeasureDepartment.department_id == flt.department_id
                )
            )
        )
    columns: list[Any] = [
        Measure.id.label("id"),
        Measure.text.label("text"),
        Measure.status.label("status"),
        Measure.due_date.label("due_date"),
        Measure.deadline_text.label("deadline_text"),
        Measure.position.label("position"),
        ProblemIssue.number.label("problem_number"),
        ProblemIssue.title.label("problem_title"),
        Meeting.id.label("meeting_id"),
        Meeting.starts_at.label("meeting_starts_at"),
        District.id.label("district_id"),
        District.slug.label("district_slug"),
    ]
    if flt.q is None:
        # The page's rows and the total in one statement: the page's ids are picked from
        # ``measures`` alone (its primary key walked backwards), then joined; both inner
        # selects stand on their own (no correlation with the outer ``measures``).
        ids = (
            select(Measure.id)
            .where(*conditions)
            .order_by(Measure.id.desc())
            .offset(offset)
            .limit(limit)
            .correlate(None)  # stands on its own inside the outer query on ``measures``
        )
        statement = joined_to_district(select(*columns)).where(Measure.id.in_(ids))
        loaded = (await session.execute(statement)).mappings().all()
        total = known_total
        if total is None:
            counted = select(func.count()).select_from(Measure).where(*conditions)
            total = int((await session.execute(counted)).scalar_one())
        page_ids = sorted((row["id"] for row in loaded), reverse=True)
    else:  # the search's order: at most SEARCH_LIMIT ids, filtered further here
        result = await search_measures(
            session, flt.q, district_id=None, page=0, per_page=SEARCH_LIMIT, today=today
        )
        searched = result.total
        order = [row.id for row in result.rows]
        kept: set[int] = set()
        if order:
            matching = select(Measure.id).where(Measure.id.in_(order), *conditions)
            kept = set((await session.execute(matching)).scalars())
        ordered = [measure_id for measure_id in order if measure_id in kept]
        total = len(ordered)
        page_ids = ordered[offset : offset + limit]
        loaded = []
        if page_ids:
            statement = joined_to_district(select(*columns)).where(Measure.id.in_(page_ids))
            loaded = (await session.execute(statement)).mappings().all()
    page = MeasurePage([], total, searched=searched)
    if not page_ids:
        return page
    by_id = {row["id"]: row for row in loaded}
    rows = [by_id[measure_id] for measure_id in page_ids if measure_id in by_id]
    page.rows = [
        MeasureRow(
            id=row["id"],
            text=row["text"],
            status=effective_status(row["status"], row["due_date"], today),
            due_date=row["due_date"],
            deadline_text=row["deadline_text"],
            problem_number=row["problem_number"],
            problem_title=row["problem_title"],
            position=row["position"],
            district_id=row["district_id"],
            meeting_starts_at=row["meeting_starts_at"],
        )
        for row in rows
    ]
    page.meeting_ids = {row["id"]: row["meeting_id"] for row in rows}
    page.district_slugs = {row["district_id"]: row["district_slug"] for row in rows}
    page.departments = await department_codes(session, page_ids)
    return page


async def department_codes(session: AsyncSession, measure_ids: list[int]) -> dict[int, list[str]]:
    """The codes of each measure's responsible departments, in the plan's order (one query)."""
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(measure_ids), CHUNK):  # bound parameters stay within limits
        result = await session.execute(
            select(MeasureDepartment.measure_id, Department.code)
            .join(Department, Department.id == MeasureDepartment.department_id)
            .where(MeasureDepartment.measure_id.in_(measure_ids[start : start + CHUNK]))
            .order_by(MeasureDepartment.measure_id, MeasureDepartment.position, Department.id)
        )
        for measure_id, code in result.all():
            found[measure_id].append(code)
    return dict(found)


@functools.cache
def _history_statement() -> Select[Any]:
    """A measure's updates (``measure_id``, ``limit`` bound), built once."""
    actor = aliased(Department)
    return (
        select(
            MeasureUpdate.created_at,
            MeasureUpdate.kind,
            MeasureUpdate.status,
            MeasureUpdate.progress,
            MeasureUpdate.comment,
            *names_columns(actor, "actor"),
        )
        .outerjoin(actor, actor.id == MeasureUpdate.department_id)
        .where(MeasureUpdate.measure_id == bindparam("measure_id", type_=Integer))
        .order_by(MeasureUpdate.created_at.desc(), MeasureUpdate.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


async def history(session: AsyncSession, measure_id: int, limit: int) -> list[CardUpdate]:
    """A measure's updates, newest first, each with the department that acted (one query; the
    person who acted is not part of it)."""
    result = await session.execute(_history_statement(), {"measure_id": measure_id, "limit": limit})
    return [
        CardUpdate(
            created_at=row["created_at"],
            kind=row["kind"],
            status=row["status"],
            progress=row["progress"],
            comment=row["comment"],
            department=names_of(row, "actor"),
        )
        for row in result.mappings()
    ]


# --- departments' timeliness -------------------------------------------------------------------


async def department_timeliness(
    session: AsyncSession, today: dt.date, tz: ZoneInfo = ALMATY
) -> list[DepartmentRow]:
    """Every department with measures: done on time, done late, overdue now (as the statistics
    count them, :func:`models.stats.count_measure`); the best record first."""
    departments = {d.id: d for d in (await session.execute(select(Department))).scalars()}
    result = await session.execute(
        select(
            MeasureDepartment.department_id,
            Measure.status,
            Measure.due_date,
            func.coalesce(Measure.closed_at, Measure.updated_at).label("closed"),
        ).join(Measure, Measure.id == MeasureDepartment.measure_id)
    )
    rows: dict[int, DepartmentRow] = {}
    for department_id, status, due_date, closed in result.all():
        row = rows.get(department_id)
        if row is None:
            row = rows[department_id] = DepartmentRow(departments[department_id])
        count_measure(row, status, due_date, _aware(closed), today, tz)
    return sorted(rows.values(), key=_league_key)


def _aware(moment: dt.datetime) -> dt.datetime:
    """``coalesce`` of two UTC columns comes back naive from SQLite; it is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def on_time_share(row: DepartmentRow) -> float | None:
    """Done on time out of everything that fell due (done, late or overdue); None if nothing."""
    judged = row.closed_on_time + row.closed_late + row.overdue_now
    return row.closed_on_time / judged if judged else None


def _league_key(row: DepartmentRow) -> tuple[int, float, int, str]:
    share = on_time_share(row)
    return (share is None, -(share or 0.0), row.overdue_now, row.department.code)


# --- residents' questions as Open311 service requests ------------------------------------------


@dataclass
class ServiceRequest:
    ref: str
    status: str  # a QuestionStatus (published ones only)
    category: Category
    text: str
    answer: str | None
    department: CardNames | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expected_at: dt.datetime | None  # the meeting it is for
    address: str | None
    latitude: float | None
    longitude: float | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_QUESTIONS


@dataclass(frozen=True)
class RequestFilter:
    refs: tuple[str, ...] = ()
    category_id: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    open: bool | None = None  # None: both


async def service_requests(
    session: AsyncSession, flt: RequestFilter, *, limit: int, offset: int = 0
) -> list[ServiceRequest]:
    """Published questions, newest first. Only these columns of a question are read: never its
    author, the author's name or anything that leads to a person."""
    statuses = PUBLISHED_QUESTIONS
    if flt.open is not None:
        statuses = OPEN_QUESTIONS if flt.open else CLOSED_QUESTIONS
    department = aliased(Department)
    query = (
        select(
            Question.ref,
            Question.status,
            Question.text,
            Question.answer,
            Question.created_at,
            Question.updated_at,
            Question.address,
            Question.latitude,
            Question.longitude,
            Category,
            Meeting.starts_at.label("expected_at"),
            *names_columns(department, "department"),
        )
        .join(Category, Category.id == Question.category_id)
        .outerjoin(Meeting, Meeting.id == Question.meeting_id)
        .outerjoin(department, department.id == Question.department_id)
        .where(Question.status.in_([str(s) for s in statuses]), Question.ref.is_not(None))
    )
    if flt.refs:
        query = query.where(Question.ref.in_(flt.refs))
    if flt.category_id is not None:
        query = query.where(Question.category_id == flt.category_id)
    if flt.start is not None:
        query = query.where(Question.created_at >= flt.start)
    if flt.end is not None:
        query = query.where(Question.created_at <= flt.end)
    query = query.order_by(Question.created_at.desc(), Question.id.desc()).offset(offset)
    result = await session.execute(query.limit(limit))
    return [
        ServiceRequest(
            ref=row["ref"],
            status=row["status"],
            category=row["Category"],
            text=row["text"],
            answer=row["answer"],
            department=names_of(row, "department"),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            expected_at=row["expected_at"],
            address=row["address"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )
        for row in result.mappings()
    ]
