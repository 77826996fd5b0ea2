"""Callback data and keyboards of the admin area: the panel, meetings, import, announcements.

Prefixes: ``am`` meeting screens, ``af`` the field of a meeting to edit, ``ax`` the district of
a meeting (in the form or when editing), ``ac`` buttons inside the meeting forms, ``ai`` the plan
import, ``aa`` announcements, ``ar`` a meeting's documents, ``ap`` the form of a promise stated at
a meeting. The panel itself is the shared ``AdminCb`` (``adm``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AdminCb, AdminSection
from bot.i18n import LANGUAGE_NAMES
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import page_count, pagination_row
from documents import DocFormat, ReportKind
from models.clock import to_local
from models.entities import District, Meeting, MeetingStatus

MEETINGS_PER_PAGE = 8


class MeetAction(StrEnum):
    DISTRICTS = "d"  # choose the district whose meetings to list
    LIST = "l"  # id: district (0: all districts), page
    OPEN = "o"  # id: meeting
    NEW = "n"  # start the creation form
    EDIT = "e"  # id: meeting; choose a field
    CANCEL = "c"  # id: meeting; ask for confirmation
    CANCEL_OK = "k"  # id: meeting; confirmed
    OUTCOME = "r"  # id: meeting; record the outcome figures
    IMPORT = "i"  # id: meeting; import its action plan
    DOCUMENTS = "f"  # id: meeting; its report and progress report (``MeetDocCb``)
    SPOKEN = "p"  # id: meeting; register a promise stated at it (``SpokenFormCb``)


class MeetCb(CallbackData, prefix="am"):
    action: MeetAction
    id: int = 0
    page: int = 0


class MeetField(StrEnum):
    DISTRICT = "d"
    STARTS = "s"
    PLACE = "p"
    AKIM = "a"
    MODERATOR = "m"
    STREAM = "u"
    INTAKE = "i"


class MeetFieldCb(CallbackData, prefix="af"):
    id: int
    field: MeetField


class MeetDistrictCb(CallbackData, prefix="ax"):
    """A district chosen in the creation form (meeting 0) or for an existing meeting."""

    district: int
    meeting: int = 0


class FormAction(StrEnum):
    SKIP = "skip"
    HELD = "held"  # the date is in the past: record a meeting that was already held
    SAVE = "save"
    DISCARD = "drop"


class MeetFormCb(CallbackData, prefix="ac"):
    action: FormAction


class DocAction(StrEnum):
    MENU = "m"  # the documents' menu, in ``lang``
    SEND = "s"  # make the document and send it


class MeetDocCb(CallbackData, prefix="ar"):
    action: DocAction
    id: int
    lang: str
    kind: ReportKind = ReportKind.MEETING
    fmt: DocFormat = DocFormat.PDF


class SpokenAction(StrEnum):
    SKIP = "skip"
    SAVE = "save"
    DISCARD = "drop"


class SpokenFormCb(CallbackData, prefix="ap"):
    action: SpokenAction


class ImportAction(StrEnum):
    TARGETS = "t"  # page: list of meetings to import into
    PICK = "p"  # id: meeting
    NEW_MEETING = "n"
    TEMPLATE_XLSX = "x"
    TEMPLATE_CSV = "c"
    CONFIRM = "ok"  # token: the preview being confirmed
    DISCARD = "no"


class ImportCb(CallbackData, prefix="ai"):
    action: ImportAction
    id: int = 0
    page: int = 0
    token: str = ""


class AnnounceAction(StrEnum):
    AUDIENCE = "a"  # id: district, 0: everyone
    SEND = "s"  # token: the previewed announcement
    DISCARD = "d"


class AnnounceCb(CallbackData, prefix="aa"):
    action: AnnounceAction
    id: int = 0
    token: str = ""


def panel_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    for section, text in (
        (AdminSection.MEETINGS, _("📅 Meetings")),
        (AdminSection.IMPORT, _("📥 Import an action plan")),
        (AdminSection.ANNOUNCE, _("📢 Announcement")),
        (AdminSection.DEPARTMENTS, _("🏢 Departments")),
        (AdminSection.MODERATION, _("🗂 Moderation")),
        (AdminSection.STATS, _("📊 Statistics")),
        (AdminSection.EXPORT, _("📤 Exports")),
    ):
        builder.button(text=text, callback_data=AdminCb(section=section))
    builder.adjust(1, 1, 1, 2, 2)
    return builder.as_markup()


def back_to_panel_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("⬅️ Admin panel"), callback_data=AdminCb(section=AdminSection.HOME).pack()
    )


def meeting_districts_keyboard(districts: Sequence[District], locale: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for district in districts:
        builder.button(
            text=district.short(locale),
            callback_data=MeetCb(action=MeetAction.LIST, id=district.id),
        )
    builder.button(text=_("All districts"), callback_data=MeetCb(action=MeetAction.LIST, id=0))
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=_("➕ New meeting"), callback_data=MeetCb(action=MeetAction.NEW).pack()
        )
    )
    builder.row(back_to_panel_button())
    return builder.as_markup()


STATUS_MARKS = {
    MeetingStatus.SCHEDULED: "🗓",
    MeetingStatus.HELD: "✅",
    MeetingStatus.CANCELLED: "❌",
}


def meeting_button_text(meeting: Meeting, locale: str, *, with_district: bool) -> str:
    local = to_local(meeting.starts_at)
    mark = STATUS_MARKS.get(MeetingStatus(meeting.status), "")
    text = f"{mark} {local:%d.%m.%Y %H:%M}"
    if with_district:
        text += f" · {meeting.district.short(locale)}"
    return text


def meeting_list_keyboard(
    meetings: Sequence[Meeting], district_id: int, page: int, total: int, locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for meeting in meetings:
        builder.button(
            text=meeting_button_text(meeting, locale, with_district=district_id == 0),
            callback_data=MeetCb(action=MeetAction.OPEN, id=meeting.id),
        )
    builder.adjust(1)
    pages = page_count(total, MEETINGS_PER_PAGE)
    row = pagination_row(
        page, pages, lambda p: MeetCb(action=MeetAction.LIST, id=district_id, page=p)
    )
    if row:
        builder.row(*row)
    builder.row(
        InlineKeyboardButton(
            text=_("➕ New meeting"), callback_data=MeetCb(action=MeetAction.NEW).pack()
        ),
        InlineKeyboardButton(
            text=_("⬅️ Districts"), callback_data=MeetCb(action=MeetAction.DISTRICTS).pack()
        ),
    )
    return builder.as_markup()


def meeting_card_keyboard(meeting: Meeting) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("✏️ Edit"), callback_data=MeetCb(action=MeetAction.EDIT, id=meeting.id))
    builder.button(
        text=_("📊 Outcome figures"), callback_data=MeetCb(action=MeetAction.OUTCOME, id=meeting.id)
    )
    builder.button(
        text=_("📥 Import the action plan"),
        callback_data=MeetCb(action=MeetAction.IMPORT, id=meeting.id),
    )
    builder.button(
        text=_("🗣 Add a promise stated at the meeting"),
        callback_data=MeetCb(action=MeetAction.SPOKEN, id=meeting.id),
    )
    builder.button(
        text=_("📄 Report"), callback_data=MeetCb(action=MeetAction.DOCUMENTS, id=meeting.id)
    )
    if meeting.status == MeetingStatus.SCHEDULED:
        builder.button(
            text=_("❌ Cancel the meeting"),
            callback_data=MeetCb(action=MeetAction.CANCEL, id=meeting.id),
        )
    builder.button(
        text=_("⬅️ Meetings"), callback_data=MeetCb(action=MeetAction.LIST, id=meeting.district_id)
    )
    builder.adjust(2, 1, 1, 1, 1, 1)
    return builder.as_markup()


def documents_keyboard(meeting_id: int, lang: str) -> InlineKeyboardMarkup:
    """The meeting's report and its plan's progress report, DOCX or PDF, in ``lang``."""
    builder = Keyboard()
    for kind, label in (
        (ReportKind.MEETING, _("📄 Report")),
        (ReportKind.PROGRESS, _("📈 Progress of the plan")),
    ):
        for fmt in DocFormat:
            builder.button(
                text=f"{label} · {fmt.value.upper()}",
                callback_data=MeetDocCb(
                    action=DocAction.SEND, id=meeting_id, lang=lang, kind=kind, fmt=fmt
                ),
            )
    for code, name in LANGUAGE_NAMES.items():
        builder.button(
            text=f"• {name}" if code == lang else name,
            callback_data=MeetDocCb(action=DocAction.MENU, id=meeting_id, lang=code),
        )
    builder.button(text=_("⬅️ Back"), callback_data=MeetCb(action=MeetAction.OPEN, id=meeting_id))
    builder.adjust(2, 2, 3, 1)
    return builder.as_markup()


def spoken_form_keyboard(*actions: SpokenAction) -> InlineKeyboardMarkup:
    texts = {
        SpokenAction.SKIP: _("Skip"),
        SpokenAction.SAVE: _("💾 Save"),
        SpokenAction.DISCARD: _("✖️ Discard"),
    }
    builder = Keyboard()
    for action in actions:
        builder.button(text=texts[action], callback_data=SpokenFormCb(action=action))
    builder.adjust(2)
    return builder.as_markup()


def edit_fields_keyboard(meeting_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for field, text in (
        (MeetField.DISTRICT, _("District")),
        (MeetField.STARTS, _("Date and time")),
        (MeetField.PLACE, _("Place")),
        (MeetField.AKIM, _("Akim")),
        (MeetField.MODERATOR, _("Moderator")),
        (MeetField.STREAM, _("Live stream link")),
        (MeetField.INTAKE, _("Question deadline")),
    ):
        builder.button(text=text, callback_data=MeetFieldCb(id=meeting_id, field=field))
    builder.button(text=_("⬅️ Back"), callback_data=MeetCb(action=MeetAction.OPEN, id=meeting_id))
    builder.adjust(2)
    return builder.as_markup()


def form_districts_keyboard(
    districts: Sequence[District], locale: str, meeting_id: int = 0
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for district in districts:
        builder.button(
            text=district.short(locale),
            callback_data=MeetDistrictCb(district=district.id, meeting=meeting_id),
        )
    builder.adjust(2)
    return builder.as_markup()


def form_button(action: FormAction) -> InlineKeyboardMarkup:
    texts = {
        FormAction.SKIP: _("Skip"),
        FormAction.HELD: _("It was held: record it"),
        FormAction.SAVE: _("💾 Save"),
        FormAction.DISCARD: _("✖️ Discard"),
    }
    builder = Keyboard()
    builder.button(text=texts[action], callback_data=MeetFormCb(action=action))
    return builder.as_markup()


def preview_keyboard() -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("💾 Save"), callback_data=MeetFormCb(action=FormAction.SAVE))
    builder.button(text=_("✖️ Discard"), callback_data=MeetFormCb(action=FormAction.DISCARD))
    builder.adjust(2)
    return builder.as_markup()


def cancel_confirm_keyboard(meeting_id: int) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("Yes, cancel it"), callback_data=MeetCb(action=MeetAction.CANCEL_OK, id=meeting_id)
    )
    builder.button(
        text=_("No, keep it"), callback_data=MeetCb(action=MeetAction.OPEN, id=meeting_id)
    )
    builder.adjust(2)
    return builder.as_markup()


def import_targets_keyboard(
    meetings: Sequence[Meeting], page: int, total: int, locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for meeting in meetings:
        builder.button(
            text=meeting_button_text(meeting, locale, with_district=True),
            callback_data=ImportCb(action=ImportAction.PICK, id=meeting.id),
        )
    builder.adjust(1)
    pages = page_count(total, MEETINGS_PER_PAGE)
    row = pagination_row(page, pages, lambda p: ImportCb(action=ImportAction.TARGETS, page=p))
    if row:
        builder.row(*row)
    builder.row(
        InlineKeyboardButton(
            text=_("➕ New meeting"), callback_data=ImportCb(action=ImportAction.NEW_MEETING).pack()
        )
    )
    builder.row(
        InlineKeyboardButton(
            text=_("📄 Template (XLSX)"),
            callback_data=ImportCb(action=ImportAction.TEMPLATE_XLSX).pack(),
        ),
        InlineKeyboardButton(
            text=_("📄 Template (CSV)"),
            callback_data=ImportCb(action=ImportAction.TEMPLATE_CSV).pack(),
        ),
    )
    builder.row(back_to_panel_button())
    return builder.as_markup()


def import_confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("✅ Import"), callback_data=ImportCb(action=ImportAction.CONFIRM, token=token)
    )
    builder.button(text=_("✖️ Discard"), callback_data=ImportCb(action=ImportAction.DISCARD))
    builder.adjust(2)
    return builder.as_markup()


def announce_audience_keyboard(districts: Sequence[District], locale: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for district in districts:
        builder.button(
            text=district.short(locale),
            callback_data=AnnounceCb(action=AnnounceAction.AUDIENCE, id=district.id),
        )
    builder.button(
        text=_("Everyone"), callback_data=AnnounceCb(action=AnnounceAction.AUDIENCE, id=0)
    )
    builder.adjust(2)
    builder.row(back_to_panel_button())
    return builder.as_markup()


def announce_confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(
        text=_("📨 Send"), callback_data=AnnounceCb(action=AnnounceAction.SEND, token=token)
    )
    builder.button(text=_("✖️ Discard"), callback_data=AnnounceCb(action=AnnounceAction.DISCARD))
    builder.adjust(2)
    return builder.as_markup()
