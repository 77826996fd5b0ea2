"""Callback data and keyboards of the department area (prefixes ``d?``, never ``dist``)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AdminCb, AdminSection, OpenMeasureCb, ReportMeasureCb
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import pagination_row
from models.departments import MeasureRow
from models.entities import (
    Department,
    DepartmentChat,
    DepartmentQueue,
    Measure,
    MeasureStatus,
    Question,
    User,
)
from models.statuses import status_mark
from models.text import truncate


class Purpose(StrEnum):
    MEASURES = "m"
    INBOX = "i"
    LEAVE = "l"


class PickCb(CallbackData, prefix="dc"):
    """Choose one of the caller's departments (``dep=0``: show the choice)."""

    purpose: Purpose
    dep: int


class MeasuresCb(CallbackData, prefix="dl"):
    """A page of a department's "our measures"."""

    dep: int
    page: int


class MeasureAct(StrEnum):
    VIEW = "v"
    START = "ip"
    DONE = "dn"
    CANCEL = "cn"
    PERCENT = "pc"
    NOTE = "nt"
    REOPEN = "ro"
    REOPEN_YES = "ry"


class MeasureActCb(CallbackData, prefix="dm"):
    id: int
    act: MeasureAct


class CheckCb(CallbackData, prefix="dk"):
    """A follower's answer to "is it really done?" about the "done" update ``u``."""

    id: int
    u: int
    ok: bool


class FormAct(StrEnum):
    SKIP = "skip"


class FormCb(CallbackData, prefix="ds"):
    act: FormAct


class InboxCb(CallbackData, prefix="di"):
    dep: int
    q: DepartmentQueue
    page: int


class QuestionAct(StrEnum):
    VIEW = "v"
    TAKE = "t"
    ANSWER = "a"
    RETURN = "r"
    PHOTO = "p"  # the resident's photo, as a new message


class QuestionCb(CallbackData, prefix="dq"):
    id: int
    act: QuestionAct


class DeptAdminAct(StrEnum):
    LIST = "l"
    VIEW = "v"
    NEW = "n"
    EDIT = "e"  # the list of name fields
    FIELD = "f"  # arg: index in NAME_FIELDS
    INVITE = "i"
    MEMBERS = "m"
    DEL_MEMBER = "dm"  # arg: users.id
    CHATS = "c"
    DEL_CHAT = "dc"  # arg: department_chats.id


class DeptAdminCb(CallbackData, prefix="da"):
    act: DeptAdminAct
    dep: int = 0
    arg: int = 0


NAME_FIELDS = ("name_ru", "name_kk", "name_en", "short_ru", "short_kk", "short_en")

QUEUE_MARKS = {
    DepartmentQueue.NEW: "🆕",
    DepartmentQueue.IN_WORK: "🛠",
    DepartmentQueue.ANSWERED: "✅",
}


def pick_keyboard(
    departments: Sequence[Department], purpose: Purpose, locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for department in departments:
        builder.button(
            text=department.short(locale), callback_data=PickCb(purpose=purpose, dep=department.id)
        )
    builder.adjust(1)
    return builder.as_markup()


def measures_keyboard(
    rows: Sequence[MeasureRow], dep: int, page: int, pages: int, first_number: int
) -> InlineKeyboardMarkup:
    keyboard: list[list[InlineKeyboardButton]] = []
    for number, row in enumerate(rows, start=first_number):
        mark = "🔴" if row.group == "overdue" else "⏰" if row.group == "due_soon" else ""
        mark = mark or status_mark(row.measure.status)
        keyboard.append(
            [
                InlineKeyboardButton(
                    text=f"{mark} {number}. {truncate(row.measure.text, 48)}",
                    callback_data=ReportMeasureCb(id=row.measure.id).pack(),
                )
            ]
        )
    nav = pagination_row(page, pages, lambda p: MeasuresCb(dep=dep, page=p))
    if nav:
        keyboard.append(nav)
    keyboard.append(
        [
            InlineKeyboardButton(
                text=_("📥 Questions"),
                callback_data=InboxCb(dep=dep, q=DepartmentQueue.NEW, page=0).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def report_keyboard(
    measure: Measure, *, is_admin: bool, back_dep: int | None
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    open_status = measure.status in (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
    sizes: list[int] = []
    if measure.status == MeasureStatus.PLANNED:
        builder.button(
            text=_("🔄 Start work"), callback_data=MeasureActCb(id=measure.id, act=MeasureAct.START)
        )
    if open_status:
        builder.button(
            text=_("✅ Mark done"), callback_data=MeasureActCb(id=measure.id, act=MeasureAct.DONE)
        )
        builder.button(
            text=_("📊 Progress %"),
            callback_data=MeasureActCb(id=measure.id, act=MeasureAct.PERCENT),
        )
    builder.button(
        text=_("💬 Add an update"), callback_data=MeasureActCb(id=measure.id, act=MeasureAct.NOTE)
    )
    if is_admin and open_status:
        builder.button(
            text=_("⛔ Cancel the measure"),
            callback_data=MeasureActCb(id=measure.id, act=MeasureAct.CANCEL),
        )
    if is_admin and not open_status:
        builder.button(
            text=_("↩️ Reopen"), callback_data=MeasureActCb(id=measure.id, act=MeasureAct.REOPEN)
        )
    builder.button(text=_("📄 Open the card"), callback_data=OpenMeasureCb(id=measure.id))
    if back_dep is not None:
        builder.button(text=_("◀️ Our measures"), callback_data=MeasuresCb(dep=back_dep, page=0))
    count = len(list(builder.buttons))
    sizes = [2] * (count // 2) + [1] * (count % 2)
    builder.adjust(*sizes)
    return builder.as_markup()


def reopen_confirm_keyboard(measure_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("↩️ Yes, reopen"),
        callback_data=MeasureActCb(id=measure_id, act=MeasureAct.REOPEN_YES),
    )
    builder.button(text=_("✖️ No"), callback_data=MeasureActCb(id=measure_id, act=MeasureAct.VIEW))
    builder.adjust(2)
    return builder.as_markup()


def skip_keyboard(text: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=text, callback_data=FormCb(act=FormAct.SKIP))
    return builder.as_markup()


def inbox_keyboard(
    questions: Sequence[Question],
    dep: int,
    queue: DepartmentQueue,
    counts: dict[str, int],
    page: int,
    pages: int,
) -> InlineKeyboardMarkup:
    keyboard: list[list[InlineKeyboardButton]] = []
    tabs = []
    for q in (DepartmentQueue.NEW, DepartmentQueue.IN_WORK, DepartmentQueue.ANSWERED):
        text = f"{QUEUE_MARKS[q]} {counts.get(q.value, 0)}"
        if q == queue:
            text = f"· {text} ·"
        tabs.append(
            InlineKeyboardButton(text=text, callback_data=InboxCb(dep=dep, q=q, page=0).pack())
        )
    keyboard.append(tabs)
    for question in questions:
        keyboard.append(
            [
                InlineKeyboardButton(
                    text=f"{question.ref or f'#{question.id}'} · {truncate(question.text, 40)}",
                    callback_data=QuestionCb(id=question.id, act=QuestionAct.VIEW).pack(),
                )
            ]
        )
    nav = pagination_row(page, pages, lambda p: InboxCb(dep=dep, q=queue, page=p))
    if nav:
        keyboard.append(nav)
    keyboard.append(
        [
            InlineKeyboardButton(
                text=_("◀️ Our measures"), callback_data=MeasuresCb(dep=dep, page=0).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def question_keyboard(question: Question) -> InlineKeyboardMarkup:
    builder = Keyboard()
    if question.department_queue == DepartmentQueue.NEW:
        builder.button(
            text=_("🛠 Take into work"),
            callback_data=QuestionCb(id=question.id, act=QuestionAct.TAKE),
        )
    if question.department_queue in (DepartmentQueue.NEW, DepartmentQueue.IN_WORK):
        builder.button(
            text=_("✍️ Answer"), callback_data=QuestionCb(id=question.id, act=QuestionAct.ANSWER)
        )
        builder.button(
            text=_("↪️ Return to the akimat"),
            callback_data=QuestionCb(id=question.id, act=QuestionAct.RETURN),
        )
    if question.photo_file_id:
        builder.button(
            text=_("📷 Photo"), callback_data=QuestionCb(id=question.id, act=QuestionAct.PHOTO)
        )
    if question.department_id is not None and question.department_queue in (
        DepartmentQueue.NEW,
        DepartmentQueue.IN_WORK,
        DepartmentQueue.ANSWERED,
    ):
        builder.button(
            text=_("◀️ Questions"),
            callback_data=InboxCb(
                dep=question.department_id, q=DepartmentQueue(question.department_queue), page=0
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def check_keyboard(
    measure_id: int, update_id: int, open_text: str, yes: str, no: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=yes, callback_data=CheckCb(id=measure_id, u=update_id, ok=True))
    builder.button(text=no, callback_data=CheckCb(id=measure_id, u=update_id, ok=False))
    builder.button(text=open_text, callback_data=OpenMeasureCb(id=measure_id))
    builder.adjust(2, 1)
    return builder.as_markup()


def leave_keyboard(departments: Sequence[Department], locale: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for department in departments:
        builder.button(
            text=_("🚪 Leave {department}").format(department=department.short(locale)),
            callback_data=PickCb(purpose=Purpose.LEAVE, dep=department.id),
        )
    builder.adjust(1)
    return builder.as_markup()


# --- the admin section -------------------------------------------------------------------------


def admin_list_keyboard(
    departments: Sequence[Department], page: int, pages: int, locale: str
) -> InlineKeyboardMarkup:
    keyboard: list[list[InlineKeyboardButton]] = []
    for department in departments:
        keyboard.append(
            [
                InlineKeyboardButton(
                    text=truncate(f"{department.code} · {department.short(locale)}", 60),
                    callback_data=DeptAdminCb(act=DeptAdminAct.VIEW, dep=department.id).pack(),
                )
            ]
        )
    nav = pagination_row(page, pages, lambda p: DeptAdminCb(act=DeptAdminAct.LIST, arg=p))
    if nav:
        keyboard.append(nav)
    keyboard.append(
        [
            InlineKeyboardButton(
                text=_("➕ New department"),
                callback_data=DeptAdminCb(act=DeptAdminAct.NEW).pack(),
            )
        ]
    )
    keyboard.append(
        [
            InlineKeyboardButton(
                text=_("◀️ To the admin panel"),
                callback_data=AdminCb(section=AdminSection.HOME).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def admin_department_keyboard(
    department: Department, *, members: int, chats: int
) -> InlineKeyboardMarkup:
    dep = department.id
    builder = Keyboard()
    builder.button(
        text=_("🔗 New invitation"), callback_data=DeptAdminCb(act=DeptAdminAct.INVITE, dep=dep)
    )
    builder.button(
        text=_("✏️ Edit names"), callback_data=DeptAdminCb(act=DeptAdminAct.EDIT, dep=dep)
    )
    if members:
        builder.button(
            text=_("👥 Remove a member"),
            callback_data=DeptAdminCb(act=DeptAdminAct.MEMBERS, dep=dep),
        )
    if chats:
        builder.button(
            text=_("💬 Remove a chat"), callback_data=DeptAdminCb(act=DeptAdminAct.CHATS, dep=dep)
        )
    builder.button(text=_("📋 Measures"), callback_data=MeasuresCb(dep=dep, page=0))
    builder.button(
        text=_("📥 Questions"), callback_data=InboxCb(dep=dep, q=DepartmentQueue.NEW, page=0)
    )
    builder.button(text=_("◀️ Departments"), callback_data=DeptAdminCb(act=DeptAdminAct.LIST))
    builder.adjust(2)
    return builder.as_markup()


def admin_fields_keyboard(dep: int, labels: Sequence[str]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for index, text in enumerate(labels):
        builder.button(
            text=text, callback_data=DeptAdminCb(act=DeptAdminAct.FIELD, dep=dep, arg=index)
        )
    builder.button(
        text=_("◀️ Back to the department"),
        callback_data=DeptAdminCb(act=DeptAdminAct.VIEW, dep=dep),
    )
    builder.adjust(3, 3, 1)
    return builder.as_markup()


def admin_members_keyboard(dep: int, members: Sequence[User]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for member in members:
        name = member.full_name or (f"@{member.username}" if member.username else f"#{member.id}")
        builder.button(
            text=truncate(f"❌ {name}", 60),
            callback_data=DeptAdminCb(act=DeptAdminAct.DEL_MEMBER, dep=dep, arg=member.id),
        )
    builder.button(
        text=_("◀️ Back to the department"),
        callback_data=DeptAdminCb(act=DeptAdminAct.VIEW, dep=dep),
    )
    builder.adjust(1)
    return builder.as_markup()


def admin_chats_keyboard(dep: int, chats: Sequence[DepartmentChat]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for chat in chats:
        builder.button(
            text=truncate(f"❌ {chat.title or chat.chat_id}", 60),
            callback_data=DeptAdminCb(act=DeptAdminAct.DEL_CHAT, dep=dep, arg=chat.id),
        )
    builder.button(
        text=_("◀️ Back to the department"),
        callback_data=DeptAdminCb(act=DeptAdminAct.VIEW, dep=dep),
    )
    builder.adjust(1)
    return builder.as_markup()
