"""The morning digest (09:00 Asia/Almaty) for each department.

Content: the department's overdue open measures (most overdue first), the open measures due within
7 days, and the new questions in its inbox (routed to it and not yet taken into work). Nothing to
say, no message.

Recipients: each reachable group chat of the department. A department with no reachable chat gets
its digest in the private chats of its reachable members instead, so a department that works
from private chats only is not left out. One digest per recipient per local day
(``digest:<department>:<recipient>:<date>``), however often the job runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import partial

from aiogram.utils.i18n import I18n
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import (
    OPEN_STATUSES,
    Department,
    DepartmentQueue,
    Measure,
    MeasureDepartment,
    Question,
)
from models.recipients import Recipient, recipients_by_department
from models.settings import Settings
from scheduler.delivery import daytime
from scheduler.notifications import queue_each
from scheduler.notifications.measures import render_digest

logger = logging.getLogger(__name__)

DUE_SOON_DAYS = 7
QUESTION_LIST_LIMIT = 5


@dataclass
class DepartmentDigest:
    department: Department
    overdue: list[Measure] = field(default_factory=list)
    due_soon: list[Measure] = field(default_factory=list)
    new_questions: int = 0
    question_samples: list[Question] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.new_questions)


@dataclass
class DigestRun:
    departments: int = 0
    skipped_empty: int = 0
    queued: int = 0
    already_queued: int = 0


async def collect_digests(session: AsyncSession, today: dt.date) -> dict[int, DepartmentDigest]:
    """Every department's digest content (three queries in all)."""
    departments = {
        d.id: DepartmentDigest(d)
        for d in (await session.execute(select(Department).order_by(Department.id))).scalars()
    }
    rows = await session.execute(
        select(MeasureDepartment.department_id, Measure)
        .join(Measure, Measure.id == MeasureDepartment.measure_id)
        .where(
            Measure.status.in_(OPEN_STATUSES),
            Measure.due_date.is_not(None),
            Measure.due_date <= today + dt.timedelta(days=DUE_SOON_DAYS),
        )
        .order_by(Measure.due_date, Measure.id)
    )
    for department_id, measure in rows.all():
        digest = departments.get(department_id)
        if digest is None:
            continue
        assert measure.due_date is not None
        (digest.overdue if measure.due_date < today else digest.due_soon).append(measure)
    counts = await session.execute(
        select(Question.department_id, func.count())
        .where(Question.department_queue == DepartmentQueue.NEW)
        .group_by(Question.department_id)
    )
    for inbox_id, count in counts.all():
        if inbox_id is not None and inbox_id in departments:
            departments[inbox_id].new_questions = int(count)
    samples = await session.execute(
        select(Question)
        .where(Question.department_queue == DepartmentQueue.NEW)
        .order_by(Question.department_id, Question.created_at, Question.id)
    )
    for question in samples.scalars():
        digest = departments.get(question.department_id or 0)
        if digest is not None and len(digest.question_samples) < QUESTION_LIST_LIMIT:
            digest.question_samples.append(question)
    return departments


def _digest_key(department_id: int, today: dt.date, recipient: Recipient) -> str:
    return f"digest:{department_id}:{recipient.key}:{today:%Y-%m-%d}"


async def plan_digests(
    session: AsyncSession, i18n: I18n, settings: Settings, now: dt.datetime
) -> DigestRun:
    """Queue today's digest for every department with something to say (the caller commits)."""
    run = DigestRun()
    today = now.astimezone(settings.tz).date()
    digests = await collect_digests(session, today)
    recipients = await recipients_by_department(session, set(digests))
    for department_id, digest in digests.items():
        targets = recipients.get(department_id, [])
        if not targets:
            continue
        run.departments += 1
        if digest.empty:
            run.skipped_empty += 1
            continue
        chats = [r for r in targets if r.is_group]
        queued = await queue_each(
            session,
            i18n,
            chats or targets,
            partial(render_digest, digest, today),
            kind="department_digest",
            key=partial(_digest_key, department_id, today),
            not_before=lambda r: daytime(now, settings) if r.is_group else now,
        )
        run.queued += queued
        run.already_queued += len(chats or targets) - queued
    return run
