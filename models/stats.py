"""Statistics like the report's: questions by category and outcome, measures by status, and
each department's timeliness, for a meeting, a district or a period.

A meeting's report also carries the classification the akimat published after it (migration
0004's ``meeting_category_counts``, the seed's «жилищные отношения – 8 (10,8%), …»), apart from
the questions counted in the bot: the published figures are what the meeting raised, the counted
ones what residents sent through the bot, so the two are shown side by side and never added up.
Districts and periods count only the bot's questions (the published figures cover a meeting).

Percentages are of the total classified (the sum of the category counts), rounded half up to
one decimal with ``Decimal`` (the report's ``8 of 74 → 10,8%``; binary floats and Babel's
half-even rounding would both get some of its figures wrong).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import ALMATY
from models.entities import (
    Category,
    Department,
    District,
    Measure,
    MeasureDepartment,
    MeasureSource,
    MeasureStatus,
    Meeting,
    MeetingCategoryCount,
    ProblemIssue,
    Question,
    QuestionStatus,
)
from models.statuses import OVERDUE, effective_status

# Questions that count as classified: moderated and kept (not pending, rejected or merged).
CLASSIFIED_STATUSES: tuple[str, ...] = (
    QuestionStatus.ACCEPTED,
    QuestionStatus.ANSWERED_AT_MEETING,
    QuestionStatus.IN_WORK,
    QuestionStatus.DONE,
)
MEASURE_ORDER: tuple[str, ...] = (
    MeasureStatus.DONE,
    MeasureStatus.IN_PROGRESS,
    MeasureStatus.PLANNED,
    OVERDUE,
    MeasureStatus.CANCELLED,
)
TENTH = Decimal("0.1")


class ScopeKind(StrEnum):
    MEETING = "m"
    DISTRICT = "d"
    QUARTER = "q"  # this quarter
    YEAR = "y"  # this year
    ALL = "a"  # all time
    PERIOD = "p"  # dates typed by the admin


@dataclass(frozen=True)
class Scope:
    """What a report covers. Periods are inclusive local (Almaty) dates."""

    kind: ScopeKind
    id: int = 0  # meeting or district
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def resolve(
        cls, kind: ScopeKind, today: dt.date, id: int = 0, start: int = 0, end: int = 0
    ) -> Scope:
        """A scope from callback fields; relative periods are fixed against ``today``."""
        if kind == ScopeKind.QUARTER:
            first_month = 3 * ((today.month - 1) // 3) + 1
            return cls(kind, start=dt.date(today.year, first_month, 1), end=today)
        if kind == ScopeKind.YEAR:
            return cls(kind, start=dt.date(today.year, 1, 1), end=today)
        if kind == ScopeKind.PERIOD:
            return cls(kind, start=int_to_date(start), end=int_to_date(end))
        return cls(kind, id=id)

    def bounds_utc(self, tz: ZoneInfo = ALMATY) -> tuple[dt.datetime, dt.datetime] | None:
        if self.start is None or self.end is None:
            return None
        low = dt.datetime.combine(self.start, dt.time(), tz).astimezone(dt.UTC)
        high = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz)
        return low, high.astimezone(dt.UTC)


def date_to_int(day: dt.date | None) -> int:
    return 0 if day is None else day.year * 10000 + day.month * 100 + day.day


def int_to_date(value: int) -> dt.date | None:
    try:
        return dt.date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        return None


def meeting_condition(scope: Scope) -> ColumnElement[bool]:
    """Meetings the scope covers (a period covers the meetings held in it)."""
    if scope.kind == ScopeKind.MEETING:
        return Meeting.id == scope.id
    if scope.kind == ScopeKind.DISTRICT:
        return Meeting.district_id == scope.id
    bounds = scope.bounds_utc()
    if bounds is None:
        return true() if scope.kind == ScopeKind.ALL else false()
    return and_(Meeting.starts_at >= bounds[0], Meeting.starts_at < bounds[1])


def question_condition(scope: Scope) -> ColumnElement[bool]:
    """Questions of the scope: by their meeting, or (waiting for none) by when they came."""
    if scope.kind == ScopeKind.MEETING:
        return Question.meeting_id == scope.id
    if scope.kind == ScopeKind.DISTRICT:
        return Question.district_id == scope.id
    if scope.kind == ScopeKind.ALL:
        return true()
    bounds = scope.bounds_utc()
    if bounds is None:
        return false()
    in_meetings = Question.meeting_id.in_(select(Meeting.id).where(meeting_condition(scope)))
    waiting = and_(
        Question.meeting_id.is_(None),
        Question.created_at >= bounds[0],
        Question.created_at < bounds[1],
    )
    return or_(in_meetings, waiting)


def measure_condition(scope: Scope) -> ColumnElement[bool]:
    return Measure.problem_id.in_(
        select(ProblemIssue.id).where(
            ProblemIssue.meeting_id.in_(select(Meeting.id).where(meeting_condition(scope)))
        )
    )


def percent(count: int, total: int) -> Decimal:
    """``count`` of ``total`` in percent, rounded half up to one decimal (12.45 → 12.5)."""
    if total <= 0:
        return Decimal("0.0")
    return (Decimal(count) * 100 / Decimal(total)).quantize(TENTH, rounding=ROUND_HALF_UP)


def round_half_up(value: Decimal | float, places: str = "0.1") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def format_percent(value: Decimal, locale: str) -> str:
    """``10,8%`` in ru/kk, ``10.8%`` in en: the report's form, no space before the sign."""
    return format_decimal(value, format="0.0", locale=locale) + "%"


def format_count(value: int, locale: str) -> str:
    """A count in the locale's digits grouping (``1 069`` in ru/kk, ``1,069`` in en)."""
    return format_decimal(value, locale=locale)


def format_days(value: Decimal | float, locale: str) -> str:
    return format_decimal(round_half_up(value), format="0.#", locale=locale)


@dataclass
class CategoryRow:
    category: Category
    count: int
    percent: Decimal


@dataclass
class DepartmentRow:
    department: Department
    measures: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    overdue_now: int = 0
    days_late: list[int] = field(default_factory=list)
    questions: int = 0
    answered: int = 0
    answer_days: list[float] = field(default_factory=list)

    @property
    def median_days_late(self) -> float | None:
        return statistics.median(self.days_late) if self.days_late else None

    @property
    def median_answer_days(self) -> float | None:
        return statistics.median(self.answer_days) if self.answer_days else None


@dataclass
class Report:
    scope: Scope
    meeting: Meeting | None
    district: District | None
    categories: list[CategoryRow]
    classified: int
    statuses: Counter[str]
    measures: Counter[str]  # the published plans' measures
    measures_total: int
    departments: list[DepartmentRow]
    spoken: Counter[str] = field(default_factory=Counter)  # promises stated at the meetings
    spoken_total: int = 0
    # the meeting's classification as the akimat published it (empty when it has none)
    published: list[CategoryRow] = field(default_factory=list)
    published_total: int = 0

    @property
    def pending(self) -> int:
        return self.statuses[QuestionStatus.SUBMITTED]


async def build_report(
    session: AsyncSession, scope: Scope, today: dt.date, tz: ZoneInfo = ALMATY
) -> Report:
    meeting = await session.get(Meeting, scope.id) if scope.kind == ScopeKind.MEETING else None
    district = None
    if scope.kind == ScopeKind.DISTRICT:
        district = await session.get(District, scope.id)
    elif meeting is not None:
        district = await session.get(District, meeting.district_id)

    questions = list(
        (await session.execute(select(Question).where(question_condition(scope)))).scalars()
    )
    all_categories = list(
        (await session.execute(select(Category).order_by(Category.order, Category.id))).scalars()
    )
    statuses: Counter[str] = Counter(q.status for q in questions)
    by_category: Counter[int] = Counter(
        q.category_id for q in questions if q.status in CLASSIFIED_STATUSES
    )
    classified = sum(by_category.values())
    category_rows = [
        CategoryRow(c, by_category[c.id], percent(by_category[c.id], classified))
        for c in all_categories
    ]

    published_rows: list[CategoryRow] = []
    published_total = 0
    if meeting is not None:
        published = await published_counts(session, meeting.id)
        published_total = sum(published.values())
        if published_total:
            published_rows = [
                CategoryRow(
                    c, published.get(c.id, 0), percent(published.get(c.id, 0), published_total)
                )
                for c in all_categories
            ]

    measures = list(
        (await session.execute(select(Measure).where(measure_condition(scope)))).scalars()
    )
    measure_statuses: Counter[str] = Counter(
        effective_status(m.status, m.due_date, today)
        for m in measures
        if m.source != MeasureSource.SPOKEN
    )
    spoken_statuses: Counter[str] = Counter(
        effective_status(m.status, m.due_date, today)
        for m in measures
        if m.source == MeasureSource.SPOKEN
    )

    links: list[tuple[int, int]] = []
    if measures:
        ids = [m.id for m in measures]
        for chunk in range(0, len(ids), 500):
            rows = await session.execute(
                select(MeasureDepartment.measure_id, MeasureDepartment.department_id).where(
                    MeasureDepartment.measure_id.in_(ids[chunk : chunk + 500])
                )
            )
            links.extend((row.measure_id, row.department_id) for row in rows.all())
    department_ids = {d for _m, d in links} | {
        q.department_id for q in questions if q.department_id is not None
    }
    departments_by_id: dict[int, Department] = {}
    if department_ids:
        result = await session.execute(select(Department).where(Department.id.in_(department_ids)))
        departments_by_id = {d.id: d for d in result.scalars()}
    rows_by_department: dict[int, DepartmentRow] = {}

    def row_for(department_id: int) -> DepartmentRow:
        if department_id not in rows_by_department:
            rows_by_department[department_id] = DepartmentRow(departments_by_id[department_id])
        return rows_by_department[department_id]

    measures_by_id = {m.id: m for m in measures}
    departments_of: defaultdict[int, list[int]] = defaultdict(list)
    for measure_id, department_id in links:
        departments_of[measure_id].append(department_id)
    for measure_id, department_ids_of_measure in departments_of.items():
        measure = measures_by_id[measure_id]
        for department_id in department_ids_of_measure:
            closed = measure.closed_at or measure.updated_at
            count_measure(
                row_for(department_id), measure.status, measure.due_date, closed, today, tz
            )
    for question in questions:
        if question.department_id is None or question.status not in CLASSIFIED_STATUSES:
            continue
        row = row_for(question.department_id)
        row.questions += 1
        if question.answered_at is not None:
            row.answered += 1
            started = question.moderated_at or question.created_at
            seconds = (question.answered_at - started).total_seconds()
            row.answer_days.append(max(seconds, 0) / 86400)

    departments = sorted(
        rows_by_department.values(),
        key=lambda r: (-r.overdue_now, -r.measures, -r.questions, r.department.code),
    )
    return Report(
        scope=scope,
        meeting=meeting,
        district=district,
        categories=category_rows,
        classified=classified,
        statuses=statuses,
        measures=measure_statuses,
        measures_total=sum(measure_statuses.values()),
        departments=departments,
        spoken=spoken_statuses,
        spoken_total=sum(spoken_statuses.values()),
        published=published_rows,
        published_total=published_total,
    )


async def published_counts(session: AsyncSession, meeting_id: int) -> dict[int, int]:
    """Category id → count, as published after the meeting (empty when nothing was)."""
    rows = await session.execute(
        select(MeetingCategoryCount.category_id, MeetingCategoryCount.count).where(
            MeetingCategoryCount.meeting_id == meeting_id
        )
    )
    return {int(category_id): int(count) for category_id, count in rows.all()}


def count_measure(
    row: DepartmentRow,
    status: str,
    due_date: dt.date | None,
    closed: dt.datetime,
    today: dt.date,
    tz: ZoneInfo,
) -> None:
    """Count one measure of a department: done on time or late (by the local day it was
    closed, ``closed``), overdue now, or neither."""
    row.measures += 1
    if status == MeasureStatus.DONE:
        closed_day = closed.astimezone(tz).date()
        if due_date is None or closed_day <= due_date:
            row.closed_on_time += 1
        else:
            row.closed_late += 1
            row.days_late.append((closed_day - due_date).days)
    elif effective_status(status, due_date, today) == OVERDUE:
        assert due_date is not None
        row.overdue_now += 1
        row.days_late.append((today - due_date).days)
