"""Callback data and keyboards of the moderation queue (prefixes ``mq…``)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.formatting import fmt_date
from bot.keyboards.admin import back_to_panel_button
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import page_count, pagination_row
from models.clock import to_local
from models.entities import Category, Department, District, Meeting, Question
from models.text import truncate

QUEUE_PAGE = 6
DEPARTMENTS_PAGE = 8
AGENDA_PAGE = 10


class ModAction(StrEnum):
    LIST = "l"  # the queue, page
    OPEN = "o"  # a question's card
    REJECT = "r"  # ask for the reason
    MERGE = "m"  # choose an earlier duplicate
    MERGE_REF = "mr"  # type the duplicate's reference
    ORAL = "or"  # register an oral question: choose the meeting
    AGENDA = "ag"  # the agenda: choose the meeting
    PHOTO = "ph"  # the question's photo, as a new message


class ModCb(CallbackData, prefix="mq"):
    action: ModAction
    id: int = 0
    page: int = 0


class AcceptStep(StrEnum):
    CONFIRM = "c"  # show the chosen category and department
    CATEGORIES = "k"  # choose another category
    DEPARTMENTS = "d"  # choose another department
    SAVE = "s"


class ModAcceptCb(CallbackData, prefix="mqa"):
    step: AcceptStep
    id: int
    cat: int = 0
    dep: int = 0  # 0: no department
    page: int = 0


class MergeStep(StrEnum):
    CONFIRM = "c"
    SAVE = "s"


class ModMergeCb(CallbackData, prefix="mqm"):
    step: MergeStep
    id: int
    to: int


class OralStep(StrEnum):
    CATEGORY = "k"  # meeting chosen: choose the category
    TEXT = "t"  # category chosen: type the text
    OUTCOME = "o"  # text typed: answered at the meeting or in work


class OralOutcome(StrEnum):
    NONE = "-"
    ANSWERED = "a"
    IN_WORK = "w"


class ModOralCb(CallbackData, prefix="mqo"):
    step: OralStep
    meeting: int = 0
    cat: int = 0
    outcome: OralOutcome = OralOutcome.NONE


class ModAgendaCb(CallbackData, prefix="mqg"):
    meeting: int
    page: int = 0


def _back_to_panel() -> InlineKeyboardButton:
    return back_to_panel_button()  # the admin area's, so that the panel looks the same


def _back_to_queue(page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("◀️ Queue"), callback_data=ModCb(action=ModAction.LIST, page=page).pack()
    )


def question_button_text(question: Question, category: Category | None, locale: str) -> str:
    mark = "↩️" if question.department_queue == "returned" else "🆕"
    ref = question.ref or f"#{question.id}"
    short = category.short(locale) if category is not None else ""
    return truncate(f"{mark} {ref} · {short} · {question.text}", 60)


def queue_keyboard(
    questions: Sequence[Question],
    categories: dict[int, Category],
    page: int,
    total: int,
    locale: str,
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for question in questions:
        builder.row(
            InlineKeyboardButton(
                text=question_button_text(question, categories.get(question.category_id), locale),
                callback_data=ModCb(action=ModAction.OPEN, id=question.id, page=page).pack(),
            )
        )
    pages = page_count(total, QUEUE_PAGE)
    nav = pagination_row(page, pages, lambda p: ModCb(action=ModAction.LIST, page=p))
    if nav:
        builder.row(*nav)
    builder.row(
        InlineKeyboardButton(
            text=_("🎤 Register an oral question"),
            callback_data=ModCb(action=ModAction.ORAL).pack(),
        )
    )
    builder.row(
        InlineKeyboardButton(
            text=_("📋 Meeting agenda"), callback_data=ModCb(action=ModAction.AGENDA).pack()
        )
    )
    builder.row(_back_to_panel())
    return builder.as_markup()


def card_keyboard(
    question: Question, page: int, *, can_accept: bool, can_merge: bool
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    if can_accept:
        text = _("✅ Accept") if question.status == "submitted" else _("🏢 Reassign")
        builder.button(
            text=text,
            callback_data=ModAcceptCb(
                step=AcceptStep.CONFIRM, id=question.id, cat=question.category_id, dep=-1
            ),
        )
        builder.button(
            text=_("❌ Reject"), callback_data=ModCb(action=ModAction.REJECT, id=question.id)
        )
    if can_merge:
        builder.button(
            text=_("🔗 Merge into a duplicate"),
            callback_data=ModCb(action=ModAction.MERGE, id=question.id),
        )
    builder.adjust(2, 1)
    if question.photo_file_id:
        builder.row(
            InlineKeyboardButton(
                text=_("📷 Photo"),
                callback_data=ModCb(action=ModAction.PHOTO, id=question.id).pack(),
            )
        )
    builder.row(_back_to_queue(page))
    return builder.as_markup()


def accept_keyboard(question_id: int, category_id: int, department_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("✅ Confirm"),
        callback_data=ModAcceptCb(
            step=AcceptStep.SAVE, id=question_id, cat=category_id, dep=department_id
        ),
    )
    builder.button(
        text=_("🏷 Another category"),
        callback_data=ModAcceptCb(
            step=AcceptStep.CATEGORIES, id=question_id, cat=category_id, dep=department_id
        ),
    )
    builder.button(
        text=_("🏢 Another department"),
        callback_data=ModAcceptCb(
            step=AcceptStep.DEPARTMENTS, id=question_id, cat=category_id, dep=department_id
        ),
    )
    builder.button(
        text=_("◀️ Back to the question"),
        callback_data=ModCb(action=ModAction.OPEN, id=question_id),
    )
    builder.adjust(1)
    return builder.as_markup()


def category_keyboard(
    question_id: int, categories: Sequence[Category], selected: int, locale: str
) -> InlineKeyboardMarkup:
    """Choosing a category resets the department to the category's default (dep=-1)."""
    builder = Keyboard()
    for category in categories:
        mark = "✅ " if category.id == selected else ""
        builder.button(
            text=f"{mark}{category.short(locale)}",
            callback_data=ModAcceptCb(
                step=AcceptStep.CONFIRM, id=question_id, cat=category.id, dep=-1
            ),
        )
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=_("◀️ Back to the question"),
            callback_data=ModCb(action=ModAction.OPEN, id=question_id).pack(),
        )
    )
    return builder.as_markup()


def department_keyboard(
    question_id: int,
    category_id: int,
    departments: Sequence[Department],
    selected: int,
    page: int,
    locale: str,
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    shown = departments[page * DEPARTMENTS_PAGE : (page + 1) * DEPARTMENTS_PAGE]
    for department in shown:
        mark = "✅ " if department.id == selected else ""
        builder.row(
            InlineKeyboardButton(
                text=truncate(f"{mark}{department.code} · {department.short(locale)}", 60),
                callback_data=ModAcceptCb(
                    step=AcceptStep.CONFIRM, id=question_id, cat=category_id, dep=department.id
                ).pack(),
            )
        )
    nav = pagination_row(
        page,
        page_count(len(departments), DEPARTMENTS_PAGE),
        lambda p: ModAcceptCb(
            step=AcceptStep.DEPARTMENTS, id=question_id, cat=category_id, dep=selected, page=p
        ),
    )
    if nav:
        builder.row(*nav)
    builder.row(
        InlineKeyboardButton(
            text=_("◀️ Back"),
            callback_data=ModAcceptCb(
                step=AcceptStep.CONFIRM, id=question_id, cat=category_id, dep=selected
            ).pack(),
        )
    )
    return builder.as_markup()


def merge_keyboard(question_id: int, candidates: Sequence[Question]) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for candidate in candidates:
        builder.row(
            InlineKeyboardButton(
                text=truncate(f"{candidate.ref or '#' + str(candidate.id)} · {candidate.text}", 60),
                callback_data=ModMergeCb(
                    step=MergeStep.CONFIRM, id=question_id, to=candidate.id
                ).pack(),
            )
        )
    builder.row(
        InlineKeyboardButton(
            text=_("⌨️ Type the reference"),
            callback_data=ModCb(action=ModAction.MERGE_REF, id=question_id).pack(),
        )
    )
    builder.row(
        InlineKeyboardButton(
            text=_("◀️ Back to the question"),
            callback_data=ModCb(action=ModAction.OPEN, id=question_id).pack(),
        )
    )
    return builder.as_markup()


def merge_confirm_keyboard(question_id: int, target_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("🔗 Merge"),
        callback_data=ModMergeCb(step=MergeStep.SAVE, id=question_id, to=target_id),
    )
    builder.button(
        text=_("◀️ Back to the question"),
        callback_data=ModCb(action=ModAction.OPEN, id=question_id),
    )
    builder.adjust(1)
    return builder.as_markup()


def meeting_label(meeting: Meeting, districts: dict[int, District], locale: str) -> str:
    district = districts.get(meeting.district_id)
    name = district.short(locale) if district is not None else ""
    return f"{fmt_date(to_local(meeting.starts_at).date(), locale, 'medium')} · {name}"


def oral_meeting_keyboard(
    meetings: Sequence[Meeting], districts: dict[int, District], locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for meeting in meetings:
        builder.button(
            text=meeting_label(meeting, districts, locale),
            callback_data=ModOralCb(step=OralStep.CATEGORY, meeting=meeting.id),
        )
    builder.adjust(1)
    builder.row(_back_to_queue())
    return builder.as_markup()


def oral_category_keyboard(
    meeting_id: int, categories: Sequence[Category], locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for category in categories:
        builder.button(
            text=category.short(locale),
            callback_data=ModOralCb(step=OralStep.TEXT, meeting=meeting_id, cat=category.id),
        )
    builder.adjust(2)
    builder.row(_back_to_queue())
    return builder.as_markup()


def oral_outcome_keyboard(meeting_id: int, category_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("💬 Answered at the meeting"),
        callback_data=ModOralCb(
            step=OralStep.OUTCOME,
            meeting=meeting_id,
            cat=category_id,
            outcome=OralOutcome.ANSWERED,
        ),
    )
    builder.button(
        text=_("🔧 Taken into work"),
        callback_data=ModOralCb(
            step=OralStep.OUTCOME,
            meeting=meeting_id,
            cat=category_id,
            outcome=OralOutcome.IN_WORK,
        ),
    )
    builder.adjust(1)
    return builder.as_markup()


def agenda_meeting_keyboard(
    meetings: Sequence[Meeting], districts: dict[int, District], locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for meeting in meetings:
        builder.button(
            text=meeting_label(meeting, districts, locale),
            callback_data=ModAgendaCb(meeting=meeting.id),
        )
    builder.adjust(1)
    builder.row(_back_to_queue())
    return builder.as_markup()


def agenda_keyboard(
    meeting_id: int, page: int, total: int, questions: Sequence[Question]
) -> InlineKeyboardMarkup:
    """Each question opens its card (to change its category or department)."""
    builder = Keyboard()
    for question in questions:
        builder.row(
            InlineKeyboardButton(
                text=truncate(f"{question.ref or '#' + str(question.id)} · {question.text}", 60),
                callback_data=ModCb(action=ModAction.OPEN, id=question.id).pack(),
            )
        )
    nav = pagination_row(
        page, page_count(total, AGENDA_PAGE), lambda p: ModAgendaCb(meeting=meeting_id, page=p)
    )
    if nav:
        builder.row(*nav)
    builder.row(
        InlineKeyboardButton(
            text=_("◀️ Meetings"), callback_data=ModCb(action=ModAction.AGENDA).pack()
        )
    )
    builder.row(_back_to_queue())
    return builder.as_markup()


def cancel_form_keyboard(question_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("◀️ Back to the question"),
        callback_data=ModCb(action=ModAction.OPEN, id=question_id),
    )
    return builder.as_markup()
