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
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb, ReportMeasureCb
from bot.formatting import fmt_date
from models.entities import (
    OPEN_STATUSES,
    Department,
    DepartmentChat,
    DepartmentMember,
    Measure,
    MeasureDepartment,
    User,
)
from models.settings import Settings
from models.text import truncate
from scheduler.delivery import daytime
from scheduler.notify import OPEN_BUTTON
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


@dataclass(frozen=True)
class Recipient:
    key: str  # for the dedup key: c<chat id> or u<user id>
    chat_id: int
    locale: str
    user_id: int | None
    is_group: bool


@dataclass
class ReminderRun:
    measures: int = 0
    queued: int = 0
    already_queued: int = 0


def render_reminder(
    i18n: I18n, locale: str, measure: Measure, departments: list[Department], today: dt.date
) -> str:
    assert measure.due_date is not None
    with i18n.context(), i18n.use_locale(locale):
        days = (measure.due_date - today).days
        if days < 0:
            title = _("🔴 <b>Deadline missed</b>")
            left = _("Overdue by {days} day", "Overdue by {days} days", -days).format(days=-days)
        else:
            title = _("⏰ <b>Deadline reminder</b>")
            if days == 0:
                left = _("Due today")
            else:
                left = _("{days} day left", "{days} days left", days).format(days=days)
        names = ", ".join(html.quote(d.short(locale)) for d in departments)
        lines = [
            title,
            html.quote(truncate(measure.text, 700)),
            _("Deadline: {deadline} ({date})").format(
                deadline=html.quote(truncate(measure.deadline_text, 200)),
                date=fmt_date(measure.due_date, locale),
            ),
            f"<b>{html.quote(left)}</b>",
        ]
        if names:
            lines.append(_("Responsible: {departments}").format(departments=names))
        lines.append(_("Please report the progress, or mark the measure done."))
        return "\n".join(lines)


def reminder_keyboard(i18n: I18n, locale: str, measure_id: int) -> InlineKeyboardBuilder:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=i18n.gettext(OPEN_BUTTON, locale=locale), callback_data=OpenMeasureCb(id=measure_id)
    )
    with i18n.context(), i18n.use_locale(locale):
        keyboard.button(text=_("✍️ Report progress"), callback_data=ReportMeasureCb(id=measure_id))
    keyboard.adjust(2)
    return keyboard


async def department_recipients(
    session: AsyncSession, department_ids: set[int], default_locale: str
) -> dict[int, list[Recipient]]:
    """Reachable chats and members of each department (two queries for all of them)."""
    result: dict[int, list[Recipient]] = defaultdict(list)
    if not department_ids:
        return result
    chats = await session.execute(
        select(DepartmentChat)
        .where(DepartmentChat.department_id.in_(department_ids), DepartmentChat.reachable.is_(True))
        .order_by(DepartmentChat.id)
    )
    for chat in chats.scalars():
        result[chat.department_id].append(
            Recipient(
                key=f"c{chat.chat_id}",
                chat_id=chat.chat_id,
                locale=chat.locale or default_locale,
                user_id=None,
                is_group=True,
            )
        )
    members = await session.execute(
        select(DepartmentMember.department_id, User)
        .join(User, User.id == DepartmentMember.user_id)
        .where(DepartmentMember.department_id.in_(department_ids), User.reachable.is_(True))
        .order_by(DepartmentMember.id)
    )
    for department_id, user in members.all():
        result[department_id].append(
            Recipient(
                key=f"u{user.id}",
                chat_id=user.tg_id,
                locale=user.locale or default_locale,
                user_id=user.id,
                is_group=False,
            )
        )
    return result


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
    recipients = await department_recipients(
        session, {d.id for ds in departments.values() for d in ds}, settings.default_locale
    )
    messages: list[dict[str, Any]] = []
    for measure, milestone in due:
        run.measures += 1
        seen: set[str] = set()
        rendered: dict[str, tuple[str, InlineKeyboardMarkup]] = {}
        for department in departments[measure.id]:
            for recipient in recipients.get(department.id, []):
                if recipient.key in seen:  # a member of two responsible departments
                    continue
                seen.add(recipient.key)
                if recipient.locale not in rendered:  # the same for every member of a locale
                    rendered[recipient.locale] = (
                        render_reminder(
                            i18n, recipient.locale, measure, departments[measure.id], today
                        ),
                        reminder_keyboard(i18n, recipient.locale, measure.id).as_markup(),
                    )
                text, markup = rendered[recipient.locale]
                messages.append(
                    {
                        "chat_id": recipient.chat_id,
                        "user_id": recipient.user_id,
                        "text": text,
                        "kind": "deadline_reminder",
                        "dedup_key": (
                            f"reminder:{measure.id}:{milestone.kind}:"
                            f"{measure.due_date:%Y-%m-%d}:{recipient.key}"
                        ),
                        "reply_markup": markup,
                        "is_group": recipient.is_group,
                        "not_before": daytime(now, settings) if recipient.is_group else now,
                    }
                )
    # Multi-row inserts (one statement per few hundred reminders); the dedup keys keep a
    # second run, or a second replica, from queueing anything twice.
    run.queued = await enqueue_many(session, messages)
    run.already_queued = len(messages) - run.queued
    return run
