"""Messages about measures: to followers when a measure changes, to the department and the akimat
when a resident disputes a "done", and the departments' deadline reminders and morning digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb, ReportMeasureCb
from bot.formatting import fmt_date
from bot.i18n import current_locale
from bot.keyboards.builder import Keyboard
from bot.keyboards.department import MeasureAct, MeasureActCb, check_keyboard
from bot.labels import status_label
from bot.menu import MenuItem, label
from models.entities import Department, Measure, MeasureStatus, MeasureUpdate
from models.recipients import (
    admin_recipients,
    department_recipients,
    measure_followers,
)
from models.text import truncate
from models.translation import N_
from scheduler.notifications import Outgoing, queue_each

if TYPE_CHECKING:
    from scheduler.digest import DepartmentDigest

UPDATE_TITLE = N_("🔔 <b>Update on a commitment you follow</b>")
STATUS_LINE = N_("Status: {status}")
PROGRESS_LINE = N_("Progress: {progress}%")
COMMENT_LINE = N_("Comment: {comment}")
OPEN_BUTTON = N_("Open the card")
CHECK_QUESTION = N_("Is it really done? If you see otherwise, tell us.")
CHECK_YES = N_("👍 Yes, done")
CHECK_NO = N_("👎 Not done")
DISPUTE_TITLE = N_("⚠️ <b>A resident says a measure marked done is not done</b>")
DISPUTE_COUNT = N_("Residents who disagree: {count}")
DISPUTE_COMMENT = N_("Resident's comment: {comment}")
REOPEN_BUTTON = N_("↩️ Reopen")
REPORT_BUTTON = N_("📝 Reporting menu")


def open_card_keyboard(measure_id: int) -> InlineKeyboardMarkup:
    """ "Open the card", in the current language."""
    keyboard = Keyboard()
    keyboard.button(text=_(OPEN_BUTTON), callback_data=OpenMeasureCb(id=measure_id))
    return keyboard.as_markup()


def render_measure_update(i18n: I18n, measure: Measure, update: MeasureUpdate) -> str:
    """What changed, in the current language."""
    lines = [
        _(UPDATE_TITLE),
        html.quote(truncate(measure.text, 600)),
        _(STATUS_LINE).format(status=status_label(i18n, measure.status, current_locale())),
    ]
    if update.progress is not None:
        lines.append(_(PROGRESS_LINE).format(progress=update.progress))
    if update.comment:
        lines.append(_(COMMENT_LINE).format(comment=html.quote(truncate(update.comment, 1500))))
    return "\n".join(lines)


async def measure_changed(
    session: AsyncSession,
    i18n: I18n,
    measure: Measure,
    update: MeasureUpdate,
    *,
    exclude_user_id: int | None = None,
) -> int:
    """One message to each follower of the measure (but the person who made the change). On
    "done" it also asks "is it really done?", with buttons to answer."""
    followers = [
        r for r in await measure_followers(session, measure.id) if r.user_id != exclude_user_id
    ]
    done = update.status == MeasureStatus.DONE

    def render() -> Outgoing:
        text = render_measure_update(i18n, measure, update)
        if not done:
            return Outgoing(text, open_card_keyboard(measure.id))
        markup = check_keyboard(measure.id, update.id, _(OPEN_BUTTON), _(CHECK_YES), _(CHECK_NO))
        return Outgoing(text + "\n\n" + _(CHECK_QUESTION), markup)

    return await queue_each(
        session,
        i18n,
        followers,
        render,
        kind="measure_done_check" if done else "measure_update",
        key=f"measure-update:{update.id}",
    )


async def measure_disputed(
    session: AsyncSession,
    i18n: I18n,
    admin_ids: Iterable[int],
    measure: Measure,
    title: str,
    dispute_id: int,
    comment: str,
    photo: str | None,
    count: int,
) -> int:
    """A resident says the measure is not done: its departments and the akimat's staff hear it
    (staff can reopen it from the message)."""
    admins = await admin_recipients(session, admin_ids)
    admin_chats = {r.chat_id for r in admins}
    departments = [
        r
        for r in await department_recipients(session, [d.id for d in measure.departments])
        if r.chat_id not in admin_chats
    ]
    limit = 250 if photo else 1200

    def render(admin: bool) -> Outgoing:
        lines = [
            _(DISPUTE_TITLE),
            f"<b>{html.quote(title)}</b> {html.quote(truncate(measure.text, limit))}",
            _(DISPUTE_COUNT).format(count=count),
        ]
        if comment:
            lines.append(_(DISPUTE_COMMENT).format(comment=html.quote(truncate(comment, limit))))
        keyboard = Keyboard()
        if admin:  # staff may reopen it from the message
            keyboard.button(
                text=_(REOPEN_BUTTON),
                callback_data=MeasureActCb(id=measure.id, act=MeasureAct.REOPEN),
            )
        keyboard.button(text=_(REPORT_BUTTON), callback_data=ReportMeasureCb(id=measure.id))
        keyboard.adjust(1)
        return Outgoing("\n".join(lines), keyboard.as_markup(), photo)

    queued = 0
    for recipients, admin in ((admins, True), (departments, False)):
        queued += await queue_each(
            session,
            i18n,
            recipients,
            partial(render, admin),
            kind="measure_dispute",
            key=f"dispute:{dispute_id}",
        )
    return queued


# --- the departments' scheduled messages --------------------------------------------------------


def render_reminder(measure: Measure, departments: list[Department], today: dt.date) -> Outgoing:
    """A deadline reminder, in the current language."""
    assert measure.due_date is not None
    locale = current_locale()
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
    keyboard = Keyboard()
    keyboard.button(text=_(OPEN_BUTTON), callback_data=OpenMeasureCb(id=measure.id))
    keyboard.button(text=_("✍️ Report progress"), callback_data=ReportMeasureCb(id=measure.id))
    keyboard.adjust(2)
    return Outgoing("\n".join(lines), keyboard.as_markup())


DIGEST_LIST_LIMIT = 10  # measures listed per section; the rest are counted


def _digest_line(measure: Measure, today: dt.date) -> str:
    assert measure.due_date is not None
    days = (measure.due_date - today).days
    if days < 0:
        when = _("{days} day overdue", "{days} days overdue", -days).format(days=-days)
    elif days == 0:
        when = _("due today")
    else:
        when = _("in {days} day", "in {days} days", days).format(days=days)
    return f"• {html.quote(truncate(measure.text, 120))} — <i>{html.quote(when)}</i>"


def render_digest(digest: DepartmentDigest, today: dt.date) -> Outgoing:
    """A department's morning digest, in the current language."""
    locale = current_locale()
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
        lines.extend(_digest_line(m, today) for m in measures[:DIGEST_LIST_LIMIT])
        if len(measures) > DIGEST_LIST_LIMIT:
            rest = len(measures) - DIGEST_LIST_LIMIT
            lines.append(_("…and {count} more", "…and {count} more", rest).format(count=rest))
    if digest.new_questions:
        lines.append("")
        lines.append(
            _("📥 <b>New questions in the inbox: {count}</b>").format(count=digest.new_questions)
        )
        for question in digest.question_samples:
            ref = html.quote(question.ref or f"#{question.id}")
            lines.append(f"• {ref}: {html.quote(truncate(question.text, 100))}")
    lines.append("")
    lines.append(
        _("Press «{menu}» in the bot to report progress.").format(menu=label(MenuItem.OUR_MEASURES))
    )
    return Outgoing("\n".join(lines))
