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
    """Queue the reminders that are due at ``now`` (the caller commits)."""
    run = ReminderRun()
    today = now.astimezone(settings.tz).date()
    horizon = today + dt.timedelta(days=max(settings.reminder_days, default=0))
    measures = list(
        (
            await session.execute(
                select(Measure)
                .where(
                    Measure.status.in_(OPEN_STATUSES),
                    Measure.due_date.is_not(None),
                    Measure.due_date <= horizon,
                )
                .order_by(Measure.due_date, Measure.id)
            )
        ).scalars()
    )
    due: list[tuple[Measure, Milestone]] = []
    for measure in measures:
        assert measure.due_date is not None
        milestone = current_milestone(measure.due_date, today, settings.reminder_days)
        if milestone is not None:
            due.append((measure, milestone))
    if not due:
        return run
    links = await session.execute(
        select(MeasureDepartment.measure_id, Department)
        .join(Department, Department.id == MeasureDepartment.department_id)
        .where(MeasureDepartment.measure_id.in_([m.id for m, _ in due]))
        .order_by(MeasureDepartment.measure_id, MeasureDepartment.position)
    )
    departments: dict[int, list[Department]] = defaultdict(list)
    for measure_id, department in links.all():
        departments[measure_id].append(department)
    recipients = await recipients_by_department(
        session, {d.id for ds in departments.values() for d in ds}
    )
    rows: list[dict[str, Any]] = []
    for measure, milestone in due:
        run.measures += 1
        # each chat once, though it may be bound to (or its person a member of) two departments
        targets = {
            r.key: r for d in departments[measure.id] for r in recipients.get(d.id, [])
        }.values()
        rows += messages(
            i18n,
            targets,
            per_locale(partial(render_reminder, measure, departments[measure.id], today)),
            kind="deadline_reminder",
            key=f"reminder:{measure.id}:{milestone.kind}:{measure.due_date:%Y-%m-%d}",
            not_before=lambda r: daytime(now, settings) if r.is_group else now,
        )
    # Multi-row inserts (one statement per few hundred reminders); the dedup keys keep a
    # second run, or a second replica, from queueing anything twice.
    run.queued = await enqueue_many(session, rows)
    run.already_queued = len(rows) - run.queued
    return run
