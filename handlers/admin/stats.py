"""Statistics (text and chart) and exports (XLSX, CSV) of a meeting, a district or a period."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from html import unescape

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.charts import category_bar_chart
from bot.filters import PlainText
from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.reports import (
    ExportCb,
    Factory,
    ReportAction,
    StatsCb,
    cancel_keyboard,
    districts_keyboard,
    format_keyboard,
    meetings_keyboard,
    report_keyboard,
    scope_menu_keyboard,
)
from bot.labels import status_label
from bot.replies import refuse, show
from models import exports
from models.clock import local_today
from models.entities import District, MeasureStatus, Meeting, QuestionStatus
from models.moderation import districts_by_id, recent_meetings
from models.stats import (
    MEASURE_ORDER,
    CategoryRow,
    Report,
    Scope,
    ScopeKind,
    build_report,
    format_count,
    format_days,
    format_percent,
)
from models.users import list_districts

MAX_MESSAGE = 4096
DATE = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})|(\d{4})-(\d{1,2})-(\d{1,2})")


class ReportForm(StatesGroup):
    period = State()


def router() -> Router:
    """Each screen serves statistics and exports alike: its handler is registered for both
    factories' buttons."""
    r = Router(name=__name__)
    r.message.register(stats_command, Command("stats"), StateFilter(None))
    r.message.register(export_command, Command("export"), StateFilter(None))
    r.message.register(receive_dates, StateFilter(ReportForm.period), PlainText())
    r.message.register(dates_fallback, StateFilter(ReportForm.period))
    r.callback_query.register(
        open_section, AdminCb.filter(F.section.in_({AdminSection.STATS, AdminSection.EXPORT}))
    )
    for factory in (StatsCb, ExportCb):
        r.callback_query.register(scope_menu, factory.filter(F.action == ReportAction.MENU))
        r.callback_query.register(choose_meeting, factory.filter(F.action == ReportAction.MEETINGS))
        r.callback_query.register(
            choose_district, factory.filter(F.action == ReportAction.DISTRICTS)
        )
        r.callback_query.register(ask_dates, factory.filter(F.action == ReportAction.DATES))
    r.callback_query.register(show_stats, StatsCb.filter(F.action == ReportAction.SHOW))
    r.callback_query.register(send_chart, StatsCb.filter(F.action == ReportAction.CHART))
    r.callback_query.register(choose_format, ExportCb.filter(F.action == ReportAction.SHOW))
    r.callback_query.register(
        send_export, ExportCb.filter(F.action.in_({ReportAction.XLSX, ReportAction.CSV}))
    )
    return r


def _factory(is_export: bool) -> Factory:
    return ExportCb if is_export else StatsCb


def menu_text(is_export: bool) -> str:
    if is_export:
        return _(
            "⬇️ <b>Export</b>\nQuestions and measures as XLSX or CSV files. Which ones: a "
            "meeting, a district or a period?"
        )
    return _("📊 <b>Statistics</b>\nFor a meeting, a district or a period?")


# --- entry points ----------------------------------------------------------------------------


async def stats_command(message: Message) -> None:
    await message.answer(menu_text(False), reply_markup=scope_menu_keyboard(StatsCb))


async def export_command(message: Message) -> None:
    await message.answer(menu_text(True), reply_markup=scope_menu_keyboard(ExportCb))


async def open_section(query: CallbackQuery, callback_data: AdminCb, state: FSMContext) -> None:
    await _leave_form(state)
    is_export = callback_data.section == AdminSection.EXPORT
    await show(query, menu_text(is_export), scope_menu_keyboard(_factory(is_export)))


async def _leave_form(state: FSMContext) -> None:
    if await state.get_state() == ReportForm.period.state:
        await state.clear()


# --- choosing the scope ----------------------------------------------------------------------


async def scope_menu(
    query: CallbackQuery, callback_data: StatsCb | ExportCb, state: FSMContext
) -> None:
    await _leave_form(state)
    is_export = isinstance(callback_data, ExportCb)
    await show(query, menu_text(is_export), scope_menu_keyboard(_factory(is_export)))


async def choose_meeting(
    query: CallbackQuery,
    callback_data: StatsCb | ExportCb,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await _leave_form(state)
    meetings = await recent_meetings(session, limit=10)
    districts = await districts_by_id(session)
    text = _("Which meeting?") if meetings else _("There are no meetings yet.")
    factory = _factory(isinstance(callback_data, ExportCb))
    await show(query, text, meetings_keyboard(factory, meetings, districts, current_locale()))


async def choose_district(
    query: CallbackQuery,
    callback_data: StatsCb | ExportCb,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await _leave_form(state)
    factory = _factory(isinstance(callback_data, ExportCb))
    await show(
        query,
        _("Which district?"),
        districts_keyboard(factory, await list_districts(session), current_locale()),
    )


async def ask_dates(
    query: CallbackQuery, callback_data: StatsCb | ExportCb, state: FSMContext
) -> None:
    is_export = isinstance(callback_data, ExportCb)
    await state.set_state(ReportForm.period)
    await state.set_data({"export": is_export})
    await show(query, dates_prompt(), cancel_keyboard(_factory(is_export)))


def dates_prompt() -> str:
    return _(
        "Send the period as two dates, first and last day included, for example "
        "<code>01.01.2022 – 31.12.2022</code>."
    )


def parse_period(text: str) -> tuple[dt.date, dt.date] | None:
    days: list[dt.date] = []
    for match in DATE.finditer(text):
        if match.group(1):
            day, month, year = match.group(1), match.group(2), match.group(3)
        else:
            year, month, day = match.group(4), match.group(5), match.group(6)
        try:
            days.append(dt.date(int(year), int(month), int(day)))
        except ValueError:
            return None
    if len(days) != 2:
        return None
    return days[0], days[1]


async def receive_dates(
    message: Message, session: AsyncSession, i18n: I18n, state: FSMContext
) -> None:
    period = parse_period(message.text or "")
    if period is None:
        await message.answer(_("I could not read two dates there.") + "\n" + dates_prompt())
        return
    start, end = period
    if start > end:
        await message.answer(
            _("The first date is after the second one. Please send the period again.")
        )
        return
    data = await state.get_data()
    await state.clear()
    scope = Scope(ScopeKind.PERIOD, start=start, end=end)
    if data.get("export"):
        title = await scope_title(session, scope, current_locale())
        await message.answer(format_text(title), reply_markup=format_keyboard(scope))
        return
    text = await render_report(session, scope, i18n, local_today())
    await message.answer(text, reply_markup=report_keyboard(scope))


async def dates_fallback(message: Message) -> None:
    await message.answer(dates_prompt())


def resolve_scope(callback_data: StatsCb | ExportCb, today: dt.date) -> Scope | None:
    scope = Scope.resolve(
        callback_data.kind, today, callback_data.id, callback_data.start, callback_data.end
    )
    if scope.kind == ScopeKind.PERIOD and (
        scope.start is None or scope.end is None or scope.start > scope.end
    ):
        return None
    return scope


async def scope_title(session: AsyncSession, scope: Scope, locale: str) -> str | None:
    """The scope in words (escaped), or None when its meeting or district no longer exists."""
    if scope.kind == ScopeKind.MEETING:
        meeting = await session.get(Meeting, scope.id)
        if meeting is None:
            return None
        district = await session.get(District, meeting.district_id)
        return _("meeting of {date}, {district}").format(
            date=fmt_datetime(meeting.starts_at, locale),
            district=html.quote(district.name(locale) if district else ""),
        )
    if scope.kind == ScopeKind.DISTRICT:
        found = await session.get(District, scope.id)
        return html.quote(found.name(locale)) if found is not None else None
    if scope.kind == ScopeKind.ALL:
        return _("all time")
    assert scope.start is not None and scope.end is not None
    period = _("{start} – {end}").format(
        start=fmt_date(scope.start, locale, "medium"), end=fmt_date(scope.end, locale, "medium")
    )
    if scope.kind == ScopeKind.QUARTER:
        return _("this quarter ({period})").format(period=period)
    if scope.kind == ScopeKind.YEAR:
        return _("this year ({period})").format(period=period)
    return period


def stale(callback_answer: CallbackAnswer) -> None:
    refuse(callback_answer, _("This button is out of date. Please choose again."))


# --- statistics ------------------------------------------------------------------------------


def _days(value: float | None, locale: str) -> str:
    return "—" if value is None else format_days(value, locale)


def render_lines(
    report: Report, title: str, locale: str, i18n: I18n
) -> tuple[list[str], list[str]]:
    """The report as (main lines, department lines): departments are cut first if too long."""
    lines = [_("📊 <b>Statistics: {scope}</b>").format(scope=title), ""]
    s = report.statuses
    if report.published:
        # The akimat's published classification first, labelled as such; the questions sent
        # through the bot follow under their own heading when there are any (never added up).
        lines.append(
            _(
                "<b>Questions by category, as published after the meeting</b> (classified: {total})"
            ).format(total=format_count(report.published_total, locale))
        )
        lines += _category_lines(report.published, locale)
        if not s:
            lines += ["", _("No questions were sent through the bot for this meeting.")]
        else:
            lines += [
                "",
                _(
                    "<b>Questions by category, sent through the bot</b> (classified: {total})"
                ).format(total=format_count(report.classified, locale)),
            ]
    else:
        lines.append(
            _("<b>Questions by category</b> (classified: {total})").format(total=report.classified)
        )
    if s or not report.published:
        if report.classified:
            lines += _category_lines(report.categories, locale)
        else:
            lines.append(_("No classified questions yet."))
        _outcome_lines(lines, s, report.classified)
    _published_outcome_lines(lines, report)
    return _measure_and_department_lines(lines, report, locale, i18n)


def _category_lines(rows: list[CategoryRow], locale: str) -> list[str]:
    return [
        "• "
        + _("{category} – {count} ({percent})").format(
            category=html.quote(report_name(row.category.name(locale), locale)),
            count=format_count(row.count, locale),
            percent=format_percent(row.percent, locale),
        )
        for row in rows
        if row.count
    ]


def _outcome_lines(lines: list[str], s: Counter[str], classified: int) -> None:
    lines += [
        "",
        _("<b>Questions by outcome</b>"),
        _(
            "Raised: {raised}; answered at the meeting: {answered}; done: {done}; in work: "
            "{in_work}; accepted, waiting: {accepted}."
        ).format(
            raised=classified,
            answered=s[QuestionStatus.ANSWERED_AT_MEETING],
            done=s[QuestionStatus.DONE],
            in_work=s[QuestionStatus.IN_WORK],
            accepted=s[QuestionStatus.ACCEPTED],
        ),
        _(
            "Awaiting moderation: {pending}; rejected: {rejected}; merged duplicates: {merged}."
        ).format(
            pending=s[QuestionStatus.SUBMITTED],
            rejected=s[QuestionStatus.REJECTED],
            merged=s[QuestionStatus.MERGED],
        ),
    ]


def _published_outcome_lines(lines: list[str], report: Report) -> None:
    meeting = report.meeting
    if meeting is not None and meeting.questions_raised is not None:
        lines += [
            "",
            _("<b>Published after the meeting</b>"),
            _(
                "Participants: {participants}; spoke: {speakers}; questions raised: {raised}; "
                "answered at the meeting: {answered}; done: {done}; in work: {in_work}."
            ).format(
                participants=_figure(meeting.participants),
                speakers=_figure(meeting.speakers),
                raised=_figure(meeting.questions_raised),
                answered=_figure(meeting.answered_at_meeting),
                done=_figure(meeting.questions_done),
                in_work=_figure(meeting.questions_in_work),
            ),
        ]


def _measure_and_department_lines(
    lines: list[str], report: Report, locale: str, i18n: I18n
) -> tuple[list[str], list[str]]:
    lines += [
        "",
        _("<b>Measures by status</b> (total: {total})").format(total=report.measures_total),
    ]
    if report.measures_total:
        lines.append(_status_counts(report.measures, i18n))
    if report.spoken_total:
        lines.append(
            _(
                "<b>🗣 Stated at the meetings, not in the published plans</b> (total: {total})"
            ).format(total=report.spoken_total)
        )
        lines.append(_status_counts(report.spoken, i18n))
    departments: list[str] = []
    if report.departments:
        lines += ["", _("<b>Departments: timeliness</b>")]
        for dept in report.departments:
            parts = [f"• <b>{html.quote(dept.department.short(locale))}</b>"]
            if dept.measures:
                parts.append(
                    _(
                        "measures {total}: closed on time {on_time}, late {late}, overdue now "
                        "{overdue}; median days late {days}"
                    ).format(
                        total=dept.measures,
                        on_time=dept.closed_on_time,
                        late=dept.closed_late,
                        overdue=dept.overdue_now,
                        days=_days(dept.median_days_late, locale),
                    )
                )
            if dept.questions:
                parts.append(
                    _(
                        "questions {total}: answered {answered}, median answer time {days} days"
                    ).format(
                        total=dept.questions,
                        answered=dept.answered,
                        days=_days(dept.median_answer_days, locale),
                    )
                )
            departments.append(parts[0] + ": " + "; ".join(parts[1:]))
    return lines, departments


def _status_counts(counts: Counter[str], i18n: I18n) -> str:
    return "; ".join(
        f"{status_label(i18n, status)}: {counts[status]}"
        for status in MEASURE_ORDER
        if counts[status] or status != MeasureStatus.CANCELLED
    )


def report_name(name: str, locale: str) -> str:
    """Category names as the akimat's reports write them mid-sentence: ``жилищные отношения``."""
    if locale in {"ru", "kk"} and name[:1].isupper() and not name[1:2].isupper():
        return name[:1].lower() + name[1:]
    return name


def _figure(value: int | None) -> str:
    return "—" if value is None else str(value)


def fit_message(lines: list[str], departments: list[str]) -> str:
    """Everything if it fits in one message; otherwise as many departments as fit."""
    text = "\n".join(lines + departments)
    if len(text) <= MAX_MESSAGE:
        return text
    kept: list[str] = []
    for index, line in enumerate(departments):
        more = _("… and {count} more departments: see the export.").format(
            count=len(departments) - index
        )
        if len("\n".join([*lines, *kept, line, more])) > MAX_MESSAGE:
            return "\n".join([*lines, *kept, more])
        kept.append(line)
    return "\n".join(lines + kept)


async def render_report(session: AsyncSession, scope: Scope, i18n: I18n, today: dt.date) -> str:
    locale = current_locale()
    title = await scope_title(session, scope, locale) or ""
    report = await build_report(session, scope, today)
    lines, departments = render_lines(report, title, locale, i18n)
    return fit_message(lines, departments)


async def show_stats(
    query: CallbackQuery,
    callback_data: StatsCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await _leave_form(state)
    scope = resolve_scope(callback_data, local_today())
    if scope is None or await scope_title(session, scope, current_locale()) is None:
        stale(callback_answer)
        return
    text = await render_report(session, scope, i18n, local_today())
    await show(query, text, report_keyboard(scope))


async def send_chart(
    query: CallbackQuery,
    callback_data: StatsCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await _leave_form(state)
    locale = current_locale()
    today = local_today()
    scope = resolve_scope(callback_data, today)
    title = await scope_title(session, scope, locale) if scope is not None else None
    if scope is None or title is None or query.bot is None:
        stale(callback_answer)
        return
    report = await build_report(session, scope, today)
    # The questions counted in the bot; a meeting without any charts its published figures.
    rows = report.categories if report.classified else report.published
    if not rows:
        refuse(callback_answer, _("There are no classified questions to chart."))
        return
    if report.classified:
        heading = _("Questions by category: {scope}").format(scope=title)
        caption = _("📊 Questions by category: {scope}").format(scope=title)
    else:
        heading = _("Questions by category, as published: {scope}").format(scope=title)
        caption = _("📊 Questions by category, as published: {scope}").format(scope=title)
    async with ChatActionSender.upload_photo(chat_id=query.from_user.id, bot=query.bot):
        png = await asyncio.to_thread(
            category_bar_chart,
            [row.category.name(locale) for row in rows],
            [row.count for row in rows],
            [
                f"{format_count(row.count, locale)} ({format_percent(row.percent, locale)})"
                for row in rows
            ],
            unescape(heading),
            _("Number of questions"),
        )
        await query.bot.send_photo(
            query.from_user.id,
            BufferedInputFile(png, filename="questions-by-category.png"),
            caption=caption[:1000],
        )


# --- exports ---------------------------------------------------------------------------------


def format_text(title: str | None) -> str:
    return _("⬇️ Export: {scope}\nChoose the file format:").format(scope=title or "")


async def choose_format(
    query: CallbackQuery,
    callback_data: ExportCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await _leave_form(state)
    scope = resolve_scope(callback_data, local_today())
    title = await scope_title(session, scope, current_locale()) if scope else None
    if scope is None or title is None:
        stale(callback_answer)
        return
    text = format_text(title)
    message = query.message
    from_report = isinstance(message, Message) and (message.text or "").startswith("📊")
    if from_report and query.bot is not None:
        # From a statistics message keep the report; answer below it.
        await query.bot.send_message(query.from_user.id, text, reply_markup=format_keyboard(scope))
        return
    await show(query, text, format_keyboard(scope))


async def send_export(
    query: CallbackQuery,
    callback_data: ExportCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await _leave_form(state)
    locale = current_locale()
    today = local_today()
    scope = resolve_scope(callback_data, today)
    title = await scope_title(session, scope, locale) if scope else None
    if scope is None or title is None or query.bot is None:
        stale(callback_answer)
        return
    questions = await exports.question_table(session, scope, i18n, locale)
    measures = await exports.measure_table(session, scope, i18n, locale, today)
    if not questions.rows and not measures.rows:
        refuse(callback_answer, _("Nothing to export: no questions or measures there."))
        return
    slug = await exports.scope_slug(session, scope)
    caption = _("⬇️ {scope}: questions {questions}, measures {measures}.").format(
        scope=title, questions=len(questions.rows), measures=len(measures.rows)
    )[:1000]
    chat_id = query.from_user.id
    # The files are built in a thread (a big export takes seconds), the chat showing "sending a
    # file…" meanwhile.
    async with ChatActionSender.upload_document(chat_id=chat_id, bot=query.bot):
        if callback_data.action == ReportAction.XLSX:
            data = await asyncio.to_thread(exports.to_xlsx, [questions, measures])
            await query.bot.send_document(
                chat_id, BufferedInputFile(data, filename=f"kezdesu-{slug}.xlsx"), caption=caption
            )
            return
        questions_csv = await asyncio.to_thread(exports.to_csv, questions)
        measures_csv = await asyncio.to_thread(exports.to_csv, measures)
        await query.bot.send_document(
            chat_id,
            BufferedInputFile(questions_csv, filename=f"kezdesu-questions-{slug}.csv"),
            caption=caption,
        )
        await query.bot.send_document(
            chat_id, BufferedInputFile(measures_csv, filename=f"kezdesu-measures-{slug}.csv")
        )
