"""What the followers of measures and districts are told, as data: the measures that slipped past
their due date, each follower's measures still overdue for the monthly summary, and the measures
and latest updates those messages show. The messages themselves are rendered and queued by
``scheduler/notifications/followers.py``; the jobs deciding when are in ``scheduler/followers.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.commitments import MeasureRow, joined_to_district
from models.entities import (
    OPEN_STATUSES,
    Department,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    MeasureUpdate,
    Meeting,
    ProblemIssue,
    User,
)
from models.recipients import Recipient

SUMMARY_LIMIT = 10  # measures listed in one summary; the rest are counted


@dataclass(frozen=True)
class LatestUpdate:
    """A measure's newest history entry, as a follower's message shows it."""

    created_at: dt.datetime
    kind: str
    status: str | None
    progress: int | None
    comment: str


@dataclass
class FollowedMeasure:
    """A measure as the followers' messages show it."""

    row: MeasureRow
    departments: list[Department] = field(default_factory=list)
    latest: LatestUpdate | None = None


CHUNK = 2000  # ids per IN (...) list: well under the drivers' limits on bound parameters


async def followed_measures(
    session: AsyncSession, measure_ids: Iterable[int], today: dt.date, *, latest: bool = False
) -> dict[int, FollowedMeasure]:
    """The measures with their problem, district and departments (and, with ``latest``, their
    newest history entry), by id: three or four queries per ``CHUNK`` measures."""
    ids = sorted(set(measure_ids))
    found: dict[int, FollowedMeasure] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(await _followed_chunk(session, ids[start : start + CHUNK], today, latest))
    return found


async def _followed_chunk(
    session: AsyncSession, ids: list[int], today: dt.date, latest: bool
) -> dict[int, FollowedMeasure]:
    rows = await session.execute(
        joined_to_district(select(Measure, ProblemIssue, Meeting, District)).where(
            Measure.id.in_(ids)
        )
    )
    found = {
        measure.id: FollowedMeasure(
            MeasureRow.of(
                measure, problem.number, problem.title, today, district, meeting.starts_at
            )
        )
        for measure, problem, meeting, district in rows.all()
    }
    links = await session.execute(
        select(MeasureDepartment.measure_id, Department)
        .join(Department, Department.id == MeasureDepartment.department_id)
        .where(MeasureDepartment.measure_id.in_(ids))
        .order_by(MeasureDepartment.measure_id, MeasureDepartment.position)
    )
    for measure_id, department in links.all():
        found[measure_id].departments.append(department)
    if latest:
        newest = (
            select(
                MeasureUpdate.measure_id,
                func.max(MeasureUpdate.id).label("id"),
            )
            .where(MeasureUpdate.measure_id.in_(ids))
            .group_by(MeasureUpdate.measure_id)
            .subquery()
        )
        updates = await session.execute(
            select(MeasureUpdate).join(newest, newest.c.id == MeasureUpdate.id)
        )
        for update in updates.scalars():
            found[update.measure_id].latest = LatestUpdate(
                update.created_at, update.kind, update.status, update.progress, update.comment
            )
    return found


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The start of ``day`` in ``tz``, as aware UTC."""
    return dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)


async def newly_overdue(
    session: AsyncSession, today: dt.date, tz: ZoneInfo, catch_up_days: int
) -> list[tuple[int, dt.date, list[Recipient]]]:
    """Open measures whose due date passed at most ``catch_up_days`` days ago, with their
    reachable followers who followed them before they slipped (a measure followed while already
    overdue has nothing new to tell): ``(measure id, due date, followers)``."""
    first = today - dt.timedelta(days=catch_up_days)
    rows = await session.execute(
        select(Measure.id, Measure.due_date, Follow.created_at, User)
        .join(Follow, Follow.measure_id == Measure.id)
        .join(User, User.id == Follow.user_id)
        .where(
            Measure.status.in_(OPEN_STATUSES),
            Measure.due_date.is_not(None),
            Measure.due_date >= first,
            Measure.due_date < today,
            User.reachable.is_(True),
        )
        .order_by(Measure.due_date, Measure.id, User.id)
    )
    result: dict[int, tuple[dt.date, list[Recipient]]] = {}
    for row in rows:
        due: dt.date = row.due_date
        if row.created_at >= local_midnight(due + dt.timedelta(days=1), tz):
            continue
        result.setdefault(row.id, (due, []))[1].append(Recipient.of(row.User))
    return [(measure_id, due, people) for measure_id, (due, people) in result.items()]


async def overdue_by_follower(
    session: AsyncSession, today: dt.date
) -> list[tuple[Recipient, list[int]]]:
    """Each reachable follower who keeps the monthly summary on, with the ids of their followed
    measures still overdue (most overdue first); followers with none are left out."""
    rows = await session.execute(  # columns, not profiles: a city's followers are many
        select(Measure.id, User.id.label("user_id"), User.tg_id, User.locale)
        .join(Follow, Follow.measure_id == Measure.id)
        .join(User, User.id == Follow.user_id)
        .where(
            Measure.status.in_(OPEN_STATUSES),
            Measure.due_date.is_not(None),
            Measure.due_date < today,
            User.reachable.is_(True),
            User.monthly_summary.is_(True),
        )
        .order_by(User.id, Measure.due_date, Measure.id)
    )
    people: dict[int, Recipient] = {}
    measures: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.user_id not in people:
            people[row.user_id] = Recipient(row.tg_id, row.locale, user_id=row.user_id)
        measures[row.user_id].append(row.id)
    return [(people[user_id], measures[user_id]) for user_id in people]


async def measure_followers_of(
    session: AsyncSession, measure_ids: Iterable[int]
) -> dict[int, list[int]]:
    """Reachable followers' user ids per measure."""
    ids = set(measure_ids)
    result: dict[int, list[int]] = defaultdict(list)
    if not ids:
        return result
    rows = await session.execute(
        select(Follow.measure_id, User.id)
        .join(User, User.id == Follow.user_id)
        .where(Follow.measure_id.in_(ids), User.reachable.is_(True))
        .order_by(User.id)
    )
    for measure_id, user_id in rows.all():
        if measure_id is not None:
            result[measure_id].append(user_id)
    return result


async def recipients_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, Recipient]:
    """The reachable users among ``user_ids``, as recipients."""
    ids = set(user_ids)
    if not ids:
        return {}
    users = await session.execute(select(User).where(User.id.in_(ids), User.reachable.is_(True)))
    return {user.id: Recipient.of(user) for user in users.scalars()}
