"""Read side of the commitments: districts, meetings, measure lists, the measure card, history,
follows and the city overview.

Every function runs a fixed number of queries whatever the size of the list (joins and grouped
counts, never a query per row); ``tests/test_resident_browse.py`` counts the statements.
Overdue is derived here from the due date and the ``today`` the caller passes (Asia/Almaty).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, TypeVarTuple

from sqlalchemy import Integer, RowMapping, Select, and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.entities import (
    OPEN_STATUSES,
    Department,
    Dispute,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    MeasureSource,
    MeasureStatus,
    MeasureUpdate,
    Meeting,
    Named,
    ProblemIssue,
    User,
)
from models.meetings import meeting_with_district
from models.permissions import may_update_measure_clause
from models.spoken import measure_number
from models.statuses import OVERDUE, effective_status


@dataclass
class Tally:
    """Measures counted by the status a person sees (overdue derived)."""

    done: int = 0
    in_progress: int = 0
    planned: int = 0
    overdue: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.done + self.in_progress + self.planned + self.overdue + self.cancelled

    def add(self, status: str, count: int) -> None:
        name = {
            MeasureStatus.DONE: "done",
            MeasureStatus.IN_PROGRESS: "in_progress",
            MeasureStatus.PLANNED: "planned",
            MeasureStatus.CANCELLED: "cancelled",
            OVERDUE: "overdue",
        }.get(status)
        if name is not None:
            setattr(self, name, getattr(self, name) + count)


def _seen_status(today: dt.date) -> object:
    """SQL expression of the status a person sees: open and past due → ``overdue``."""
    return case(
        (
            and_(
                Measure.status.in_([str(s) for s in OPEN_STATUSES]),
                Measure.due_date.is_not(None),
                Measure.due_date < today,
            ),
            OVERDUE,
        ),
        else_=Measure.status,
    )


async def measure_tallies(
    session: AsyncSession, key: object, today: dt.date, where: object | None = None
) -> dict[int, Tally]:
    """One grouped query: ``key`` (a meeting or district id column) → tally."""
    seen = _seen_status(today).label("seen")  # type: ignore[attr-defined]
    query: Select[Any] = (
        select(key, seen, func.count(Measure.id))  # type: ignore[call-overload]
        .select_from(Measure)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .group_by(key, seen)
    )
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    result: dict[int, Tally] = {}
    for owner, status, count in (await session.execute(query)).all():
        result.setdefault(int(owner), Tally()).add(str(status), int(count))
    return result


# --- districts and the city overview -----------------------------------------------------------


@dataclass
class DistrictSummary:
    district: District
    tally: Tally
    meetings: int


async def city_overview(session: AsyncSession, today: dt.date) -> list[DistrictSummary]:
    """Every district in the reference order with its measures' tally (three queries)."""
    districts = list((await session.execute(select(District).order_by(District.order))).scalars())
    tallies = await measure_tallies(session, Meeting.district_id, today)
    meetings = dict(
        (
            await session.execute(
                select(Meeting.district_id, func.count(Meeting.id)).group_by(Meeting.district_id)
            )
        ).all()
    )
    return [
        DistrictSummary(d, tallies.get(d.id, Tally()), int(meetings.get(d.id, 0)))
        for d in districts
    ]


# --- a district's meetings ---------------------------------------------------------------------


@dataclass
class MeetingSummary:
    meeting: Meeting
    tally: Tally


@dataclass
class DistrictPage:
    district: District
    meetings: list[MeetingSummary]
    total: int
    page: int
    following: bool


async def district_page(
    session: AsyncSession,
    district_id: int,
    page: int,
    per_page: int,
    today: dt.date,
    user_id: int | None = None,
) -> DistrictPage | None:
    district = await session.get(District, district_id)
    if district is None:
        return None
    total = int(
        (
            await session.execute(
                select(func.count(Meeting.id)).where(Meeting.district_id == district_id)
            )
        ).scalar_one()
    )
    page = min(max(page, 0), max(0, -(-total // per_page) - 1))
    meetings = list(
        (
            await session.execute(
                select(Meeting)
                .where(Meeting.district_id == district_id)
                .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
                .offset(page * per_page)
                .limit(per_page)
            )
        ).scalars()
    )
    tallies: dict[int, Tally] = {}
    if meetings:
        tallies = await measure_tallies(
            session, Meeting.id, today, Meeting.id.in_([m.id for m in meetings])
        )
    following = False
    if user_id is not None:
        following = (
            await session.execute(
                select(Follow.id)
                .where(Follow.user_id == user_id, Follow.district_id == district_id)
                .limit(1)
            )
        ).first() is not None
    return DistrictPage(
        district=district,
        meetings=[MeetingSummary(m, tallies.get(m.id, Tally())) for m in meetings],
        total=total,
        page=page,
        following=following,
    )


# --- a meeting's plan --------------------------------------------------------------------------


@dataclass
class MeasureRow:
    """One measure in a list: enough to show a line and a button, no lazy loads."""

    id: int
    text: str
    status: str  # as seen (overdue derived)
    due_date: dt.date | None
    deadline_text: str
    problem_number: int
    problem_title: str
    position: int
    district_id: int = 0
    district: Named | None = None  # a District row or its names (CardNames)
    meeting_starts_at: dt.datetime | None = None
    source: str = MeasureSource.PLAN  # spoken: stated at the meeting, not in the plan

    @property
    def number(self) -> str:
        """``4.1`` in the plan, ``🗣2`` stated at the meeting."""
        return measure_number(self.problem_number, self.position, self.source)

    @classmethod
    def of(
        cls,
        measure: Measure,
        problem_number: int,
        problem_title: str,
        today: dt.date,
        district: District | None = None,
        meeting_starts_at: dt.datetime | None = None,
    ) -> MeasureRow:
        return cls(
            id=measure.id,
            text=measure.text,
            status=effective_status(measure.status, measure.due_date, today),
            due_date=measure.due_date,
            deadline_text=measure.deadline_text,
            problem_number=problem_number,
            problem_title=problem_title,
            position=measure.position,
            district_id=district.id if district is not None else 0,
            district=district,
            meeting_starts_at=meeting_starts_at,
            source=measure.source,
        )


@dataclass
class MeetingPage:
    meeting: Meeting
    district: District
    tally: Tally
    rows: list[MeasureRow]
    total: int
    page: int


async def meeting_page(
    session: AsyncSession, meeting_id: int, page: int, per_page: int, today: dt.date
) -> MeetingPage | None:
    """The meeting's measures in plan order (problem number, position), one page of them."""
    found = await meeting_with_district(session, meeting_id)
    if found is None:
        return None
    meeting, district = found
    tally = (await measure_tallies(session, Meeting.id, today, Meeting.id == meeting_id)).get(
        meeting_id, Tally()
    )
    total = tally.total
    page = min(max(page, 0), max(0, -(-total // per_page) - 1))
    result = await session.execute(
        select(Measure, ProblemIssue.number, ProblemIssue.title)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .where(ProblemIssue.meeting_id == meeting_id)
        .order_by(ProblemIssue.number, Measure.position, Measure.id)
        .offset(page * per_page)
        .limit(per_page)
    )
    rows = [
        MeasureRow.of(m, number, title, today, district, meeting.starts_at)
        for m, number, title in result.all()
    ]
    return MeetingPage(meeting, district, tally, rows, total, page)


async def measure_page_in_meeting(session: AsyncSession, measure_id: int, per_page: int) -> int:
    """The page of its meeting's list on which a measure appears (for "back to the plan")."""
    target = (
        select(ProblemIssue.meeting_id, ProblemIssue.number, Measure.position, Measure.id)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .where(Measure.id == measure_id)
        .subquery()
    )
    before = await session.execute(
        select(func.count(Measure.id))
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(target, target.c.meeting_id == ProblemIssue.meeting_id)
        .where(
            (ProblemIssue.number < target.c.number)
            | (
                (ProblemIssue.number == target.c.number)
                & (
                    (Measure.position < target.c.position)
                    | ((Measure.position == target.c.position) & (Measure.id < target.c.id))
                )
            )
        )
    )
    return int(before.scalar_one() or 0) // per_page


# --- the measure card --------------------------------------------------------------------------


@dataclass(frozen=True)
class CardNames(Named):
    """A district's or a department's names in the three languages, read as plain values (the
    same ``name``/``short`` as the rows)."""

    code: str
    name_ru: str
    name_kk: str
    name_en: str
    short_ru: str
    short_kk: str
    short_en: str


@dataclass(frozen=True)
class CardMeasure:
    """What the card shows of a measure (its columns, not an ORM object)."""

    id: int
    text: str
    status: str
    due_date: dt.date | None
    deadline_text: str
    progress: int | None
    proof_photo_file_id: str | None
    source: str = MeasureSource.PLAN


@dataclass
class CardUpdate:
    created_at: dt.datetime
    kind: str
    status: str | None
    progress: int | None
    comment: str
    department: Department | CardNames | None


@dataclass(frozen=True)
class CardProblem:
    number: int
    title: str


@dataclass(frozen=True)
class CardMeeting:
    id: int
    starts_at: dt.datetime


@dataclass
class MeasureCard:
    """Everything the measure card shows, loaded in one query of plain columns (loading the
    measure, the district and the departments as ORM objects cost more than the query)."""

    measure: CardMeasure
    problem: CardProblem
    meeting: CardMeeting
    district: CardNames
    departments: list[CardNames]
    latest: CardUpdate | None
    updates: int
    disputes: int
    following: bool = False
    can_report: bool = False
    followers: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    plan_page: int = 0  # with ``load_card(per_page=...)``: the page of its meeting's list

    def status(self, today: dt.date) -> str:
        return effective_status(self.measure.status, self.measure.due_date, today)


NAME_FIELDS = ("code", "name_ru", "name_kk", "name_en", "short_ru", "short_kk", "short_en")


def names_columns(entity: Any, prefix: str) -> list[Any]:
    """A district's or department's code and names (or its alias's), labelled ``prefix_*``."""
    return [getattr(entity, name).label(f"{prefix}_{name}") for name in NAME_FIELDS]


def names_of(row: RowMapping, prefix: str) -> CardNames | None:
    """The names read by :func:`names_columns`; None for an outer join's miss."""
    if row[f"{prefix}_code"] is None:
        return None
    return CardNames(**{name: row[f"{prefix}_{name}"] for name in NAME_FIELDS})


_Ts = TypeVarTuple("_Ts")


def joined_to_district(statement: Select[*_Ts]) -> Select[*_Ts]:
    """``statement`` on measures, joined to their problem issue, meeting and district."""
    return (
        statement.join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .join(District, District.id == Meeting.district_id)
    )


def _count(statement: Select[Any], label: str) -> Any:
    return statement.correlate(Measure).scalar_subquery().label(label)


@functools.cache
def _card_statement(with_permission: bool, with_page: bool) -> Select[Any]:
    """The card's query, built once per variant; ``measure_id`` and ``user_id`` are bound. One
    row per responsible department (usually one or two), each with the measure, its problem,
    meeting and district, its latest update and its counts."""
    measure_id = bindparam("measure_id", type_=Integer)
    user_id = bindparam("user_id", type_=Integer)
    latest_id = (
        select(MeasureUpdate.id)
        .where(MeasureUpdate.measure_id == Measure.id)
        .order_by(MeasureUpdate.created_at.desc(), MeasureUpdate.id.desc())
        .limit(1)
        .correlate(Measure)
        .scalar_subquery()
    )
    author = aliased(Department)
    columns: list[Any] = [
        Measure.id.label("id"),
        Measure.text.label("text"),
        Measure.status.label("status"),
        Measure.due_date.label("due_date"),
        Measure.deadline_text.label("deadline_text"),
        Measure.progress.label("progress"),
        Measure.proof_photo_file_id.label("proof_photo_file_id"),
        Measure.source.label("source"),
        *names_columns(District, "district"),
        ProblemIssue.number.label("problem_number"),
        ProblemIssue.title.label("problem_title"),
        Meeting.id.label("meeting_id"),
        Meeting.starts_at.label("meeting_starts_at"),
        MeasureUpdate.id.label("update_id"),
        MeasureUpdate.created_at.label("update_created_at"),
        MeasureUpdate.kind.label("update_kind"),
        MeasureUpdate.status.label("update_status"),
        MeasureUpdate.progress.label("update_progress"),
        MeasureUpdate.comment.label("update_comment"),
        *names_columns(author, "author"),
        _count(
            select(func.count(MeasureUpdate.id)).where(MeasureUpdate.measure_id == Measure.id),
            "updates",
        ),
        _count(
            select(func.count(Dispute.id)).where(
                Dispute.measure_id == Measure.id, Dispute.resolved.is_(False)
            ),
            "disputes",
        ),
        _count(select(func.count(Follow.id)).where(Follow.measure_id == Measure.id), "followers"),
        _count(
            select(func.count(Follow.id)).where(
                Follow.measure_id == Measure.id, Follow.user_id == user_id
            ),
            "mine",
        ),
    ]
    if with_permission:
        columns.append(
            may_update_measure_clause(user_id, Measure.id).correlate(Measure).label("can_report")
        )
    if with_page:  # how many measures of the meeting come before it in plan order
        other, other_problem = aliased(Measure), aliased(ProblemIssue)
        columns.append(
            select(func.count(other.id))
            .join(other_problem, other_problem.id == other.problem_id)
            .where(
                other_problem.meeting_id == ProblemIssue.meeting_id,
                (other_problem.number < ProblemIssue.number)
                | (
                    (other_problem.number == ProblemIssue.number)
                    & (
                        (other.position < Measure.position)
                        | ((other.position == Measure.position) & (other.id < Measure.id))
                    )
                ),
            )
            .correlate(Measure, ProblemIssue)
            .scalar_subquery()
            .label("before")
        )
    # The measure with everything it has once (the counts computed once), then joined to its
    # responsible departments.
    card = (
        joined_to_district(select(*columns))
        .outerjoin(MeasureUpdate, MeasureUpdate.id == latest_id)
        .outerjoin(author, author.id == MeasureUpdate.department_id)
        .where(Measure.id == measure_id)
        .subquery("card")
    )
    responsible = aliased(Department)
    return (
        select(card, *names_columns(responsible, "responsible"))
        .outerjoin(MeasureDepartment, MeasureDepartment.measure_id == card.c.id)
        .outerjoin(responsible, responsible.id == MeasureDepartment.department_id)
        .order_by(MeasureDepartment.position, MeasureDepartment.department_id)
    )


async def load_card(
    session: AsyncSession,
    measure_id: int,
    *,
    user: User | None = None,
    is_admin: bool = False,
    per_page: int | None = None,
) -> MeasureCard | None:
    """Load a measure card (None when the measure does not exist), in one query.

    With ``user``: whether they follow it and may report progress on it
    (:func:`models.permissions.can_update_measure`, re-checked on the server). With
    ``per_page``: also the page of its meeting's list the measure is on (``card.plan_page``,
    as :func:`measure_page_in_meeting`).
    """
    with_permission = user is not None and not is_admin
    statement = _card_statement(with_permission, per_page is not None)
    params = {"measure_id": measure_id, "user_id": user.id if user is not None else -1}
    rows = (await session.execute(statement, params)).mappings().all()
    if not rows:
        return None
    row = rows[0]
    latest = None
    if row["update_id"] is not None:
        latest = CardUpdate(
            created_at=row["update_created_at"],
            kind=row["update_kind"],
            status=row["update_status"],
            progress=row["update_progress"],
            comment=row["update_comment"],
            department=names_of(row, "author"),
        )
    district = names_of(row, "district")
    assert district is not None  # an inner join
    return MeasureCard(
        measure=CardMeasure(
            id=row["id"],
            text=row["text"],
            status=row["status"],
            due_date=row["due_date"],
            deadline_text=row["deadline_text"],
            progress=row["progress"],
            proof_photo_file_id=row["proof_photo_file_id"],
            source=row["source"],
        ),
        problem=CardProblem(row["problem_number"], row["problem_title"]),
        meeting=CardMeeting(row["meeting_id"], row["meeting_starts_at"]),
        district=district,
        departments=[n for r in rows if (n := names_of(r, "responsible")) is not None],
        latest=latest,
        updates=int(row["updates"] or 0),
        disputes=int(row["disputes"] or 0),
        following=bool(row["mine"]),
        can_report=bool(row["can_report"]) if with_permission else is_admin,
        followers=int(row["followers"] or 0),
        plan_page=int(row["before"] or 0) // per_page if per_page is not None else 0,
    )


@dataclass
class HistoryPage:
    measure: Measure
    entries: list[CardUpdate]
    total: int
    page: int


async def measure_history(
    session: AsyncSession, measure_id: int, page: int, per_page: int
) -> HistoryPage | None:
    """Every update of a measure, newest first, with the acting department (three queries)."""
    measure = await session.get(Measure, measure_id)
    if measure is None:
        return None
    total = int(
        (
            await session.execute(
                select(func.count(MeasureUpdate.id)).where(MeasureUpdate.measure_id == measure_id)
            )
        ).scalar_one()
    )
    page = min(max(page, 0), max(0, -(-total // per_page) - 1))
    rows = await session.execute(
        select(MeasureUpdate, Department)
        .outerjoin(Department, Department.id == MeasureUpdate.department_id)
        .where(MeasureUpdate.measure_id == measure_id)
        .order_by(MeasureUpdate.created_at.desc(), MeasureUpdate.id.desc())
        .offset(page * per_page)
        .limit(per_page)
    )
    entries = [
        CardUpdate(u.created_at, u.kind, u.status, u.progress, u.comment, d) for u, d in rows.all()
    ]
    return HistoryPage(measure, entries, total, page)


# --- follows -----------------------------------------------------------------------------------


@dataclass
class FollowItem:
    district: District | None = None
    measure: MeasureRow | None = None


@dataclass
class FollowingPage:
    items: list[FollowItem]
    total: int
    page: int


async def following_page(
    session: AsyncSession, user_id: int, page: int, per_page: int, today: dt.date
) -> FollowingPage:
    """What a user follows: districts first, then measures (newest follow first)."""
    total = int(
        (
            await session.execute(select(func.count(Follow.id)).where(Follow.user_id == user_id))
        ).scalar_one()
    )
    page = min(max(page, 0), max(0, -(-total // per_page) - 1))
    result = await session.execute(
        select(Follow, District, Measure, ProblemIssue)
        .outerjoin(District, District.id == Follow.district_id)
        .outerjoin(Measure, Measure.id == Follow.measure_id)
        .outerjoin(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .where(Follow.user_id == user_id)
        .order_by(
            case((Follow.district_id.is_not(None), 0), else_=1),
            Follow.created_at.desc(),
            Follow.id.desc(),
        )
        .offset(page * per_page)
        .limit(per_page)
    )
    items = []
    for _follow, district, measure, problem in result.all():
        if district is not None:
            items.append(FollowItem(district=district))
        elif measure is not None and problem is not None:
            items.append(
                FollowItem(measure=MeasureRow.of(measure, problem.number, problem.title, today))
            )
    return FollowingPage(items, total, page)
