"""The officials' side: joining a department, "our measures", reporting progress, residents'
disputes of a "done", the question inbox, and the admin panel's departments section.

Who may act (checked on the server for every change, never trusted from a button):

* measures: a member of one of the measure's responsible departments, or an admin
  (``models.permissions.can_update_measure``); cancelling and reopening are for admins only;
* questions: a member of the department the question is routed to, or an admin
  (``can_handle_question``);
* in a department's group chat the rule is the same for the person who presses the button or
  answers the prompt: being in the group gives the right to *see* the department's measures and
  inbox, never to change them (group participants who are not members get a polite refusal);
* binding a group (``/join``) and unbinding it (``/leave`` in the group): a Telegram administrator
  of that group (checked with ``getChatMember``) or an admin of the bot;
* the departments section of the admin panel: admins only.

In groups the bot's prompts use ``ForceReply`` so that the answer reaches the bot even with
Telegram's privacy mode on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from aiogram import Bot, F, Router, html
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection, ReportMeasureCb
from bot.formatting import fmt_date, fmt_datetime
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.department import (
    NAME_FIELDS,
    QUEUE_MARKS,
    CheckCb,
    DeptAdminAct,
    DeptAdminCb,
    FormAct,
    FormCb,
    InboxCb,
    MeasureAct,
    MeasureActCb,
    MeasuresCb,
    PickCb,
    Purpose,
    QuestionAct,
    QuestionCb,
    admin_chats_keyboard,
    admin_department_keyboard,
    admin_fields_keyboard,
    admin_list_keyboard,
    admin_members_keyboard,
    check_keyboard,
    inbox_keyboard,
    leave_keyboard,
    measures_keyboard,
    pick_keyboard,
    question_keyboard,
    reopen_confirm_keyboard,
    report_keyboard,
    skip_keyboard,
)
from bot.labels import status_label
from bot.menu import MenuButton, MenuItem
from bot.replies import show
from handlers.common import ask_district, send_main_menu
from models import departments as deps
from models.clock import local_today
from models.departments import INVITE_PREFIX, InviteOutcome, MeasureGroup, Recipient
from models.entities import (
    OPEN_STATUSES,
    Category,
    Department,
    DepartmentChat,
    DepartmentQueue,
    Measure,
    MeasureStatus,
    MeasureUpdate,
    Question,
    User,
)
from models.follows import measure_followers
from models.measures import record_change
from models.permissions import (
    acting_department_for_measure,
    can_handle_question,
    can_update_measure,
    chat_department_ids,
    member_department_ids,
)
from models.settings import Settings
from models.statuses import OVERDUE
from models.text import truncate
from models.translation import N_
from scheduler.notify import (
    OPEN_BUTTON,
    QUESTION_REASON_LINE,
    notify_measure_followers,
    notify_question_author,
    render_measure_update,
)
from scheduler.queue import enqueue

router: Final[Router] = Router(name=__name__)

PER_PAGE = 8
COMMENT_LIMIT = 2000
ANSWER_LIMIT = 3000
REASON_LIMIT = 1000
MIN_TEXT = 3
GROUP_TYPES = ("group", "supergroup")

NOT_ALLOWED = N_(
    "Sorry, only members of a responsible department or the akimat's staff can do this. "
    "Nothing was changed."
)
ADMINS_ONLY = N_("Sorry, only the akimat's staff can do this. Nothing was changed.")
NOT_FOUND = N_("This item no longer exists. Please open the list again.")

GROUP_LABELS: dict[MeasureGroup, str] = {
    MeasureGroup.OVERDUE: N_("🔴 Overdue"),
    MeasureGroup.DUE_SOON: N_("⏰ Due within 7 days"),
    MeasureGroup.IN_PROGRESS: N_("🔄 In progress"),
    MeasureGroup.PLANNED: N_("🗓 Planned"),
    MeasureGroup.DONE: N_("✅ Done"),
    MeasureGroup.CANCELLED: N_("⛔ Cancelled"),
}
QUEUE_LABELS: dict[str, str] = {
    DepartmentQueue.NEW: N_("new"),
    DepartmentQueue.IN_WORK: N_("in work"),
    DepartmentQueue.ANSWERED: N_("answered"),
    DepartmentQueue.RETURNED: N_("returned to the akimat"),
}
FIELD_LABELS = (
    N_("Name (ru)"),
    N_("Name (kk)"),
    N_("Name (en)"),
    N_("Short (ru)"),
    N_("Short (kk)"),
    N_("Short (en)"),
)

# Queued to other people: translated into each recipient's language.
CHECK_QUESTION = N_("Is it really done? If you see otherwise, tell us.")
CHECK_YES = N_("👍 Yes, done")
CHECK_NO = N_("👎 Not done")
DISPUTE_TITLE = N_("⚠️ <b>A resident says a measure marked done is not done</b>")
DISPUTE_COUNT = N_("Residents who disagree: {count}")
DISPUTE_COMMENT = N_("Resident's comment: {comment}")
REOPEN_BUTTON = N_("↩️ Reopen")
REPORT_BUTTON = N_("📝 Reporting menu")
RETURNED_TITLE = N_("↪️ <b>{department} returned question {ref} for reassignment</b>")
MODERATION_BUTTON = N_("🗂 Moderation")


class ReportForm(StatesGroup):
    done_comment = State()
    done_photo = State()
    cancel_reason = State()
    percent = State()
    note = State()


class DisputeForm(StatesGroup):
    details = State()


class QuestionForm(StatesGroup):
    answer = State()
    reason = State()


class DepartmentForm(StatesGroup):
    code = State()
    name_ru = State()
    name_kk = State()
    name_en = State()
    field = State()


# --- small helpers ------------------------------------------------------------------------------


def _refuse(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = _(text)
    callback_answer.show_alert = True


def _is_group(message: Message) -> bool:
    # group and supergroup ids are negative; the id also holds for a message we edited
    return message.chat.type in GROUP_TYPES or message.chat.id < 0


async def _prompt(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Ask for input; in a group, force a reply so the answer reaches the bot."""
    if markup is None and _is_group(message):
        await message.answer(text, reply_markup=ForceReply(selective=True))
    else:
        await message.answer(text, reply_markup=markup)


async def _show(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool = True
) -> None:
    message = query.message
    if edit or not isinstance(message, Message):
        await show(query, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


def _text_input(message: Message, limit: int, minimum: int = MIN_TEXT) -> tuple[str | None, str]:
    """The message's text, or None and a translated explanation of what is wrong with it."""
    if message.text is None:
        return None, _("Please send this as a text message.")
    text = message.text.strip()
    if text.startswith("/"):
        return None, _("That looks like a command. Please send text, or /cancel to stop.")
    if len(text) < minimum:
        return None, _("That is too short. Please write at least {minimum} characters.").format(
            minimum=minimum
        )
    if len(text) > limit:
        return None, _(
            "That is too long: {length} characters, the limit is {limit}. Please shorten it."
        ).format(length=len(text), limit=limit)
    return text, ""


async def _may_view_department(
    session: AsyncSession, user: User | None, is_admin: bool, chat_id: int, department_id: int
) -> bool:
    """Admins, members, and the department's own group chats may see its lists."""
    if is_admin:
        return True
    if department_id in await member_department_ids(session, user):
        return True
    return chat_id < 0 and department_id in await chat_department_ids(session, chat_id)


async def _viewable_department(
    query: CallbackQuery,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    department_id: int,
    callback_answer: CallbackAnswer,
) -> Department | None:
    """The department a list button names, if the caller may see it; else a polite refusal."""
    department = await deps.get_department(session, department_id)
    if department is None:
        _refuse(callback_answer, NOT_FOUND)
        return None
    chat_id = query.message.chat.id if query.message else 0
    if not await _may_view_department(session, user, is_admin, chat_id, department.id):
        _refuse(callback_answer, NOT_ALLOWED)
        return None
    return department


def _measure_title(measure: Measure) -> str:
    return f"{measure.problem.number}.{measure.position}"


def _deadline(measure: Measure, today: dt.date, locale: str) -> str:
    text = html.quote(measure.deadline_text or "—")
    if measure.due_date is None:
        return text
    result = f"{text} ({fmt_date(measure.due_date, locale, 'medium')})"
    if measure.status in OPEN_STATUSES:
        days = (measure.due_date - today).days
        if days < 0:
            result += ", " + _("days overdue: {days}").format(days=-days)
        else:
            result += ", " + _("days left: {days}").format(days=days)
    return result


# --- joining --------------------------------------------------------------------------------------


def _outcome_text(outcome: InviteOutcome, department: Department | None, locale: str) -> str:
    name = html.quote(department.name(locale)) if department else ""
    match outcome:
        case InviteOutcome.ALREADY:
            return _("You are already in {department}.").format(department=name)
        case InviteOutcome.EXPIRED:
            return _("This invitation has expired. Please ask the akimat for a new one.")
        case InviteOutcome.USED:
            return _(
                "This invitation has already been used: each one works once. "
                "Please ask the akimat for a new one."
            )
        case _:
            return _(
                "This invitation is not valid. Check that it was copied in full, "
                "or ask the akimat for a new one."
            )


async def _join_person(
    message: Message,
    token: str,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    i18n: I18n,
) -> None:
    outcome, department = await deps.redeem_for_user(session, token, user)
    locale = i18n.current_locale
    if outcome is not InviteOutcome.JOINED or department is None:
        await message.answer(_outcome_text(outcome, department, locale))
        return
    if user.locale is None:  # joined before choosing a language: keep the one shown now
        user.locale = locale
    await session.commit()
    await send_main_menu(
        message,
        session,
        user,
        is_admin,
        _(
            "Welcome! You are now a member of <b>{department}</b>.\n\n"
            "«🏢 Our measures» in the menu lists what your department is responsible for, "
            "with the overdue ones first; there you report progress and answer residents' "
            "questions. /leave leaves the department."
        ).format(department=html.quote(department.name(locale))),
    )
    if user.district_id is None:
        await ask_district(message, session, locale)


@router.message(
    F.chat.type == "private",
    CommandStart(deep_link=True, magic=F.args.startswith(INVITE_PREFIX)),
)
async def join_by_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    i18n: I18n,
) -> None:
    """``/start i<token>``: the deep link of an invitation opened in a private chat."""
    await _join_person(message, command.args or "", session, user, is_admin, i18n)


@router.message(F.chat.type == "private", Command("join"))
async def join_private(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    i18n: I18n,
) -> None:
    if not command.args:
        await message.answer(
            _("Open the invitation link you received, or send /join followed by its code.")
        )
        return
    await _join_person(message, command.args, session, user, is_admin, i18n)


async def _is_group_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError:
        return False
    return member.status in (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR)


@router.message(F.chat.type.in_(GROUP_TYPES), Command("join"))
async def join_group(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
) -> None:
    """``/join <token>`` in a group, by a group administrator: the group becomes a chat of the
    department (notifications arrive there; /measures and /inbox work there)."""
    if user is None or message.from_user is None:
        await message.answer(
            _("Please send /join from your own account, not on behalf of the group.")
        )
        return
    if not command.args:
        await message.answer(_("Send /join followed by the invitation code from the akimat."))
        return
    if not await _is_group_admin(bot, message.chat.id, message.from_user.id):
        await message.answer(_("Only an administrator of this group can bind it to a department."))
        return
    locale = i18n.current_locale
    outcome, department = await deps.redeem_for_chat(
        session,
        command.args,
        chat_id=message.chat.id,
        title=message.chat.title or "",
        locale=locale,
        user=user,
    )
    if outcome is InviteOutcome.ALREADY and department is not None:
        await message.answer(
            _("This group is already a chat of {department}.").format(
                department=html.quote(department.name(locale))
            )
        )
        return
    if outcome is not InviteOutcome.JOINED or department is None:
        await message.answer(_outcome_text(outcome, department, locale))
        return
    await session.commit()
    await message.answer(
        _(
            "This group is now a chat of <b>{department}</b>. Reminders and residents' "
            "disputes will come here. /measures shows the department's measures, /inbox the "
            "residents' questions. Only members of the department can change anything."
        ).format(department=html.quote(department.name(locale)))
    )


@router.message(F.chat.type == "private", Command("leave"))
async def leave_private(message: Message, session: AsyncSession, user: User, i18n: I18n) -> None:
    mine = await deps.user_departments(session, user.id)
    if not mine:
        await message.answer(_("You are not a member of any department."))
        return
    await message.answer(
        _("Which department do you want to leave?"),
        reply_markup=leave_keyboard(mine, i18n.current_locale),
    )


@router.callback_query(PickCb.filter(F.purpose == Purpose.LEAVE))
async def leave_department(
    query: CallbackQuery,
    callback_data: PickCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    department = await deps.get_department(session, callback_data.dep)
    if (
        user is None
        or department is None
        or not await deps.remove_member(session, department.id, user.id)
    ):
        _refuse(callback_answer, N_("You are not a member of this department."))
        return
    await session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("You have left {department}.").format(
                department=html.quote(department.name(i18n.current_locale))
            )
        )
        if query.message.chat.type == "private":
            await send_main_menu(query.message, session, user, is_admin, _("Main menu:"))


@router.message(F.chat.type.in_(GROUP_TYPES), Command("leave"))
async def leave_group(
    message: Message, bot: Bot, session: AsyncSession, is_admin: bool, i18n: I18n
) -> None:
    """Unbind the group from its departments: a group administrator or an admin."""
    bound = await deps.chat_departments(session, message.chat.id)
    if not bound:
        await message.answer(_("This group is not a chat of any department."))
        return
    if message.from_user is None or not (
        is_admin or await _is_group_admin(bot, message.chat.id, message.from_user.id)
    ):
        await message.answer(
            _("Only an administrator of this group can unbind it from the department.")
        )
        return
    for department in bound:
        await deps.remove_chat(session, department.id, message.chat.id)
    await session.commit()
    names = ", ".join(html.quote(d.short(i18n.current_locale)) for d in bound)
    await message.answer(
        _("This group is no longer a chat of {departments}.").format(departments=names)
    )


# --- our measures -----------------------------------------------------------------------------


async def _visible_departments(
    session: AsyncSession, message: Message, user: User | None
) -> list[Department]:
    if _is_group(message):
        return await deps.chat_departments(session, message.chat.id)
    if user is None:
        return []
    return await deps.user_departments(session, user.id)


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
            f"{number}. <b>{_measure_title(measure)}</b> {html.quote(truncate(measure.text, 110))}"
            f"\n    ⏳ {_deadline(measure, today, locale)}"
        )
    markup = measures_keyboard(chunk, department.id, page, pages, page * PER_PAGE + 1)
    return "\n".join(lines), markup


@router.message(StateFilter(None), F.chat.type == "private", MenuButton(MenuItem.OUR_MEASURES))
@router.message(Command("measures"), StateFilter(None))
async def our_measures(
    message: Message, session: AsyncSession, user: User | None, i18n: I18n
) -> None:
    locale = i18n.current_locale
    mine = await _visible_departments(session, message, user)
    if not mine:
        if _is_group(message):
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


@router.callback_query(PickCb.filter(F.purpose.in_((Purpose.MEASURES, Purpose.INBOX))))
async def pick_department(
    query: CallbackQuery,
    callback_data: PickCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.purpose is Purpose.MEASURES:
        await show_measures(
            query, MeasuresCb(dep=callback_data.dep, page=0), session, user, is_admin, i18n,
            callback_answer,
        )  # fmt: skip
    else:
        await show_inbox(
            query,
            InboxCb(dep=callback_data.dep, q=DepartmentQueue.NEW, page=0),
            session,
            user,
            is_admin,
            i18n,
            callback_answer,
        )


@router.callback_query(MeasuresCb.filter())
async def show_measures(
    query: CallbackQuery,
    callback_data: MeasuresCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    department = await _viewable_department(
        query, session, user, is_admin, callback_data.dep, callback_answer
    )
    if department is None:
        return
    text, markup = await _measures_page(
        session, department, callback_data.page, i18n.current_locale
    )
    await _show(query, text, markup)


# --- reporting ----------------------------------------------------------------------------------


async def _report_view(
    session: AsyncSession, measure: Measure, user: User | None, is_admin: bool, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    today = local_today()
    names = {d.id: d.short(locale) for d in measure.departments}
    lines = [
        _("<b>Measure {number}</b> · {problem}").format(
            number=_measure_title(measure),
            problem=html.quote(truncate(measure.problem.title, 200)),
        ),
        html.quote(truncate(measure.text, 1200)),
        "",
        _("Status: {status}").format(status=_status_text(measure, today, locale)),
        _("Deadline: {deadline}").format(deadline=_deadline(measure, today, locale)),
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


def _i18n() -> I18n:
    current = I18n.get_current(no_error=True)
    assert current is not None, "used inside a request only"
    return current


def _status_text(measure: Measure, today: dt.date, locale: str) -> str:
    """``🔴 overdue (🔄 in progress)``: the overdue mark first, the reported status kept."""
    label = status_label(_i18n(), measure.status, locale)
    if measure.is_overdue(today):
        return f"{status_label(_i18n(), OVERDUE, locale)} ({label})"
    return label


def _history_line(entry: MeasureUpdate, names: dict[int, str], locale: str) -> str:
    who = names.get(entry.department_id or 0) if entry.department_id else _("akimat")
    who = who or "—"
    if entry.kind == "reopen":
        what = _("↩️ reopened")
    elif entry.status:
        what = status_label(_i18n(), entry.status, locale)
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
            _refuse(callback_answer, NOT_FOUND)
        return None
    if not await can_update_measure(session, user, is_admin, measure.id):
        if callback_answer is not None:
            _refuse(callback_answer, NOT_ALLOWED)
        return None
    return measure


@router.callback_query(ReportMeasureCb.filter())
async def open_report(
    query: CallbackQuery,
    callback_data: ReportMeasureCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """The reporting menu of a measure (from "our measures", the card or a notification)."""
    measure = await _authorized_measure(session, callback_data.id, user, is_admin, callback_answer)
    if measure is None:
        return
    text, markup = await _report_view(session, measure, user, is_admin, i18n.current_locale)
    message = query.message
    # Edit our own list in place; a card or a notification (maybe a photo) stays as it is.
    own = isinstance(message, Message) and message.text is not None and _from_our_list(message)
    await _show(query, text, markup, edit=own)


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


async def _notify_change(
    session: AsyncSession, i18n: I18n, measure: Measure, update: MeasureUpdate, user: User | None
) -> None:
    if update.status == MeasureStatus.DONE:
        await queue_done_check(
            session, i18n, measure, update, exclude_user_id=user.id if user else None
        )
    else:
        await notify_measure_followers(
            session, i18n, measure, update, exclude_user_id=user.id if user else None
        )


async def queue_done_check(
    session: AsyncSession,
    i18n: I18n,
    measure: Measure,
    update: MeasureUpdate,
    *,
    exclude_user_id: int | None = None,
) -> int:
    """Followers hear that the measure is done and are asked "is it really done?".

    It replaces the ordinary update message (same dedup key), so nobody gets two."""
    count = 0
    for follower in await measure_followers(session, measure.id):
        if follower.id == exclude_user_id:
            continue
        locale = follower.locale or i18n.default_locale
        text = (
            render_measure_update(i18n, locale, measure, update)
            + "\n\n"
            + i18n.gettext(CHECK_QUESTION, locale=locale)
        )
        markup = check_keyboard(
            measure.id,
            update.id,
            i18n.gettext(OPEN_BUTTON, locale=locale),
            i18n.gettext(CHECK_YES, locale=locale),
            i18n.gettext(CHECK_NO, locale=locale),
        )
        count += int(
            await enqueue(
                session,
                chat_id=follower.tg_id,
                user_id=follower.id,
                text=text,
                kind="measure_done_check",
                dedup_key=f"measure-update:{update.id}:{follower.id}",
                reply_markup=markup,
            )
        )
    return count


async def _apply(
    session: AsyncSession,
    i18n: I18n,
    measure: Measure,
    user: User | None,
    **change: Any,
) -> MeasureUpdate:
    department_id = await acting_department_for_measure(session, user, measure.id)
    update = await record_change(
        session, measure, author_id=user.id if user else None, department_id=department_id, **change
    )
    await _notify_change(session, i18n, measure, update, user)
    await session.commit()
    return update


@router.callback_query(MeasureActCb.filter())
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
    locale = i18n.current_locale
    act = callback_data.act
    is_open = measure.status in OPEN_STATUSES
    if act in (MeasureAct.CANCEL, MeasureAct.REOPEN, MeasureAct.REOPEN_YES) and not is_admin:
        _refuse(callback_answer, ADMINS_ONLY)
        return
    if act in (MeasureAct.START, MeasureAct.DONE, MeasureAct.PERCENT, MeasureAct.CANCEL) and not (
        is_open
    ):
        _refuse(callback_answer, N_("This measure is already closed; only an admin can reopen it."))
        return
    match act:
        case MeasureAct.VIEW:
            pass
        case MeasureAct.START:
            if measure.status == MeasureStatus.IN_PROGRESS:
                callback_answer.text = _("It is already in progress.")
            else:
                await _apply(session, i18n, measure, user, status=MeasureStatus.IN_PROGRESS)
                callback_answer.text = _("Saved: in progress. Followers will be notified.")
        case MeasureAct.REOPEN:
            if is_open:
                callback_answer.text = _("This measure is open already.")
            else:
                await _show(
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
                await deps.resolve_disputes(session, measure.id)
                await _apply(
                    session, i18n, measure, user, status=MeasureStatus.IN_PROGRESS, kind="reopen"
                )
                callback_answer.text = _("Reopened. Followers will be notified.")
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
            await _prompt(
                query.message,
                _("Measure {number}: {text}").format(
                    number=_measure_title(measure), text=html.quote(truncate(measure.text, 300))
                )
                + "\n\n"
                + text
                + "\n"
                + _("/cancel to stop."),
            )
            return
    measure = await deps.load_measure(session, measure.id) or measure
    text, markup = await _report_view(session, measure, user, is_admin, locale)
    await _show(query, text, markup)


async def _form_measure(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    *,
    admin_only: bool = False,
    must_be_open: bool = True,
) -> Measure | None:
    """Re-check, at the moment of saving, that the person may still change the measure."""
    data = await state.get_data()
    measure = await deps.load_measure(session, int(data.get("measure_id", 0)))
    allowed = measure is not None and await can_update_measure(session, user, is_admin, measure.id)
    if measure is None or not allowed or (admin_only and not is_admin):
        await state.clear()
        await message.answer(_(NOT_ALLOWED))
        return None
    if must_be_open and measure.status not in OPEN_STATUSES:
        await state.clear()
        await message.answer(_("This measure was closed meanwhile. Nothing was changed."))
        return None
    return measure


async def _after_save(
    message: Message,
    session: AsyncSession,
    measure: Measure,
    user: User | None,
    is_admin: bool,
    locale: str,
    text: str,
) -> None:
    fresh = await deps.load_measure(session, measure.id) or measure
    view, markup = await _report_view(session, fresh, user, is_admin, locale)
    await message.answer(text)
    await message.answer(view, reply_markup=markup)


@router.message(ReportForm.done_comment)
async def done_comment(message: Message, state: FSMContext) -> None:
    if message.photo:
        await message.answer(
            _("First describe in text what was done; you can attach a photo on the next step.")
        )
        return
    text, error = _text_input(message, COMMENT_LIMIT)
    if text is None:
        await message.answer(error + "\n" + _("What was done?"))
        return
    await state.update_data(comment=text)
    await state.set_state(ReportForm.done_photo)
    await message.answer(
        _("Attach a photo as proof (it is shown on the card), or press «Skip»."),
        reply_markup=skip_keyboard(_("Skip, no photo")),
    )


async def _finish_done(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    photo: str | None,
) -> None:
    measure = await _form_measure(message, state, session, user, is_admin)
    if measure is None:
        return
    data = await state.get_data()
    await state.clear()
    await _apply(
        session, i18n, measure, user, status=MeasureStatus.DONE, comment=str(data["comment"]),
        photo_file_id=photo,
    )  # fmt: skip
    await _after_save(
        message, session, measure, user, is_admin, i18n.current_locale,
        _("Saved: done. Followers are notified and asked to confirm."),
    )  # fmt: skip


@router.message(ReportForm.done_photo, F.photo)
async def done_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    assert message.photo is not None
    await _finish_done(message, state, session, user, is_admin, i18n, message.photo[-1].file_id)


@router.callback_query(ReportForm.done_photo, FormCb.filter(F.act == FormAct.SKIP))
async def done_without_photo(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    if isinstance(query.message, Message):
        await _finish_done(query.message, state, session, user, is_admin, i18n, None)


@router.message(ReportForm.done_photo)
async def done_photo_invalid(message: Message) -> None:
    await message.answer(
        _("Please send a photo, or press «Skip» above. Your description is kept."),
        reply_markup=skip_keyboard(_("Skip, no photo")),
    )


@router.message(ReportForm.cancel_reason)
async def cancel_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = _text_input(message, REASON_LIMIT)
    if text is None:
        await message.answer(error + "\n" + _("Why is the measure cancelled?"))
        return
    measure = await _form_measure(message, state, session, user, is_admin, admin_only=True)
    if measure is None:
        return
    await state.clear()
    await _apply(session, i18n, measure, user, status=MeasureStatus.CANCELLED, comment=text)
    await _after_save(
        message, session, measure, user, is_admin, i18n.current_locale,
        _("Saved: cancelled. Followers will be notified."),
    )  # fmt: skip


@router.message(ReportForm.percent)
async def progress_percent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    raw = (message.text or "").strip().rstrip("%").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        await message.answer(
            _("Please send a whole number from 0 to 100, for example 40.")
            if message.text
            else _("Please send the progress as a number from 0 to 100.")
        )
        return
    measure = await _form_measure(message, state, session, user, is_admin)
    if measure is None:
        return
    await state.clear()
    value = int(raw)
    change: dict[str, Any] = {"progress": value}
    if measure.status == MeasureStatus.PLANNED and value > 0:
        change["status"] = MeasureStatus.IN_PROGRESS
    await _apply(session, i18n, measure, user, **change)
    done_hint = _(" To close the measure, use «Mark done».") if value == 100 else ""
    await _after_save(
        message, session, measure, user, is_admin, i18n.current_locale,
        _("Saved: progress {progress}%.").format(progress=value) + done_hint,
    )  # fmt: skip


@router.message(ReportForm.note)
async def progress_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = _text_input(message, COMMENT_LIMIT)
    if text is None:
        await message.answer(error + "\n" + _("Send the update as text."))
        return
    measure = await _form_measure(message, state, session, user, is_admin, must_be_open=False)
    if measure is None:
        return
    await state.clear()
    await _apply(session, i18n, measure, user, comment=text)
    await _after_save(
        message, session, measure, user, is_admin, i18n.current_locale,
        _("Saved. Followers will be notified."),
    )  # fmt: skip


@router.message(Command("cancel"), F.chat.type.in_(GROUP_TYPES), ~StateFilter(None))
async def cancel_in_group(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))


# --- residents check a "done" -----------------------------------------------------------------


@router.callback_query(CheckCb.filter())
async def check_answer(
    query: CallbackQuery,
    callback_data: CheckCb,
    session: AsyncSession,
    user: User | None,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    measure = await session.get(Measure, callback_data.id)
    latest = await deps.latest_done_update(session, callback_data.id) if measure else None
    if (
        user is None
        or measure is None
        or measure.status != MeasureStatus.DONE
        or latest is None
        or latest.id != callback_data.u
    ):
        _refuse(callback_answer, N_("This measure is no longer marked done. Thank you anyway!"))
        return
    if callback_data.ok:
        callback_answer.text = _("Thank you for confirming!")
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    if await deps.has_disputed(session, measure.id, user.id, latest.id):
        _refuse(
            callback_answer, N_("You have already told us; the department and the akimat know.")
        )
        return
    await state.set_state(DisputeForm.details)
    await state.update_data(measure_id=measure.id, update_id=latest.id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "What is not done? Send a short comment or a photo (you can add a caption), "
                "or press «Send without a comment». Your name is not shown to anyone."
            ),
            reply_markup=skip_keyboard(_("Send without a comment")),
        )


async def _finish_dispute(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
    comment: str,
    photo: str | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    measure = await deps.load_measure(session, int(data.get("measure_id", 0)))
    if user is None or measure is None or measure.status != MeasureStatus.DONE:
        await message.answer(_("This measure is no longer marked done. Thank you anyway!"))
        return
    dispute = await deps.create_dispute(
        session, measure.id, user.id, int(data.get("update_id", 0)), comment, photo
    )
    if dispute is None:
        await message.answer(_("You have already told us; the department and the akimat know."))
        return
    await session.flush()
    count = await deps.open_dispute_count(session, measure.id)
    await _notify_dispute(session, i18n, settings, measure, dispute.id, comment, photo, count)
    await session.commit()
    await message.answer(
        _(
            "Thank you. The department and the akimat are told, and the card shows how many "
            "residents disagree. You will hear when the measure changes."
        )
    )


async def _notify_dispute(
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    measure: Measure,
    dispute_id: int,
    comment: str,
    photo: str | None,
    count: int,
) -> None:
    department_ids = [d.id for d in measure.departments]
    admins = await deps.admin_recipients(session, settings.admin_ids)
    admin_chats = {r.chat_id for r in admins}
    recipients: list[tuple[Recipient, bool]] = [(r, True) for r in admins]
    recipients += [
        (r, False)
        for r in await deps.department_recipients(session, department_ids)
        if r.chat_id not in admin_chats
    ]
    limit = 250 if photo else 1200
    for recipient, admin in recipients:
        locale = recipient.locale or i18n.default_locale
        lines = [
            i18n.gettext(DISPUTE_TITLE, locale=locale),
            f"<b>{_measure_title(measure)}</b> {html.quote(truncate(measure.text, limit))}",
            i18n.gettext(DISPUTE_COUNT, locale=locale).format(count=count),
        ]
        if comment:
            lines.append(
                i18n.gettext(DISPUTE_COMMENT, locale=locale).format(
                    comment=html.quote(truncate(comment, limit))
                )
            )
        keyboard = Keyboard()
        if admin:
            keyboard.button(
                text=i18n.gettext(REOPEN_BUTTON, locale=locale),
                callback_data=MeasureActCb(id=measure.id, act=MeasureAct.REOPEN),
            )
        keyboard.button(
            text=i18n.gettext(REPORT_BUTTON, locale=locale),
            callback_data=ReportMeasureCb(id=measure.id),
        )
        keyboard.adjust(1)
        await enqueue(
            session,
            chat_id=recipient.chat_id,
            user_id=recipient.user_id,
            text="\n".join(lines),
            kind="measure_dispute",
            dedup_key=f"dispute:{dispute_id}:{recipient.chat_id}",
            reply_markup=keyboard.as_markup(),
            photo=photo,
            is_group=recipient.is_group,
        )


@router.message(DisputeForm.details, F.photo)
async def dispute_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    assert message.photo is not None
    caption = (message.caption or "").strip()
    if len(caption) > REASON_LIMIT:
        await message.answer(
            _("The caption is too long: {length} characters, the limit is {limit}.").format(
                length=len(caption), limit=REASON_LIMIT
            )
        )
        return
    await _finish_dispute(
        message, state, session, user, i18n, settings, caption, message.photo[-1].file_id
    )


@router.message(DisputeForm.details, F.text)
async def dispute_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    text, error = _text_input(message, REASON_LIMIT, minimum=2)
    if text is None:
        await message.answer(error)
        return
    await _finish_dispute(message, state, session, user, i18n, settings, text, None)


@router.callback_query(DisputeForm.details, FormCb.filter(F.act == FormAct.SKIP))
async def dispute_skip(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    if isinstance(query.message, Message):
        await _finish_dispute(query.message, state, session, user, i18n, settings, "", None)


@router.message(DisputeForm.details)
async def dispute_invalid(message: Message) -> None:
    await message.answer(
        _("Please send text or a photo, or press «Send without a comment»."),
        reply_markup=skip_keyboard(_("Send without a comment")),
    )


# --- the question inbox -----------------------------------------------------------------------


@router.message(Command("inbox"), StateFilter(None))
async def inbox_command(
    message: Message, session: AsyncSession, user: User | None, i18n: I18n
) -> None:
    mine = await _visible_departments(session, message, user)
    if not mine:
        await message.answer(
            _("This group is not a chat of any department.")
            if _is_group(message)
            else _("You are not a member of any department.")
        )
        return
    if len(mine) > 1:
        await message.answer(
            _("Choose the department:"),
            reply_markup=pick_keyboard(mine, Purpose.INBOX, i18n.current_locale),
        )
        return
    text, markup = await _inbox_page(session, mine[0], DepartmentQueue.NEW, 0, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def _inbox_page(
    session: AsyncSession, department: Department, queue: DepartmentQueue, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    counts = await deps.inbox_counts(session, department.id)
    total = counts.get(queue.value, 0)
    page = clamp_page(page, total, PER_PAGE)
    questions = await deps.inbox_page(session, department.id, queue, page, PER_PAGE)
    lines = [
        _("<b>📥 Residents' questions: {department}</b>").format(
            department=html.quote(department.name(locale))
        ),
        " · ".join(
            f"{QUEUE_MARKS[q]} {_(QUEUE_LABELS[q])}: {counts[q.value]}"
            for q in (DepartmentQueue.NEW, DepartmentQueue.IN_WORK, DepartmentQueue.ANSWERED)
        ),
        "",
        f"<b>{QUEUE_MARKS[queue]} {_(QUEUE_LABELS[queue])}</b>",
    ]
    if not questions:
        lines.append(_("No questions here."))
    for question in questions:
        lines.append(
            f"• <b>{html.quote(question.ref or '#' + str(question.id))}</b> "
            f"{fmt_date(question.created_at.date(), locale, 'medium')}: "
            f"{html.quote(truncate(question.text, 160))}"
        )
    markup = inbox_keyboard(
        questions, department.id, queue, counts, page, page_count(total, PER_PAGE)
    )
    return "\n".join(lines), markup


@router.callback_query(InboxCb.filter(F.q.in_(deps.INBOX_QUEUES)))
async def show_inbox(
    query: CallbackQuery,
    callback_data: InboxCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    department = await _viewable_department(
        query, session, user, is_admin, callback_data.dep, callback_answer
    )
    if department is None:
        return
    text, markup = await _inbox_page(
        session, department, callback_data.q, callback_data.page, i18n.current_locale
    )
    await _show(query, text, markup)


async def _question_view(session: AsyncSession, question: Question, locale: str) -> str:
    category = await session.get(Category, question.category_id)
    lines = [
        _("<b>Question {ref}</b>").format(ref=html.quote(question.ref or f"#{question.id}")),
        _("📨 Received: {date}").format(date=fmt_datetime(question.created_at, locale)),
    ]
    if category is not None:
        lines.append(_("🏷 Category: {category}").format(category=html.quote(category.name(locale))))
    # Never a resident's Telegram identity; the name only when they chose to show it.
    author = question.author_name if question.show_name and question.author_name else None
    lines.append(
        _("From: {name}").format(name=html.quote(author)) if author else _("From: anonymous")
    )
    if question.address:
        lines.append(_("📍 Address: {address}").format(address=html.quote(question.address)))
    if question.supporters:
        lines.append(_("Residents who support it: {count}").format(count=question.supporters))
    lines += ["", f"<i>{html.quote(truncate(question.text, 2500))}</i>", ""]
    queue = question.department_queue or ""
    lines.append(_("In the inbox: {queue}").format(queue=_(QUEUE_LABELS.get(queue, queue))))
    if question.answer:
        lines.append(
            _("Answer: {answer}").format(answer=html.quote(truncate(question.answer, 1000)))
        )
    return "\n".join(lines)


async def _authorized_question(
    session: AsyncSession,
    question_id: int,
    user: User | None,
    is_admin: bool,
    chat_id: int,
    callback_answer: CallbackAnswer | None,
    *,
    view_only: bool = False,
) -> Question | None:
    question = await session.get(Question, question_id)
    if question is None or question.department_id is None or question.department_queue is None:
        if callback_answer is not None:
            _refuse(callback_answer, NOT_FOUND)
        return None
    if view_only:
        allowed = await _may_view_department(
            session, user, is_admin, chat_id, question.department_id
        )
    else:
        allowed = await can_handle_question(session, user, is_admin, question)
    if not allowed:
        if callback_answer is not None:
            _refuse(callback_answer, NOT_ALLOWED)
        return None
    return question


@router.callback_query(QuestionCb.filter())
async def question_action(
    query: CallbackQuery,
    callback_data: QuestionCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not isinstance(query.message, Message):
        return
    act = callback_data.act
    question = await _authorized_question(
        session,
        callback_data.id,
        user,
        is_admin,
        query.message.chat.id,
        callback_answer,
        view_only=act is QuestionAct.VIEW,
    )
    if question is None:
        return
    locale = i18n.current_locale
    if act is QuestionAct.TAKE:
        if not deps.take_question(question):
            _refuse(callback_answer, N_("This question is no longer new."))
            return
        await session.commit()
        callback_answer.text = _("Taken into work.")
    elif act in (QuestionAct.ANSWER, QuestionAct.RETURN):
        if not deps.can_answer(question):
            _refuse(callback_answer, N_("This question is already answered or returned."))
            return
        ref = html.quote(question.ref or f"#{question.id}")
        if act is QuestionAct.ANSWER:
            await state.set_state(QuestionForm.answer)
            text = _(
                "Write the answer to question {ref}. The resident receives it as you write it."
            ).format(ref=ref)
        else:
            await state.set_state(QuestionForm.reason)
            text = _(
                "Why should question {ref} go to another department? The akimat will reassign it."
            ).format(ref=ref)
        await state.update_data(question_id=question.id)
        await _prompt(query.message, text + "\n" + _("/cancel to stop."))
        return
    await _show(query, await _question_view(session, question, locale), question_keyboard(question))


async def _form_question(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
) -> Question | None:
    data = await state.get_data()
    question = await _authorized_question(
        session, int(data.get("question_id", 0)), user, is_admin, message.chat.id, None
    )
    if question is None:
        await state.clear()
        await message.answer(_(NOT_ALLOWED))
        return None
    if not deps.can_answer(question):
        await state.clear()
        await message.answer(_("This question was answered or returned meanwhile."))
        return None
    return question


@router.message(QuestionForm.answer)
async def answer_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = _text_input(message, ANSWER_LIMIT, minimum=5)
    if text is None:
        await message.answer(error + "\n" + _("Write the answer as text."))
        return
    question = await _form_question(message, state, session, user, is_admin)
    if question is None:
        return
    await state.clear()
    deps.answer_question(question, text)
    await session.flush()
    await notify_question_author(session, i18n, question, event="answered")
    await session.commit()
    await message.answer(_("Answer saved; the resident will receive it."))
    await message.answer(
        await _question_view(session, question, i18n.current_locale),
        reply_markup=question_keyboard(question),
    )


@router.message(QuestionForm.reason)
async def return_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    settings: Settings,
) -> None:
    text, error = _text_input(message, REASON_LIMIT)
    if text is None:
        await message.answer(error + "\n" + _("Write the reason as text."))
        return
    question = await _form_question(message, state, session, user, is_admin)
    if question is None:
        return
    await state.clear()
    department = await deps.get_department(session, question.department_id or 0)
    deps.return_question(question, text)
    await session.flush()
    for recipient in await deps.admin_recipients(session, settings.admin_ids):
        locale = recipient.locale or i18n.default_locale
        keyboard = Keyboard()
        keyboard.button(
            text=i18n.gettext(MODERATION_BUTTON, locale=locale),
            callback_data=AdminCb(section=AdminSection.MODERATION),
        )
        await enqueue(
            session,
            chat_id=recipient.chat_id,
            user_id=recipient.user_id,
            text="\n".join(
                [
                    i18n.gettext(RETURNED_TITLE, locale=locale).format(
                        department=html.quote(department.short(locale) if department else "—"),
                        ref=html.quote(question.ref or f"#{question.id}"),
                    ),
                    f"<i>{html.quote(truncate(question.text, 500))}</i>",
                    i18n.gettext(QUESTION_REASON_LINE, locale=locale).format(
                        reason=html.quote(truncate(text, 1000))
                    ),
                ]
            ),
            kind="question_returned",
            dedup_key=f"question-returned:{question.id}:{int(question.updated_at.timestamp())}",
            reply_markup=keyboard.as_markup(),
        )
    await session.commit()
    await message.answer(_("Returned to the akimat for reassignment. Thank you."))


# --- the admin panel: departments ---------------------------------------------------------------


def _admin_only(is_admin: bool, callback_answer: CallbackAnswer) -> bool:
    if not is_admin:
        _refuse(callback_answer, ADMINS_ONLY)
    return is_admin


async def _admin_list(
    session: AsyncSession, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    overview = await deps.department_overview(session)
    page = clamp_page(page, len(overview), PER_PAGE)
    chunk = overview[page * PER_PAGE : (page + 1) * PER_PAGE]
    lines = [_("<b>Departments</b>"), _("👥 members · 💬 group chats"), ""]
    for item in chunk:
        lines.append(
            f"• <b>{html.quote(item.department.code)}</b> "
            f"{html.quote(item.department.short(locale))} · 👥 {item.members} · 💬 {item.chats}"
        )
    markup = admin_list_keyboard(
        [i.department for i in chunk], page, page_count(len(overview), PER_PAGE), locale
    )
    return "\n".join(lines), markup


async def _admin_department(
    session: AsyncSession, department: Department, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    members = await deps.list_members(session, department.id)
    chats = await deps.list_chats(session, department.id)
    invitations = (await deps.open_invitations(session)).get(department.id, 0)
    lines = [
        _("<b>Department {code}</b>").format(code=html.quote(department.code)),
        f"🇷🇺 {html.quote(department.name_ru)} ({html.quote(department.short_ru)})",
        f"🇰🇿 {html.quote(department.name_kk)} ({html.quote(department.short_kk)})",
        f"🇬🇧 {html.quote(department.name_en)} ({html.quote(department.short_en)})",
        "",
        _("<b>Members</b>: {count}").format(count=len(members)),
    ]
    for member in members:
        handle = f" @{member.username}" if member.username else ""
        lines.append(f"• {html.quote(member.full_name or '—')}{html.quote(handle)}")
    lines.append(_("<b>Group chats</b>: {count}").format(count=len(chats)))
    for chat in chats:
        lines.append(f"• {html.quote(chat.title or str(chat.chat_id))}")
    lines.append(_("Open invitations: {count}").format(count=invitations))
    markup = admin_department_keyboard(department, members=len(members), chats=len(chats))
    return "\n".join(lines), markup


@router.callback_query(AdminCb.filter(F.section == AdminSection.DEPARTMENTS))
async def admin_departments(
    query: CallbackQuery,
    session: AsyncSession,
    is_admin: bool,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if not _admin_only(is_admin, callback_answer):
        return
    text, markup = await _admin_list(session, 0, i18n.current_locale)
    await _show(query, text, markup)


@router.callback_query(DeptAdminCb.filter())
async def admin_department_action(
    query: CallbackQuery,
    callback_data: DeptAdminCb,
    bot: Bot,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    settings: Settings,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not _admin_only(is_admin, callback_answer) or not isinstance(query.message, Message):
        return
    locale = i18n.current_locale
    act = callback_data.act
    if act is DeptAdminAct.LIST:
        text, markup = await _admin_list(session, callback_data.arg, locale)
        await _show(query, text, markup)
        return
    if act is DeptAdminAct.NEW:
        await state.set_state(DepartmentForm.code)
        await _prompt(
            query.message,
            _(
                "New department. Send its code as written in action plans, e.g. УЭиВ "
                "(/cancel to stop)."
            ),
        )
        return
    department = await deps.get_department(session, callback_data.dep)
    if department is None:
        _refuse(callback_answer, NOT_FOUND)
        return
    match act:
        case DeptAdminAct.EDIT:
            await _show(
                query,
                _("Which name of {code} do you want to change?").format(
                    code=html.quote(department.code)
                ),
                admin_fields_keyboard(department.id, [_(label) for label in FIELD_LABELS]),
            )
            return
        case DeptAdminAct.FIELD:
            if not 0 <= callback_data.arg < len(NAME_FIELDS):
                _refuse(callback_answer, NOT_FOUND)
                return
            field = NAME_FIELDS[callback_data.arg]
            await state.set_state(DepartmentForm.field)
            await state.update_data(department_id=department.id, field=field)
            await _prompt(
                query.message,
                _("Now: {value}\nSend the new text (/cancel to stop).").format(
                    value=html.quote(str(getattr(department, field)))
                ),
            )
            return
        case DeptAdminAct.INVITE:
            invitation = await deps.create_invitation(
                session,
                department.id,
                created_by_id=user.id if user else None,
                ttl_days=settings.invitation_ttl_days,
            )
            await session.commit()
            me = await bot.me()
            await query.message.answer(
                invitation_text(
                    department, invitation.token, me.username or "", invitation.expires_at, locale
                )
            )
            callback_answer.text = _("Invitation created.")
            return
        case DeptAdminAct.MEMBERS:
            members = await deps.list_members(session, department.id)
            await _show(
                query,
                _("Tap a member to remove them from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_members_keyboard(department.id, members),
            )
            return
        case DeptAdminAct.DEL_MEMBER:
            if await deps.remove_member(session, department.id, callback_data.arg):
                await session.commit()
                callback_answer.text = _("Removed.")
            else:
                callback_answer.text = _("Already removed.")
            members = await deps.list_members(session, department.id)
            await _show(
                query,
                _("Tap a member to remove them from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_members_keyboard(department.id, members),
            )
            return
        case DeptAdminAct.CHATS:
            chats = await deps.list_chats(session, department.id)
            await _show(
                query,
                _("Tap a group chat to unbind it from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_chats_keyboard(department.id, chats),
            )
            return
        case DeptAdminAct.DEL_CHAT:
            chat = await session.get(DepartmentChat, callback_data.arg)
            if chat is not None and chat.department_id == department.id:
                await deps.remove_chat(session, department.id, chat.chat_id)
                await session.commit()
                callback_answer.text = _("Removed.")
            else:
                callback_answer.text = _("Already removed.")
            chats = await deps.list_chats(session, department.id)
            await _show(
                query,
                _("Tap a group chat to unbind it from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_chats_keyboard(department.id, chats),
            )
            return
        case _:
            pass
    text, markup = await _admin_department(session, department, locale)
    await _show(query, text, markup)


def invitation_text(
    department: Department, token: str, bot_username: str, expires_at: dt.datetime, locale: str
) -> str:
    link = f"https://t.me/{bot_username}?start={INVITE_PREFIX}{token}"
    return _(
        "🔗 <b>Invitation to {department}</b>\n\n"
        "For one official: send them this link, it makes them a member:\n{link}\n\n"
        "For the department's group chat: a group administrator adds the bot to the group "
        "and sends there:\n<code>/join {token}</code>\n\n"
        "Each invitation works once and is valid until {expires}."
    ).format(
        department=html.quote(department.name(locale)),
        link=html.quote(link),
        token=html.quote(token),
        expires=fmt_datetime(expires_at, locale),
    )


async def _admin_form_guard(message: Message, state: FSMContext, is_admin: bool) -> bool:
    if not is_admin:
        await state.clear()
        await message.answer(_(ADMINS_ONLY))
    return is_admin


@router.message(DepartmentForm.code)
async def new_department_code(
    message: Message, state: FSMContext, session: AsyncSession, is_admin: bool
) -> None:
    if not await _admin_form_guard(message, state, is_admin):
        return
    code, error = _text_input(message, 100, minimum=2)
    if code is None or "\n" in code:
        await message.answer(
            (error or _("The code must be one line.")) + "\n" + _("Send the code.")
        )
        return
    if await deps.find_department(session, code) is not None:
        await message.answer(_("A department with this code exists already. Send another code."))
        return
    await state.update_data(code=code)
    await state.set_state(DepartmentForm.name_ru)
    await _prompt(message, _("The full name in Russian:"))


async def _new_department_name(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    is_admin: bool,
    i18n: I18n,
    locale: str,
) -> None:
    if not await _admin_form_guard(message, state, is_admin):
        return
    name, error = _text_input(message, 300, minimum=2)
    if name is None:
        await message.answer(error)
        return
    await state.update_data({f"name_{locale}": name})
    if locale == "ru":
        await state.set_state(DepartmentForm.name_kk)
        await _prompt(message, _("The full name in Kazakh:"))
        return
    if locale == "kk":
        await state.set_state(DepartmentForm.name_en)
        await _prompt(message, _("The full name in English:"))
        return
    data = await state.get_data()
    await state.clear()
    department = await deps.create_department(
        session, str(data["code"]), {loc: str(data[f"name_{loc}"]) for loc in ("ru", "kk", "en")}
    )
    if department is None:
        await message.answer(_("A department with this code exists already. Nothing was saved."))
        return
    await session.commit()
    text, markup = await _admin_department(session, department, i18n.current_locale)
    await message.answer(_("Department created."))
    await message.answer(text, reply_markup=markup)


@router.message(DepartmentForm.name_ru)
async def new_department_ru(
    message: Message, state: FSMContext, session: AsyncSession, is_admin: bool, i18n: I18n
) -> None:
    await _new_department_name(message, state, session, is_admin, i18n, "ru")


@router.message(DepartmentForm.name_kk)
async def new_department_kk(
    message: Message, state: FSMContext, session: AsyncSession, is_admin: bool, i18n: I18n
) -> None:
    await _new_department_name(message, state, session, is_admin, i18n, "kk")


@router.message(DepartmentForm.name_en)
async def new_department_en(
    message: Message, state: FSMContext, session: AsyncSession, is_admin: bool, i18n: I18n
) -> None:
    await _new_department_name(message, state, session, is_admin, i18n, "en")


@router.message(DepartmentForm.field)
async def edit_department_field(
    message: Message, state: FSMContext, session: AsyncSession, is_admin: bool, i18n: I18n
) -> None:
    if not await _admin_form_guard(message, state, is_admin):
        return
    data = await state.get_data()
    field = str(data.get("field", ""))
    limit = 100 if field.startswith("short_") else 300
    value, error = _text_input(message, limit, minimum=2)
    if value is None:
        await message.answer(error)
        return
    department = await deps.get_department(session, int(data.get("department_id", 0)))
    await state.clear()
    if department is None or field not in NAME_FIELDS:
        await message.answer(_(NOT_FOUND))
        return
    deps.set_department_name(department, field, value)
    await session.commit()
    text, markup = await _admin_department(session, department, i18n.current_locale)
    await message.answer(_("Saved."))
    await message.answer(text, reply_markup=markup)
