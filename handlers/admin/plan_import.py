"""Importing a meeting's action plan from a CSV, XLSX or JSON file: the meeting, the file, a
preview of what would change, the import."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.filters import Content
from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.admin import (
    MEETINGS_PER_PAGE,
    ImportAction,
    ImportCb,
    MeetAction,
    MeetCb,
    import_confirm_keyboard,
    import_targets_keyboard,
)
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import clamp_page
from bot.replies import refuse, send_below, show
from handlers.admin.meetings import load_meeting, start_meeting_form
from models.clock import local_today, to_local
from models.entities import Department, Meeting, User
from models.importer import (
    MAX_FILE_SIZE,
    FileKind,
    FileProblem,
    PlanFileError,
    detect_kind,
    read_plan_file,
    template_file,
)
from models.meetings import get_meeting, list_meetings
from models.plans import ApplyResult, ParsedPlan, PlanRow, RowProblem, apply_plan, parse_plan
from models.translation import N_
from scheduler.notifications import followers as follower_news

logger = logging.getLogger(__name__)


PREVIEW_LIMIT = 3600
MAX_ERRORS_SHOWN = 15


class ImportForm(StatesGroup):
    target = State()
    file = State()
    confirm = State()


ROW_PROBLEMS = {
    RowProblem.NO_MEASURE: N_("no measure text"),
    RowProblem.BAD_NUMBER: N_("the number is not a whole number"),
    RowProblem.NO_PROBLEM: N_("no problem issue above it (number and problem are empty)"),
    RowProblem.NUMBER_WITHOUT_TITLE: N_("a new number without the problem issue's text"),
    RowProblem.TOO_LONG: N_("a cell is too long"),
    RowProblem.NO_EXECUTORS: N_("no responsible executor"),
}
FILE_PROBLEMS = {
    FileProblem.NOT_TABLE: N_(
        "This is not a table I can read. Send the plan as a CSV, XLSX (Excel) or JSON file."
    ),
    FileProblem.EMPTY: N_("The file is empty: there are no rows of the plan in it."),
    FileProblem.TOO_LARGE: N_(
        "The file is larger than 5 MB. Remove pictures or split the plan and send it again."
    ),
    FileProblem.WRONG_COLUMNS: N_(
        "The table does not have the columns I need; missing: {missing}. The columns are: "
        "number, problem issue, planned measures, deadline, responsible executor (as in the "
        "template)."
    ),
    FileProblem.BROKEN: N_(
        "The file is damaged or is not really in the format its name says; I could not open it."
    ),
    FileProblem.ENCODING: N_(
        "I could not read the text of the file. Save the CSV in UTF-8 (in Excel: «CSV UTF-8») "
        "and send it again."
    ),
}
COLUMN_NAMES = {
    "number": N_("number"),
    "problem": N_("problem issue"),
    "measure": N_("planned measures"),
    "deadline": N_("deadline"),
    "executors": N_("responsible executor"),
}
SEND_FILE_AGAIN = N_("Send a corrected file, or /cancel to stop.")


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(import_start, AdminCb.filter(F.section == AdminSection.IMPORT))
    r.callback_query.register(
        import_targets_page, ImportCb.filter(F.action == ImportAction.TARGETS)
    )
    r.callback_query.register(
        import_new_meeting, ImportCb.filter(F.action == ImportAction.NEW_MEETING)
    )
    r.callback_query.register(
        import_template,
        ImportCb.filter(F.action.in_({ImportAction.TEMPLATE_XLSX, ImportAction.TEMPLATE_CSV})),
    )
    r.callback_query.register(import_pick, ImportCb.filter(F.action == ImportAction.PICK))
    r.callback_query.register(import_from_card, MeetCb.filter(F.action == MeetAction.IMPORT))
    r.callback_query.register(import_confirm, ImportCb.filter(F.action == ImportAction.CONFIRM))
    r.callback_query.register(import_discard, ImportCb.filter(F.action == ImportAction.DISCARD))
    # a file sent outside any form is taken as a plan: which meeting's is asked next
    r.message.register(
        import_document_first, StateFilter(None, ImportForm.target), Content("document")
    )
    r.message.register(
        import_document, StateFilter(ImportForm.file, ImportForm.confirm), Content("document")
    )
    r.message.register(import_unexpected, StateFilter(ImportForm))
    return r


async def import_start(query: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    await _import_targets(query, session, state, 0)


async def import_targets_page(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await _import_targets(query, session, state, callback_data.page)


async def _import_targets(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, page: int
) -> None:
    pending = None
    if await state.get_state() == ImportForm.target.state:
        pending = (await state.get_data()).get("pending")  # a file sent before choosing
    await state.clear()
    await state.set_state(ImportForm.target)
    await state.set_data({"pending": pending})
    await show(query, *await _targets_view(session, page, pending))


async def _targets_view(
    session: AsyncSession, page: int, pending: dict[str, Any] | None
) -> tuple[str, InlineKeyboardMarkup]:
    _first, total = await list_meetings(session, None, 0, 1)
    page = clamp_page(page, total, MEETINGS_PER_PAGE)
    meetings, total = await list_meetings(session, None, page, MEETINGS_PER_PAGE)
    if pending:
        text = _("📥 I got the file «{name}». Which meeting's action plan is it?").format(
            name=html.quote(pending.get("name") or "—")
        )
    else:
        text = _(
            "📥 <b>Import an action plan</b>\n"
            "Choose the meeting the plan belongs to (or create it), then send the file: CSV, "
            "XLSX or JSON, up to 5 MB, with the columns of the report's table: number, problem "
            "issue, planned measures, deadline, responsible executor. The template has them."
        )
    return text, import_targets_keyboard(meetings, page, total, current_locale())


async def import_new_meeting(
    query: CallbackQuery, session: AsyncSession, state: FSMContext
) -> None:
    await start_meeting_form(query, session, state, then_import=True)


async def import_template(query: CallbackQuery, callback_data: ImportCb, bot: Bot) -> None:
    kind = FileKind.XLSX if callback_data.action is ImportAction.TEMPLATE_XLSX else FileKind.CSV
    name, content = template_file(kind, current_locale())
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(content, filename=name),
        caption=_(
            "The action plan template. One row per measure; for further measures of the same "
            "problem issue leave the number and the problem empty. Executors are department "
            "codes as in the report (УЭиВ, УО и УКС); deadlines as written («4 квартал 2022 "
            "года», «31.08.2022»)."
        ),
    )


async def import_pick(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if await state.get_state() != ImportForm.target.state:
        await state.set_data({})  # an old list: no file is waiting
    await begin_import(query, session, state, bot, user, meeting)


async def import_from_card(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    await state.set_data({})
    await begin_import(query, session, state, bot, user, meeting)


async def begin_import(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    user: User,
    meeting: Meeting,
) -> None:
    pending = (await state.get_data()).get("pending")
    await state.set_state(ImportForm.file)
    await state.set_data({"meeting_id": meeting.id})
    if not isinstance(query.message, Message):
        return
    if pending:
        await _process_file(query.message, session, state, bot, user, pending)
        return
    await send_below(
        query,
        _(
            "Meeting of {when}, {district}.\nNow send the action plan as a file (CSV, XLSX or "
            "JSON, up to 5 MB). /cancel to stop."
        ).format(
            when=fmt_datetime(meeting.starts_at, current_locale()),
            district=html.quote(meeting.district.name(current_locale())),
        ),
    )


def _file_info(document: Document) -> dict[str, Any]:
    return {
        "file_id": document.file_id,
        "name": document.file_name or "",
        "size": document.file_size,
        "mime": document.mime_type,
    }


async def import_document_first(message: Message, session: AsyncSession, state: FSMContext) -> None:
    """An admin sends a file outside any form: treat it as a plan and ask for the meeting."""
    assert message.document is not None
    info = _file_info(message.document)
    problem = _quick_file_problem(info)
    if problem is not None:
        await message.answer(_file_problem_text(PlanFileError(problem)))
        return
    await state.set_state(ImportForm.target)
    await state.set_data({"pending": info})
    text, markup = await _targets_view(session, 0, info)
    await message.answer(text, reply_markup=markup)


async def import_document(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    user: User,
) -> None:
    assert message.document is not None
    await state.set_state(ImportForm.file)  # a new file replaces a preview not yet confirmed
    await _process_file(message, session, state, bot, user, _file_info(message.document))


async def import_unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == ImportForm.target.state:
        await message.answer(_("Choose the meeting with the buttons above, or /cancel."))
        return
    await message.answer(
        _("Send the action plan as a file (CSV, XLSX or JSON, up to 5 MB), or /cancel to stop.")
    )


def _quick_file_problem(info: dict[str, Any]) -> FileProblem | None:
    """What can be told before downloading: the type and the size."""
    if detect_kind(info.get("name"), info.get("mime")) is None:
        return FileProblem.NOT_TABLE
    size = info.get("size")
    if size is not None and size > MAX_FILE_SIZE:
        return FileProblem.TOO_LARGE
    return None


def _file_problem_text(error: PlanFileError) -> str:
    text = _(FILE_PROBLEMS[error.problem])
    if error.problem is FileProblem.WRONG_COLUMNS:
        text = text.format(missing=", ".join(_(COLUMN_NAMES[c]) for c in error.missing) or "—")
    return text


async def _process_file(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    user: User,
    info: dict[str, Any],
) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        await message.answer(_("This meeting no longer exists."))
        return
    problem = _quick_file_problem(info)
    if problem is not None:
        await message.answer(_file_problem_text(PlanFileError(problem)) + "\n" + _(SEND_FILE_AGAIN))
        return
    # Reading a spreadsheet takes a while: in a thread, so other people's updates go on, while
    # the chat shows "typing…".
    async with ChatActionSender.typing(chat_id=message.chat.id, bot=bot):
        try:
            buffer = await bot.download(info["file_id"], destination=io.BytesIO())
        except TelegramBadRequest as exc:  # "file is too big" and the like
            logger.warning("Could not download an import file: %s", exc.message)
            await message.answer(
                _file_problem_text(PlanFileError(FileProblem.TOO_LARGE)) + "\n" + _(SEND_FILE_AGAIN)
            )
            return
        content = buffer.getvalue() if isinstance(buffer, io.BytesIO) else b""
        try:
            rows = await asyncio.to_thread(
                read_plan_file, info.get("name"), content, info.get("mime")
            )
        except PlanFileError as error:
            await message.answer(_file_problem_text(error) + "\n" + _(SEND_FILE_AGAIN))
            return
    plan = await _parse(session, meeting, rows)
    locale = current_locale()
    if not plan.problems:
        await message.answer(
            "\n".join([_("I found no measures I could import in this file."), *_error_lines(plan)])
            + "\n\n"
            + _(SEND_FILE_AGAIN)
        )
        return
    dry = await _dry_run(session, meeting.id, plan, user.id)
    if not dry.changed:
        await message.answer(
            "\n".join(
                [
                    _(
                        "✅ This plan is already imported for this meeting: nothing would "
                        "change ({count} measures are the same)."
                    ).format(count=dry.measures_unchanged),
                    *_error_lines(plan),
                ]
            )
        )
        return
    token = uuid.uuid4().hex[:12]
    await state.set_state(ImportForm.confirm)
    await state.update_data(
        token=token,
        rows=[[r.row_no, r.number, r.problem, r.measure, r.deadline, r.executors] for r in rows],
    )
    await message.answer(
        render_import_preview(meeting, plan, dry, locale),
        reply_markup=import_confirm_keyboard(token),
    )


async def _parse(session: AsyncSession, meeting: Meeting, rows: list[PlanRow]) -> ParsedPlan:
    departments = list((await session.execute(select(Department))).scalars())
    return parse_plan(rows, to_local(meeting.starts_at).date(), departments)


async def _dry_run(
    session: AsyncSession, meeting_id: int, plan: ParsedPlan, author_id: int
) -> ApplyResult:
    """What applying would do, measured inside a savepoint that is rolled back."""
    savepoint = await session.begin_nested()
    try:
        return await apply_plan(session, meeting_id, plan, author_id=author_id)
    finally:
        await savepoint.rollback()


def _error_lines(plan: ParsedPlan) -> list[str]:
    if not plan.errors:
        return []
    lines = ["", _("<b>Rows I cannot read</b> (they will be left out):")]
    for error in plan.errors[:MAX_ERRORS_SHOWN]:
        lines.append(
            _("Row {row}: {reason}").format(row=error.row_no, reason=_(ROW_PROBLEMS[error.problem]))
        )
    if len(plan.errors) > MAX_ERRORS_SHOWN:
        lines.append(_("…and {count} more.").format(count=len(plan.errors) - MAX_ERRORS_SHOWN))
    return lines


def render_import_preview(meeting: Meeting, plan: ParsedPlan, dry: ApplyResult, locale: str) -> str:
    head = [
        _("📥 <b>Action plan preview</b>: meeting of {when}, {district}").format(
            when=fmt_datetime(meeting.starts_at, locale),
            district=html.quote(meeting.district.name(locale)),
        ),
        _("Problem issues: {problems}; measures: {measures}.").format(
            problems=len(plan.problems), measures=len(plan.measures)
        ),
        _(
            "New: {new_problems} problem issues, {new_measures} measures; changed measures: "
            "{updated}; unchanged: {unchanged}."
        ).format(
            new_problems=dry.problems_created,
            new_measures=dry.measures_created,
            updated=dry.measures_updated,
            unchanged=dry.measures_unchanged,
        ),
        "",
    ]
    body: list[str] = []
    undated: list[str] = []
    unreadable: list[str] = []
    for problem in plan.problems:
        body.append(f"<b>{problem.number}. {html.quote(_short(problem.title, 120))}</b>")
        for measure in problem.measures:
            if measure.due_date is not None:
                due = fmt_date(measure.due_date, locale, "medium")
            else:
                due = _("no date")
                if measure.deadline_text:
                    line = _("Row {row}: «{text}»").format(
                        row=measure.row_no, text=html.quote(_short(measure.deadline_text, 80))
                    )
                    (unreadable if measure.deadline_unreadable else undated).append(line)
            codes = ", ".join(html.quote(c) for c in measure.executor_codes)
            body.append(f"  • {html.quote(_short(measure.text, 70))} — {due} · {codes}")
    tail: list[str] = []
    if plan.unknown_codes:
        tail += [
            "",
            _("<b>Unknown executor codes</b> (saved without a department): {codes}").format(
                codes=html.quote(", ".join(plan.unknown_codes))
            ),
        ]
    if unreadable:
        tail += [
            "",
            _(
                "⚠️ <b>A quarter, half-year or month I could not read</b>: these measures will "
                "get no due date (never a guessed one) and no deadline reminders. Correct the "
                "file and send it again:"
            ),
            *unreadable,
        ]
    if undated:
        tail += ["", _("<b>Deadlines I could not read</b> (kept as written, no date):"), *undated]
    tail += _error_lines(plan)
    tail += ["", _("Import it? Nothing changes until you confirm.")]
    budget = PREVIEW_LIMIT - len("\n".join(head + tail))
    shown: list[str] = []
    for index, line in enumerate(body):
        if len("\n".join([*shown, line])) > budget:
            shown.append(_("…and {count} more lines.").format(count=len(body) - index))
            break
        shown.append(line)
    return "\n".join(head + shown + tail)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


async def import_confirm(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != ImportForm.confirm.state
        or not callback_data.token
        or data.get("token") != callback_data.token
    ):
        refuse(
            callback_answer,
            _("This preview is no longer current: it was imported or replaced. Nothing changed."),
        )
        return
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        refuse(callback_answer, _("This meeting no longer exists."))
        return
    rows = [PlanRow(int(r[0]), *(str(v) for v in r[1:])) for r in data["rows"]]
    plan = await _parse(session, meeting, rows)
    result = await apply_plan(session, meeting.id, plan, author_id=user.id)
    await follower_news.plan_applied(
        session, i18n, meeting, meeting.district, result, local_today()
    )
    await session.commit()
    await state.clear()
    builder = Keyboard()
    builder.button(
        text=_("Open the meeting"), callback_data=MeetCb(action=MeetAction.OPEN, id=meeting.id)
    )
    await show(
        query,
        _(
            "✅ Imported: {problems} problem issues and {measures} measures added, {updated} "
            "measures updated (their history keeps the change), {unchanged} unchanged."
        ).format(
            problems=result.problems_created,
            measures=result.measures_created,
            updated=result.measures_updated,
            unchanged=result.measures_unchanged,
        ),
        builder.as_markup(),
    )


async def import_discard(query: CallbackQuery, state: FSMContext) -> None:
    if await state.get_state() == ImportForm.confirm.state:
        await state.set_state(ImportForm.file)
        await state.update_data(token=None, rows=None)
    await show(
        query,
        _("Discarded; nothing was imported. Send another file, or /cancel to stop."),
        None,
    )
