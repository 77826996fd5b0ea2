"""«Our measures» and the reporting menu of a measure: its status, history and actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ReportMeasureCb
from bot.filters import ChatType
from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.department import (
    InboxCb,
    MeasureAct,
    MeasureActCb,
    MeasuresCb,
    PickCb,
    Purpose,
    measures_keyboard,
    pick_keyboard,
    reopen_confirm_keyboard,
    report_keyboard,
)
from bot.labels import status_label
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse
from handlers.department.base import (
    ADMINS_ONLY,
    NOT_ALLOWED,
    NOT_FOUND,
    PER_PAGE,
    ReportForm,
    deadline_text,
    is_group,
    measure_title,
    prompt,
    show_or_send,
    viewable_department,
    visible_departments,
)
from handlers.department.inbox import show_inbox
from models import departments as deps
from models.claims import claim_measure
from models.clock import local_today
from models.departments import MeasureGroup
from models.entities import (
    OPEN_STATUSES,
    Department,
    DepartmentQueue,
    Measure,
    MeasureSource,
    MeasureStatus,
    MeasureUpdate,
    User,
)
from models.measures import ChangeConflict, latest_change, record_change
from models.permissions import acting_department_for_measure, can_update_measure
from models.statuses import OVERDUE
from models.text import truncate
from models.translation import N_
from scheduler.notifications import measures as notifications

GROUP_LABELS: dict[MeasureGroup, str] = {
    MeasureGroup.OVERDUE: N_("🔴 Overdue"),
    MeasureGroup.DUE_SOON: N_("⏰ Due within 7 days"),
    MeasureGroup.IN_PROGRESS: N_("🔄 In progress"),
    MeasureGroup.PLANNED: N_("🗓 Planned"),
    MeasureGroup.DONE: N_("✅ Done"),
    MeasureGroup.CANCELLED: N_("⛔ Cancelled"),
}

# Queued to other people: translated into each recipient's language.


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(our_measures, Command("measures"), StateFilter(None))
    r.message.register(
        our_measures, StateFilter(None), ChatType("private"), MenuButton(MenuItem.OUR_MEASURES)
    )
    r.callback_query.register(
        pick_department, PickCb.filter(F.purpose.in_((Purpose.MEASURES, Purpose.INBOX)))
    )
    r.callback_query.register(show_measures, MeasuresCb.filter())
    r.callback_query.register(open_report, ReportMeasureCb.filter())
    r.callback_query.register(measure_action, MeasureActCb.filter())
    return r


async def _measures_page(
    session: AsyncSession, department: Department, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    today = local_today()
    rows = await deps.department_measures(session, [department.id], today)
    counts = deps.group_counts(rows)
    page = clamp_page(page, len(rows), PER_PAGE)
    pages = page_count(len(rows), PER_PAGE)
    lines = [
        _("<b>🏢 Our measures: {department}</b>").format(
            department=html.quote(department.name(locale))
        ),
        _("Today: {date}").format(date=fmt_date(today, locale)),
        " · ".join(f"{_(GROUP_LABELS[g])}: {n}" for g, n in counts.items() if n),
    ]
    if not rows:
        lines.append(_("No measure names this department as a responsible executor yet."))
    chunk = rows[page * PER_PAGE : (page + 1) * PER_PAGE]
    current: MeasureGroup | None = None
    for number, row in enumerate(chunk, start=page * PER_PAGE + 1):
        if row.group != current:
            current = row.group
            lines.append(f"\n<b>{_(GROUP_LABELS[row.group])}</b>")
        measure = row.measure
        lines.append(
            f"{number}. <b>{measure_title(measure)}</b> {html.quote(truncate(measure.text, 110))}"
            f"\n    ⏳ {deadline_text(measure, today, locale)}"
        )
    markup = measures_keyboard(chunk, department.id, page, pages, page * PER_PAGE + 1)
    return "\n".join(lines), markup


async def our_measures(message: Message, session: AsyncSession, user: User | None) -> None:
    locale = current_locale()
    mine = await visible_departments(session, message, user)
    if not mine:
        if is_group(message):
            await message.answer(
                _(
                    "This group is not a chat of any department. A group administrator can "
                    "bind it with /join and the invitation code."
                )
            )
        else:
            await message.answer(
                _(
                    "You are not a member of any department. An official joins with the "
                    "invitation link the akimat gives."
                )
            )
        return
    if len(mine) > 1:
        await message.answer(
            _("Choose the department:"), reply_markup=pick_keyboard(mine, Purpose.MEASURES, locale)
        )
        return
    text, markup = await _measures_page(session, mine[0], 0, locale)
    await message.answer(text, reply_markup=markup)


async def pick_department(
    query: CallbackQuery,
    callback_data: PickCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.purpose is Purpose.MEASURES:
        await show_measures(
            query, MeasuresCb(dep=callback_data.dep, page=0), session, user, is_admin,
            callback_answer,
        )  # fmt: skip
    else:
        await show_inbox(
            query,
            InboxCb(dep=callback_data.dep, q=DepartmentQueue.NEW, page=0),
            session,
            user,
            is_admin,
            callback_answer,
        )


async def show_measures(
    query: CallbackQuery,
    callback_data: MeasuresCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    department = await viewable_department(
        query, session, user, is_admin, callback_data.dep, callback_answer
    )
    if department is None:
        return
    text, markup = await _measures_page(session, department, callback_data.page, current_locale())
    await show_or_send(query, text, markup)


# --- reporting ----------------------------------------------------------------------------------


async def report_view(
    session: AsyncSession, measure: Measure, user: User | None, is_admin: bool, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    today = local_today()
    names = {d.id: d.short(locale) for d in measure.departments}
    lines = [
        _("<b>Measure {number}</b> · {problem}").format(
            number=measure_title(measure),
            problem=html.quote(truncate(measure.problem.title, 200))
            if measure.source != MeasureSource.SPOKEN
            else _("stated at the meeting, not in the published plan"),
        ),
        html.quote(truncate(measure.text, 1200)),
        "",
        _("Status: {status}").format(status=_status_text(measure, today, locale)),
        _("Deadline: {deadline}").format(deadline=deadline_text(measure, today, locale)),
    ]
    if measure.progress is not None:
        lines.append(_("Progress: {progress}%").format(progress=measure.progress))
    lines.append(
        _("Responsible departments: {departments}").format(
            departments=html.quote(", ".join(d.name(locale) for d in measure.departments))
        )
    )
    if measure.proof_photo_file_id:
        lines.append(_("📷 A photo proof is attached to the card."))
    disputes = await deps.open_dispute_count(session, measure.id)
    if disputes:
        lines.append(_("⚠️ Residents who disagree that it is done: {count}").format(count=disputes))
    history = await deps.measure_history(session, measure.id)
    if history:
        lines.append("")
        lines.append(_("<b>History</b>"))
        for entry in history:
            lines.append(_history_line(entry, names, locale))
    acting = await acting_department_for_measure(session, user, measure.id)
    back = acting or (measure.departments[0].id if measure.departments else None)
    return "\n".join(lines), report_keyboard(measure, is_admin=is_admin, back_dep=back)


def _status_text(measure: Measure, today: dt.date, locale: str) -> str:
    """``🔴 overdue (🔄 in progress)``: the overdue mark first, the reported status kept."""
    label = status_label(get_i18n(), measure.status, locale)
    if measure.is_overdue(today):
        return f"{status_label(get_i18n(), OVERDUE, locale)} ({label})"
    return label


def _history_line(entry: MeasureUpdate, names: dict[int, str], locale: str) -> str:
    who = names.get(entry.department_id or 0) if entry.department_id else _("akimat")
    who = who or "—"
    if entry.kind == "reopen":
        what = _("↩️ reopened")
    elif entry.status:
        what = status_label(get_i18n(), entry.status, locale)
    elif entry.progress is not None:
        what = f"📊 {entry.progress}%"
    else:
        what = "💬"
    line = f"• {fmt_datetime(entry.created_at, locale)} · {html.quote(who)} · {what}"
    if entry.status and entry.progress is not None and entry.status != MeasureStatus.DONE:
        line += f" · {entry.progress}%"
    if entry.comment:
        line += f": {html.quote(truncate(entry.comment, 200))}"
    if entry.photo_file_id:
        line += " 📷"
    return line


async def _authorized_measure(
    session: AsyncSession,
    measure_id: int,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer | None,
) -> Measure | None:
    measure = await deps.load_measure(session, measure_id)
    if measure is None:
        if callback_answer is not None:
            refuse(callback_answer, _(NOT_FOUND))
        return None
    if not await can_update_measure(session, user, is_admin, measure.id):
        if callback_answer is not None:
            refuse(callback_answer, _(NOT_ALLOWED))
        return None
    return measure


async def open_report(
    query: CallbackQuery,
    callback_data: ReportMeasureCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    """The reporting menu of a measure (from "our measures", the card or a notification)."""
    measure = await _authorized_measure(session, callback_data.id, user, is_admin, callback_answer)
    if measure is None:
        return
    text, markup = await report_view(session, measure, user, is_admin, current_locale())
    message = query.message
    # Edit our own list in place; a card or a notification (maybe a photo) stays as it is.
    own = isinstance(message, Message) and message.text is not None and _from_our_list(message)
    await show_or_send(query, text, markup, edit=own)


def _from_our_list(message: Message) -> bool:
    markup = message.reply_markup
    if not isinstance(markup, InlineKeyboardMarkup):
        return False
    return any(
        (b.callback_data or "").startswith(MeasuresCb.__prefix__ + ":")
        or (b.callback_data or "").startswith(InboxCb.__prefix__ + ":")
        for row in markup.inline_keyboard
        for b in row
    )


async def apply_change(
    session: AsyncSession,
    i18n: I18n,
    measure: Measure,
    user: User | None,
    **change: Any,
) -> MeasureUpdate | None:
    """Record the change, queue the followers' notices and commit; None (nothing written) when
    someone changed the measure at the same moment: :func:`conflict_text` says who."""
    department_id = await acting_department_for_measure(session, user, measure.id)
    try:
        update = await record_change(
            session,
            measure,
            author_id=user.id if user else None,
            department_id=department_id,
            **change,
        )
    except ChangeConflict:
        await session.refresh(measure)  # nothing was written: the winner's state is shown
        return None
    await notifications.measure_changed(
        session, i18n, measure, update, exclude_user_id=user.id if user else None
    )
    await session.commit()
    return update


async def conflict_text(session: AsyncSession, measure_id: int, locale: str) -> str:
    """What the person who lost a race is told: the change that won, by whom and when."""
    measure = await deps.load_measure(session, measure_id)
    latest = await latest_change(session, measure_id)
    status = status_label(get_i18n(), measure.status, locale) if measure else "—"
    if latest is None:
        return _("Nothing was changed: someone changed this measure at the same moment.")
    entry, department, author = latest
    who = department.short(locale) if department else author.full_name if author else ""
    return _(
        "Nothing was changed: this measure was changed at the same moment. "
        "By: {who}, {when}. Status now: {status}."
    ).format(
        who=html.quote(who or _("an admin")),
        when=fmt_datetime(entry.created_at, locale),
        status=status,
    )


async def measure_action(
    query: CallbackQuery,
    callback_data: MeasureActCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    measure = await _authorized_measure(session, callback_data.id, user, is_admin, callback_answer)
    if measure is None or not isinstance(query.message, Message):
        return
    locale = current_locale()
    act = callback_data.act
    is_open = measure.status in OPEN_STATUSES
    if act in (MeasureAct.CANCEL, MeasureAct.REOPEN, MeasureAct.REOPEN_YES) and not is_admin:
        refuse(callback_answer, _(ADMINS_ONLY))
        return
    if act in (MeasureAct.START, MeasureAct.DONE, MeasureAct.PERCENT, MeasureAct.CANCEL) and not (
        is_open
    ):
        refuse(callback_answer, _("This measure is already closed; only an admin can reopen it."))
        return
    match act:
        case MeasureAct.VIEW:
            pass
        case MeasureAct.START:
            if measure.status == MeasureStatus.IN_PROGRESS:
                callback_answer.text = _("It is already in progress.")
            elif await apply_change(session, i18n, measure, user, status=MeasureStatus.IN_PROGRESS):
                callback_answer.text = _("Saved: in progress. Followers will be notified.")
            else:
                refuse(callback_answer, await conflict_text(session, measure.id, locale))
        case MeasureAct.REOPEN:
            if is_open:
                callback_answer.text = _("This measure is open already.")
            else:
                await show_or_send(
                    query,
                    _("Reopen this measure? It goes back to «in progress», the residents' "
                      "disputes are closed and followers are notified."),
                    reopen_confirm_keyboard(measure.id),
                    edit=False,
                )  # fmt: skip
                return
        case MeasureAct.REOPEN_YES:
            if is_open:
                callback_answer.text = _("This measure is open already.")
            else:
                # the measure is taken first: the disputes closed belong to the one reopening
                if await claim_measure(session, measure):
                    await deps.resolve_disputes(session, measure.id)
                if await apply_change(
                    session, i18n, measure, user, status=MeasureStatus.IN_PROGRESS, kind="reopen"
                ):
                    callback_answer.text = _("Reopened. Followers will be notified.")
                else:
                    refuse(callback_answer, await conflict_text(session, measure.id, locale))
        case _:
            prompts = {
                MeasureAct.DONE: (
                    ReportForm.done_comment,
                    _("What was done? Describe it in a few sentences: residents will read it."),
                ),
                MeasureAct.CANCEL: (
                    ReportForm.cancel_reason,
                    _("Why is the measure cancelled? Residents will read the reason."),
                ),
                MeasureAct.PERCENT: (
                    ReportForm.percent,
                    _("Send the progress as a whole number from 0 to 100."),
                ),
                MeasureAct.NOTE: (
                    ReportForm.note,
                    _("Send the update: what has happened with this measure."),
                ),
            }
            new_state, text = prompts[act]
            await state.set_state(new_state)
            await state.update_data(measure_id=measure.id)
            await prompt(
                query.message,
                _("Measure {number}: {text}").format(
                    number=measure_title(measure), text=html.quote(truncate(measure.text, 300))
                )
                + "\n\n"
                + text
                + "\n"
                + _("/cancel to stop."),
            )
            return
    measure = await deps.load_measure(session, measure.id) or measure
    text, markup = await report_view(session, measure, user, is_admin, locale)
    await show_or_send(query, text, markup)
