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

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_date
from bot.menu import MenuItem, label
from models.entities import (
    OPEN_STATUSES,
    Department,
    DepartmentQueue,
    Measure,
    MeasureDepartment,
    Question,
)
from models.settings import Settings
from models.text import truncate
from scheduler.delivery import daytime
from scheduler.queue import enqueue
from scheduler.reminders import Recipient, department_recipients

logger = logging.getLogger(__name__)

DUE_SOON_DAYS = 7
LIST_LIMIT = 10  # measures listed per section; the rest are counted
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


def _measure_line(measure: Measure, today: dt.date) -> str:
    assert measure.due_date is not None
    days = (measure.due_date - today).days
    if days < 0:
        when = _("{days} day overdue", "{days} days overdue", -days).format(days=-days)
    elif days == 0:
        when = _("due today")
    else:
        when = _("in {days} day", "in {days} days", days).format(days=days)
    return f"• {html.quote(truncate(measure.text, 120))} — <i>{html.quote(when)}</i>"


def render_digest(i18n: I18n, locale: str, digest: DepartmentDigest, today: dt.date) -> str:
    with i18n.context(), i18n.use_locale(locale):
        lines = [
            _("☀️ <b>Good morning, {department}</b>").format(
                department=html.quote(digest.department.short(locale))
            ),
            _("Your digest for {date}").format(date=fmt_date(today, locale)),
        ]
        for title, measures in (
            (_("🔴 <b>Overdue: {count}</b>"), digest.overdue),
            (_("⏰ <b>Due within 7 days: {count}</b>"), digest.due_soon),
        ):
            if not measures:
                continue
            lines.append("")
            lines.append(title.format(count=len(measures)))
            lines.extend(_measure_line(m, today) for m in measures[:LIST_LIMIT])
            if len(measures) > LIST_LIMIT:
                rest = len(measures) - LIST_LIMIT
                lines.append(_("…and {count} more", "…and {count} more", rest).format(count=rest))
        if digest.new_questions:
            lines.append("")
            lines.append(
                _("📥 <b>New questions in the inbox: {count}</b>").format(
                    count=digest.new_questions
                )
            )
            for question in digest.question_samples:
                ref = html.quote(question.ref or f"#{question.id}")
                lines.append(f"• {ref}: {html.quote(truncate(question.text, 100))}")
        lines.append("")
        lines.append(
            _("Press «{menu}» in the bot to report progress.").format(
                menu=label(MenuItem.OUR_MEASURES)
            )
        )
        return "\n".join(lines)


async def plan_digests(
    session: AsyncSession, i18n: I18n, settings: Settings, now: dt.datetime
) -> DigestRun:
    """Queue today's digest for every department with something to say (the caller commits)."""
    run = DigestRun()
    today = now.astimezone(settings.tz).date()
    digests = await collect_digests(session, today)
    recipients = await department_recipients(session, set(digests), settings.default_locale)
    for department_id, digest in digests.items():
        targets: list[Recipient] = recipients.get(department_id, [])
        if not targets:
            continue
        run.departments += 1
        if digest.empty:
            run.skipped_empty += 1
            continue
        chats = [r for r in targets if r.is_group]
        for recipient in chats or targets:
            queued = await enqueue(
                session,
                chat_id=recipient.chat_id,
                user_id=recipient.user_id,
                text=render_digest(i18n, recipient.locale, digest, today),
                kind="department_digest",
                dedup_key=f"digest:{department_id}:{recipient.key}:{today:%Y-%m-%d}",
                is_group=recipient.is_group,
                not_before=daytime(now, settings) if recipient.is_group else now,
            )
            if queued:
                run.queued += 1
            else:
                run.already_queued += 1
    return run
