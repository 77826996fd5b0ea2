"""Deadline reminders to the responsible departments' chats and members.

For every open measure (planned or in progress) with a due date, the reminder milestones are the
configured days before it (``REMINDER_DAYS``, 30, 7 and 1 by default), the first day overdue
(the day after the due date), and then every 7 days while the measure stays open. Done and
cancelled measures, and measures with no due date, get nothing.

The planner is a pure function of the database and ``now``: each run queues the *most recent*
milestone that has been reached, once per recipient, keyed
``reminder:<measure>:<milestone>:<due date>:<recipient>``. Running it twice, late after downtime
(only the latest missed milestone is sent, not every missed one), or in two processes at once
therefore queues one copy; a changed due date gives new keys, so the reminders re-arm.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import OPEN_STATUSES, Department, Measure, MeasureDepartment
from models.recipients import recipients_by_department
from models.settings import Settings
from scheduler.delivery import daytime
from scheduler.notifications import messages, per_locale
from scheduler.notifications.measures import render_reminder
from scheduler.queue import enqueue_many

logger = logging.getLogger(__name__)

OVERDUE_WEEKLY = 7
CHUNK = 200  # measures planned at a time (memory stays flat: measured in bench memory)


@dataclass(frozen=True)
class Milestone:
    """A reminder that is due: ``kind`` is ``d30``/``d7``/``d1``, ``overdue`` or ``w1``, ``w2``…"""

    kind: str
    day: dt.date


def current_milestone(
    due: dt.date, today: dt.date, days_before: tuple[int, ...]
) -> Milestone | None:
    """The most recent reminder milestone reached on ``today`` (None before the first one)."""
    if today > due:
        first_overdue = due + dt.timedelta(days=1)
        weeks = (today - first_overdue).days // OVERDUE_WEEKLY
        if weeks == 0:
            return Milestone("overdue", first_overdue)
        return Milestone(f"w{weeks}", first_overdue + dt.timedelta(days=OVERDUE_WEEKLY * weeks))
    reached = [n for n in days_before if due - dt.timedelta(days=n) <= today]
    if not reached:
        return None
    n = min(reached)
    return Milestone(f"d{n}", due - dt.timedelta(days=n))


@dataclass
class ReminderRun:
    measures: int = 0
    queued: int = 0
    already_queued: int = 0


async def plan_deadline_reminders(
    session: AsyncSession, i18n: I18n, settings: Settings, now: dt.datetime
) -> ReminderRun:
    """Queue the reminders that are due at ``now`` (the caller commits). The due measures are
    found on their ids and dates alone, then planned ``CHUNK`` at a time, so a city's worth of
    reminders never sits in memory at once."""
    run = ReminderRun()
    today = now.astimezone(settings.tz).date()
    horizon = today + dt.timedelta(days=max(settings.reminder_days, default=0))
    dated = await session.execute(
        select(Measure.id, Measure.due_date)
        .where(
            Measure.status.in_(OPEN_STATUSES),
            Measure.due_date.is_not(None),
            Measure.due_date <= horizon,
        )
        .order_by(Measure.due_date, Measure.id)
    )
    due: list[tuple[int, Milestone]] = []
    for measure_id, due_date in dated:
        assert due_date is not None  # selected so
        milestone = current_milestone(due_date, today, settings.reminder_days)
        if milestone is not None:
            due.append((measure_id, milestone))
    for start in range(0, len(due), CHUNK):
        await _plan_chunk(session, i18n, settings, now, today, due[start : start + CHUNK], run)
    return run


async def _plan_chunk(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    now: dt.datetime,
    today: dt.date,
    due: list[tuple[int, Milestone]],
    run: ReminderRun,
) -> None:
    ids = [measure_id for measure_id, _milestone in due]
    measures = {
        m.id: m
        for m in (await session.execute(select(Measure).where(Measure.id.in_(ids)))).scalars()
    }
    links = await session.execute(
        select(MeasureDepartment.measure_id, Department)
        .join(Department, Department.id == MeasureDepartment.department_id)
        .where(MeasureDepartment.measure_id.in_(ids))
        .order_by(MeasureDepartment.measure_id, MeasureDepartment.position)
    )
    departments: dict[int, list[Department]] = defaultdict(list)
    for measure_id, department in links.all():
        departments[measure_id].append(department)
    recipients = await recipients_by_department(
        session, {d.id for ds in departments.values() for d in ds}
    )
    rows: list[dict[str, Any]] = []
    for measure_id, milestone in due:
        measure = measures.get(measure_id)
        if measure is None:  # deleted meanwhile
            continue
        run.measures += 1
        # each chat once, though it may be bound to (or its person a member of) two departments
        targets = {
            r.key: r for d in departments[measure_id] for r in recipients.get(d.id, [])
        }.values()
        rows += messages(
            i18n,
            targets,
            per_locale(partial(render_reminder, measure, departments[measure_id], today)),
            kind="deadline_reminder",
            key=f"reminder:{measure_id}:{milestone.kind}:{measure.due_date:%Y-%m-%d}",
            not_before=lambda r: daytime(now, settings) if r.is_group else now,
        )
    # Multi-row inserts (one statement per few hundred reminders); the dedup keys keep a
    # second run, or a second replica, from queueing anything twice.
    queued = await enqueue_many(session, rows)
    run.queued += queued
    run.already_queued += len(rows) - queued
