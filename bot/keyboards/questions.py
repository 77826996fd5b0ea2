"""Callback data and keyboards of the questions area (prefixes ``q…``).

Form buttons carry the form's nonce ``f``: a button left over from an earlier form is refused
even when the new form happens to be at the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.keyboards.builder import Keyboard
from bot.keyboards.common import pagination_row
from bot.labels import status_label
from models.entities import Category, Question
from models.similar import Similar
from models.text import truncate


class FormAction(StrEnum):
    SKIP_ADDRESS = "skip"
    NAME = "name"
    ANONYMOUS = "anon"
    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"
    BACK = "back"
    EDIT_CATEGORY = "ec"
    EDIT_TEXT = "et"
    EDIT_ADDRESS = "ea"
    EDIT_PUBLICITY = "ep"
    EDIT_PHOTO = "eph"
    REMOVE_PHOTO = "rph"


class QFormCb(CallbackData, prefix="qf"):
    action: FormAction
    f: int


class QConsentCb(CallbackData, prefix="qc"):
    agree: bool
    f: int


class QCategoryCb(CallbackData, prefix="qa"):
    id: int
    f: int


class SimilarKind(StrEnum):
    MEASURE = "m"
    QUESTION = "q"


class QSimilarCb(CallbackData, prefix="qy"):
    """Follow a close measure, or support a close question, shown before a question is sent."""

    kind: SimilarKind
    id: int


class QMyCb(CallbackData, prefix="qm"):
    page: int


class SupportAction(StrEnum):
    LIST = "l"
    TOGGLE = "t"


class QSupportCb(CallbackData, prefix="qs"):
    action: SupportAction
    meeting: int
    page: int = 0
    q: int = 0


class PrivacyAction(StrEnum):
    CONFIRM = "yes"
    KEEP = "no"


class QPrivacyCb(CallbackData, prefix="qp"):
    action: PrivacyAction


class NextAction(StrEnum):
    FOLLOW = "f"
    ASK = "a"


class QNextCb(CallbackData, prefix="qn"):
    action: NextAction
    district: int


class QCalendarCb(CallbackData, prefix="qk"):
    """The meeting as an ``.ics`` file ("Add to calendar")."""

    meeting: int


def consent_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("✅ I agree"), callback_data=QConsentCb(agree=True, f=nonce))
    builder.button(text=_("✖️ I do not agree"), callback_data=QConsentCb(agree=False, f=nonce))
    builder.adjust(1)
    return builder.as_markup()


def category_keyboard(
    items: Sequence[Category], locale: str, nonce: int, selected: int | None = None
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for category in items:
        text = category.name(locale)
        if category.id == selected:
            text = f"✅ {text}"
        builder.button(text=text, callback_data=QCategoryCb(id=category.id, f=nonce))
    builder.button(
        text=_("✖️ Cancel the question"), callback_data=QFormCb(action=FormAction.CANCEL, f=nonce)
    )
    builder.adjust(1)
    return builder.as_markup()


def cancel_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("✖️ Cancel the question"), callback_data=QFormCb(action=FormAction.CANCEL, f=nonce)
    )
    return builder.as_markup()


def address_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("⏭ Skip: no address"),
        callback_data=QFormCb(action=FormAction.SKIP_ADDRESS, f=nonce),
    )
    builder.button(
        text=_("✖️ Cancel the question"), callback_data=QFormCb(action=FormAction.CANCEL, f=nonce)
    )
    builder.adjust(1)
    return builder.as_markup()


def publicity_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("👤 With my name"), callback_data=QFormCb(action=FormAction.NAME, f=nonce)
    )
    builder.button(
        text=_("🕶 Anonymously"), callback_data=QFormCb(action=FormAction.ANONYMOUS, f=nonce)
    )
    builder.button(
        text=_("✖️ Cancel the question"), callback_data=QFormCb(action=FormAction.CANCEL, f=nonce)
    )
    builder.adjust(2, 1)
    return builder.as_markup()


def preview_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("📨 Send the question"), callback_data=QFormCb(action=FormAction.SEND, f=nonce)
    )
    builder.button(
        text=_("✏️ Change something"), callback_data=QFormCb(action=FormAction.EDIT, f=nonce)
    )
    builder.button(
        text=_("✖️ Cancel the question"), callback_data=QFormCb(action=FormAction.CANCEL, f=nonce)
    )
    builder.adjust(1, 2)
    return builder.as_markup()


def edit_keyboard(nonce: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for action, text in (
        (FormAction.EDIT_CATEGORY, _("🏷 Category")),
        (FormAction.EDIT_TEXT, _("📝 Text")),
        (FormAction.EDIT_ADDRESS, _("📍 Address")),
        (FormAction.EDIT_PUBLICITY, _("👤 Name or anonymous")),
        (FormAction.EDIT_PHOTO, _("📷 Photo")),
        (FormAction.BACK, _("⬅️ Back to the preview")),
    ):
        builder.button(text=text, callback_data=QFormCb(action=action, f=nonce))
    builder.adjust(2, 2, 1, 1)
    return builder.as_markup()


def photo_keyboard(nonce: int, has_photo: bool) -> InlineKeyboardMarkup:
    builder = Keyboard()
    if has_photo:
        builder.button(
            text=_("🗑 Remove the photo"),
            callback_data=QFormCb(action=FormAction.REMOVE_PHOTO, f=nonce),
        )
    builder.button(
        text=_("⬅️ Back to the preview"), callback_data=QFormCb(action=FormAction.BACK, f=nonce)
    )
    builder.adjust(1)
    return builder.as_markup()


def similar_keyboard(
    measures: Sequence[tuple[str, int]], questions: Sequence[tuple[str, int]]
) -> InlineKeyboardMarkup:
    """«🔔 Follow 4.1» for each close measure, «👍 Support AL-0012» for each close question
    (``(label, id)`` pairs)."""
    builder = Keyboard()
    for label, measure_id in measures:
        builder.button(
            text=_("🔔 Follow {number}").format(number=label),
            callback_data=QSimilarCb(kind=SimilarKind.MEASURE, id=measure_id),
        )
    for label, question_id in questions:
        builder.button(
            text=_("👍 Support {ref}").format(ref=label),
            callback_data=QSimilarCb(kind=SimilarKind.QUESTION, id=question_id),
        )
    builder.adjust(1)
    return builder.as_markup()


def my_questions_keyboard(page: int, pages: int) -> InlineKeyboardMarkup | None:
    row = pagination_row(page, pages, lambda p: QMyCb(page=p))
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def next_meeting_keyboard(
    district_id: int,
    *,
    meeting_id: int | None,
    public_questions: int,
    following: bool,
    can_ask: bool,
) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if can_ask:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("❓ Ask a question"),
                    callback_data=QNextCb(action=NextAction.ASK, district=district_id).pack(),
                )
            ]
        )
    if meeting_id is not None and public_questions:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("👍 Residents' questions ({count})").format(count=public_questions),
                    callback_data=QSupportCb(action=SupportAction.LIST, meeting=meeting_id).pack(),
                )
            ]
        )
    if not following:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🔔 Follow the district"),
                    callback_data=QNextCb(action=NextAction.FOLLOW, district=district_id).pack(),
                )
            ]
        )
    if meeting_id is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🗓 Add to calendar"),
                    callback_data=QCalendarCb(meeting=meeting_id).pack(),
                ),
                InlineKeyboardButton(text=_("📤 Share"), switch_inline_query=f"mt{meeting_id}"),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def support_keyboard(
    meeting_id: int,
    page: int,
    pages: int,
    items: Sequence[tuple[int, Question]],
    supported: set[int],
    user_id: int,
) -> InlineKeyboardMarkup | None:
    """One toggle per listed question (numbered as in the text); none on the user's own."""
    buttons = []
    for number, question in items:
        if question.author_id == user_id:
            continue
        mark = "✅" if question.id in supported else "👍"
        buttons.append(
            InlineKeyboardButton(
                text=f"{mark} {number} · {question.supporters}",
                callback_data=QSupportCb(
                    action=SupportAction.TOGGLE, meeting=meeting_id, page=page, q=question.id
                ).pack(),
            )
        )
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    nav = pagination_row(
        page, pages, lambda p: QSupportCb(action=SupportAction.LIST, meeting=meeting_id, page=p)
    )
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def forget_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("🗑 Yes, delete my data"), callback_data=QPrivacyCb(action=PrivacyAction.CONFIRM)
    )
    builder.button(
        text=_("✖️ No, keep everything"), callback_data=QPrivacyCb(action=PrivacyAction.KEEP)
    )
    builder.adjust(1)
    return builder.as_markup()


def similar_lines(similar: Similar, locale: str, i18n: I18n) -> list[str]:
    """The close measures and questions, as lines (the resident's form, the moderator's card)."""
    lines: list[str] = []
    if similar.measures:
        lines.append(_("<b>Already promised:</b>"))
        for row in similar.measures:
            lines.append(
                f"• <b>{row.number}</b> {html.quote(truncate(row.text, 200))} — "
                f"<i>{status_label(i18n, row.status, locale)}</i>"
            )
    if similar.questions:
        lines.append(_("<b>Already asked:</b>"))
        for question in similar.questions:
            ref = html.quote(question.ref or f"#{question.id}")
            lines.append(
                f"• <b>{ref}</b> {html.quote(truncate(question.text, 200))} · "
                f"👍 {question.supporters}"
            )
    return lines
