"""The facts of a meeting's report, gathered from its record: the outcome figures, the
classification of its questions, the action plan, the promises stated at it, and (for the
progress report) where every measure stood on a given day.

Plain data, no rendering: ``documents/`` lays it out as DOCX or PDF in any language.

Category figures are the meeting's published ones (``meeting_category_counts``) when it has
them, else its classified questions on record; percentages are of their sum, rounded half up
(``models.stats.percent``: 8 of 74 → 10,8%).

"As of" a day: a measure's status is the one its history shows at the end of that day in Almaty
(the last change of status made by then; before its first change, the status that change left),
so a progress report for a past date says what was true then. Measures are never dated before
their plan was imported: a plan imported after the day is reported from its first status.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import ALMATY
from models.entities import (
    OPEN_STATUSES,
    OUTCOME_FIELDS,
    Category,
    Department,
    District,
    Measure,
    MeasureDepartment,
    MeasureSource,
    MeasureStatus,
    MeasureUpdate,
    Meeting,
    MeetingCategoryCount,
    MeetingStatus,
    ProblemIssue,
    Question,
)
from models.meetings import meeting_with_district
from models.stats import CLASSIFIED_STATUSES, percent
from models.statuses import OVERDUE


@dataclass(frozen=True)
class CategoryFigure:
    category: Category
    count: int
    percent: Decimal


@dataclass(frozen=True)
class LatestUpdate:
    day: dt.date  # local
    kind: str  # status, progress, comment, import…
    status: str | None
    progress: int | None
    comment: str


@dataclass
class ReportMeasure:
    id: int
    position: int
    source: str
    text: str
    deadline_text: str
    due_date: dt.date | None
    departments: list[Department]
    status: str  # as of the report's day, overdue derived
    days_overdue: int = 0
    closed_on: dt.date | None = None  # local day it was marked done (when done)
    latest: LatestUpdate | None = None

    @property
    def open(self) -> bool:
        return self.status in (*OPEN_STATUSES, OVERDUE)


@dataclass
class ReportProblem:
    number: int
    title: str
    measures: list[ReportMeasure]


@dataclass
class DepartmentProgress:
    department: Department
    measures: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0


@dataclass
class MeetingReport:
    meeting: Meeting
    district: District
    as_of: dt.date
    outcome: dict[str, int | None]
    categories: list[CategoryFigure]
    classified: int
    categories_published: bool
    problems: list[ReportProblem]
    spoken: list[ReportMeasure]
    departments: list[DepartmentProgress] = field(default_factory=list)

    @property
    def measures(self) -> list[ReportMeasure]:
        return [m for p in self.problems for m in p.measures] + self.spoken

    @property
    def has_outcome(self) -> bool:
        return any(value is not None for value in self.outcome.values())


async def latest_held_meeting(session: AsyncSession, now: dt.datetime) -> Meeting | None:
    """The latest meeting that has taken place: recorded as held, or started by ``now`` and
    not cancelled."""
    result = await session.execute(
        select(Meeting)
        .where(
            Meeting.status != MeetingStatus.CANCELLED,
            (Meeting.status == MeetingStatus.HELD) | (Meeting.starts_at <= now),
        )
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def category_figures(
    session: AsyncSession, meeting_id: int
) -> tuple[list[CategoryFigure], int, bool]:
    """(figures in the categories' order, their sum, whether they are the published ones)."""
    categories = list(
        (await session.execute(select(Category).order_by(Category.order, Category.id))).scalars()
    )
    rows = await session.execute(
        select(MeetingCategoryCount.category_id, MeetingCategoryCount.count).where(
            MeetingCategoryCount.meeting_id == meeting_id
        )
    )
    published = {int(category_id): int(count) for category_id, count in rows.all()}
    counts: dict[int, int] = dict(published)
    if not published:
        questions = await session.execute(
            select(Question.category_id).where(
                Question.meeting_id == meeting_id, Question.status.in_(CLASSIFIED_STATUSES)
            )
        )
        for category_id in questions.scalars():
            counts[category_id] = counts.get(category_id, 0) + 1
    total = sum(counts.values())
    figures = [
        CategoryFigure(c, counts.get(c.id, 0), percent(counts.get(c.id, 0), total))
        for c in categories
    ]
    return figures, total, bool(published)


def status_as_of(
    measure: Measure, updates: list[MeasureUpdate], day: dt.date, tz: ZoneInfo
) -> tuple[str, dt.date | None]:
    """(the stored status at the end of ``day``, the local day it was marked done if done)."""
    changes = [u for u in updates if u.status is not None]
    before = [u for u in changes if u.created_at.astimezone(tz).date() <= day]
    if before:
        status = str(before[-1].status)
    elif changes:
        status = str(changes[0].old_status or MeasureStatus.PLANNED)
    else:
        status = measure.status
    closed_on = None
    if status == MeasureStatus.DONE:
        done = [u for u in before if u.status == MeasureStatus.DONE]
        if done:
            closed_on = done[-1].created_at.astimezone(tz).date()
        elif measure.closed_at is not None:
            closed_on = measure.closed_at.astimezone(tz).date()
    return status, closed_on


def _report_measure(
    measure: Measure,
    departments: list[Department],
    updates: list[MeasureUpdate],
    day: dt.date,
    tz: ZoneInfo,
) -> ReportMeasure:
    status, closed_on = status_as_of(measure, updates, day, tz)
    days_overdue = 0
    if status in OPEN_STATUSES and measure.due_date is not None and measure.due_date < day:
        status, days_overdue = OVERDUE, (day - measure.due_date).days
    shown = [u for u in updates if u.created_at.astimezone(tz).date() <= day]
    latest = None
    if shown:
        last = shown[-1]
        latest = LatestUpdate(
            last.created_at.astimezone(tz).date(),
            last.kind,
            last.status,
            last.progress,
            last.comment,
        )
    return ReportMeasure(
        id=measure.id,
        position=measure.position,
        source=measure.source,
        text=measure.text,
        deadline_text=measure.deadline_text,
        due_date=measure.due_date,
        departments=departments,
        status=status,
        days_overdue=days_overdue,
        closed_on=closed_on,
        latest=latest,
    )


def department_progress(measures: list[ReportMeasure]) -> list[DepartmentProgress]:
    """Per responsible department: measures closed on time, closed late, open past due."""
    rows: dict[int, DepartmentProgress] = {}
    for measure in measures:
        for department in measure.departments:
            row = rows.setdefault(department.id, DepartmentProgress(department))
            row.measures += 1
            if measure.status == MeasureStatus.DONE:
                late = (
                    measure.due_date is not None
                    and measure.closed_on is not None
                    and measure.closed_on > measure.due_date
                )
                row.late += int(late)
                row.on_time += int(not late)
            elif measure.status == OVERDUE:
                row.overdue += 1
    return sorted(rows.values(), key=lambda r: (-r.overdue, -r.late, r.department.code))


async def build_meeting_report(
    session: AsyncSession, meeting_id: int, as_of: dt.date, tz: ZoneInfo = ALMATY
) -> MeetingReport | None:
    """Everything the meeting's report and its progress report show (None: no such meeting)."""
    found = await meeting_with_district(session, meeting_id)
    if found is None:
        return None
    meeting, district = found
    figures, classified, published = await category_figures(session, meeting_id)
    rows = (
        await session.execute(
            select(ProblemIssue, Measure)
            .join(Measure, Measure.problem_id == ProblemIssue.id)
            .where(ProblemIssue.meeting_id == meeting_id)
            .order_by(ProblemIssue.number, Measure.position, Measure.id)
        )
    ).all()
    measure_ids = [measure.id for _problem, measure in rows]
    departments: defaultdict[int, list[Department]] = defaultdict(list)
    updates: defaultdict[int, list[MeasureUpdate]] = defaultdict(list)
    if measure_ids:
        links = await session.execute(
            select(MeasureDepartment.measure_id, Department)
            .join(Department, Department.id == MeasureDepartment.department_id)
            .where(MeasureDepartment.measure_id.in_(measure_ids))
            .order_by(MeasureDepartment.position, Department.id)
        )
        for measure_id, department in links.all():
            departments[measure_id].append(department)
        history = await session.execute(
            select(MeasureUpdate)
            .where(MeasureUpdate.measure_id.in_(measure_ids))
            .order_by(MeasureUpdate.created_at, MeasureUpdate.id)
        )
        for update in history.scalars():
            updates[update.measure_id].append(update)
    problems: dict[int, ReportProblem] = {}
    spoken: list[ReportMeasure] = []
    for problem, measure in rows:
        item = _report_measure(measure, departments[measure.id], updates[measure.id], as_of, tz)
        if measure.source == MeasureSource.SPOKEN:
            spoken.append(item)
            continue
        if problem.id not in problems:
            problems[problem.id] = ReportProblem(problem.number, problem.title, [])
        problems[problem.id].measures.append(item)
    report = MeetingReport(
        meeting=meeting,
        district=district,
        as_of=as_of,
        outcome={name: getattr(meeting, name) for name in OUTCOME_FIELDS},
        categories=figures,
        classified=classified,
        categories_published=published,
        problems=list(problems.values()),
        spoken=spoken,
    )
    report.departments = department_progress(report.measures)
    return report
