"""Exports of questions and measures (XLSX and CSV) with headers in the admin's language.

Dates are shown in Asia/Almaty. No Telegram id ever goes into a file; an author's name only when
they chose to show it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.clock import ALMATY
from models.entities import (
    Category,
    Department,
    District,
    Measure,
    MeasureSource,
    Meeting,
    ProblemIssue,
    Question,
    QuestionSource,
)
from models.stats import Scope, ScopeKind, measure_condition, question_condition
from models.statuses import MEASURE_LABELS, QUESTION_LABELS, effective_status
from models.translation import N_, Translator

QUESTION_COLUMNS: tuple[str, ...] = (
    N_("Reference"),
    N_("Received"),
    N_("District"),
    N_("Meeting"),
    N_("Category"),
    N_("Question"),
    N_("Address"),
    N_("Latitude"),
    N_("Longitude"),
    N_("Author"),
    N_("Source"),
    N_("Status"),
    N_("Supporters"),
    N_("Department"),
    N_("Answer"),
    N_("Answered"),
    N_("Rejection reason"),
    N_("Merged into"),
)
MEASURE_COLUMNS: tuple[str, ...] = (
    N_("Meeting"),
    N_("District"),
    N_("Problem No."),
    N_("Problem issue"),
    N_("Measure No."),
    N_("Measure"),
    N_("Deadline as written"),
    N_("Due date"),
    N_("Status"),
    N_("Progress, %"),
    N_("Responsible"),
    N_("Closed"),
    N_("Last change"),
    N_("Source"),
)
SOURCE_LABELS: dict[str, str] = {
    QuestionSource.BOT: N_("Telegram bot"),
    QuestionSource.ORAL: N_("oral"),
}
MEASURE_SOURCES: dict[str, str] = {
    MeasureSource.PLAN: N_("published plan"),
    MeasureSource.SPOKEN: N_("stated at the meeting, not in the published plan"),
}
QUESTIONS_SHEET = N_("Questions")
MEASURES_SHEET = N_("Measures")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


async def question_table(
    session: AsyncSession, scope: Scope, i18n: Translator, locale: str, tz: ZoneInfo = ALMATY
) -> Table:
    questions = list(
        (
            await session.execute(
                select(Question)
                .where(question_condition(scope))
                .order_by(Question.created_at, Question.id)
            )
        ).scalars()
    )
    categories = {c.id: c for c in (await session.execute(select(Category))).scalars()}
    districts = {d.id: d for d in (await session.execute(select(District))).scalars()}
    departments = {d.id: d for d in (await session.execute(select(Department))).scalars()}
    meeting_ids = {q.meeting_id for q in questions if q.meeting_id is not None}
    meetings: dict[int, Meeting] = {}
    if meeting_ids:
        result = await session.execute(select(Meeting).where(Meeting.id.in_(meeting_ids)))
        meetings = {m.id: m for m in result.scalars()}
    merged_ids = {q.merged_into_id for q in questions if q.merged_into_id is not None}
    merged_refs: dict[int, str | None] = {}
    if merged_ids:
        refs = await session.execute(
            select(Question.id, Question.ref).where(Question.id.in_(merged_ids))
        )
        merged_refs = {row.id: row.ref for row in refs.all()}
    rows: list[list[Any]] = []
    for q in questions:
        meeting = meetings.get(q.meeting_id) if q.meeting_id is not None else None
        department = departments.get(q.department_id) if q.department_id is not None else None
        merged = ""
        if q.merged_into_id is not None:
            merged = merged_refs.get(q.merged_into_id) or f"#{q.merged_into_id}"
        source = SOURCE_LABELS.get(q.source)
        rows.append(
            [
                q.ref or f"#{q.id}",
                _local(q.created_at, tz),
                districts[q.district_id].short(locale),
                _local(meeting.starts_at, tz) if meeting is not None else None,
                categories[q.category_id].name(locale),
                q.text,
                q.address or "",
                q.latitude,
                q.longitude,
                (q.author_name or "") if q.show_name else "",
                i18n.gettext(source, locale=locale) if source else q.source,
                i18n.gettext(QUESTION_LABELS.get(q.status, q.status), locale=locale),
                q.supporters,
                department.short(locale) if department is not None else "",
                q.answer or "",
                _local(q.answered_at, tz),
                q.reject_reason or "",
                merged,
            ]
        )
    headers = [i18n.gettext(h, locale=locale) for h in QUESTION_COLUMNS]
    return Table(i18n.gettext(QUESTIONS_SHEET, locale=locale), headers, rows)


async def measure_table(
    session: AsyncSession,
    scope: Scope,
    i18n: Translator,
    locale: str,
    today: dt.date,
    tz: ZoneInfo = ALMATY,
) -> Table:
    result = await session.execute(
        select(Measure, ProblemIssue, Meeting)
        .join(ProblemIssue, Measure.problem_id == ProblemIssue.id)
        .join(Meeting, ProblemIssue.meeting_id == Meeting.id)
        .where(measure_condition(scope))
        .options(selectinload(Measure.departments))
        .order_by(Meeting.starts_at, Meeting.id, ProblemIssue.number, Measure.position)
    )
    districts = {d.id: d for d in (await session.execute(select(District))).scalars()}
    rows: list[list[Any]] = []
    for measure, problem, meeting in result.all():
        status = effective_status(measure.status, measure.due_date, today)
        spoken = measure.source == MeasureSource.SPOKEN
        source = MEASURE_SOURCES.get(measure.source, measure.source)
        rows.append(
            [
                _local(meeting.starts_at, tz),
                districts[meeting.district_id].short(locale),
                None if spoken else problem.number,
                "" if spoken else problem.title,
                measure.position,
                measure.text,
                measure.deadline_text,
                measure.due_date,
                i18n.gettext(MEASURE_LABELS.get(status, status), locale=locale),
                measure.progress,
                ", ".join(d.short(locale) for d in measure.departments),
                _local(measure.closed_at, tz),
                _local(measure.updated_at, tz),
                i18n.gettext(source, locale=locale),
            ]
        )
    headers = [i18n.gettext(h, locale=locale) for h in MEASURE_COLUMNS]
    return Table(i18n.gettext(MEASURES_SHEET, locale=locale), headers, rows)


def _sheet_title(title: str) -> str:
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    return title[:31] or "Sheet"


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One workbook, one sheet per table, with a bold frozen header row."""
    # openpyxl is imported by the first export, not when the bot starts.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    for sheet in list(workbook.worksheets):
        workbook.remove(sheet)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title))
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(table.headers, start=1):
            letter = get_column_letter(index)
            width = max([len(header)] + [len(_text(r[index - 1])) for r in table.rows[:200]])
            sheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark, so that Excel opens Cyrillic and Kazakh text correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_text(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


async def scope_slug(session: AsyncSession, scope: Scope, tz: ZoneInfo = ALMATY) -> str:
    """A file-name part: ``almaly-2022-06-23``, ``almaly``, ``2022-01-01_2022-12-31``, ``all``."""
    if scope.kind == ScopeKind.MEETING:
        meeting = await session.get(Meeting, scope.id)
        if meeting is not None:
            district = await session.get(District, meeting.district_id)
            slug = district.slug if district is not None else "meeting"
            return f"{slug}-{meeting.starts_at.astimezone(tz).date().isoformat()}"
        return "meeting"
    if scope.kind == ScopeKind.DISTRICT:
        district = await session.get(District, scope.id)
        return district.slug if district is not None else "district"
    if scope.start is not None and scope.end is not None:
        return f"{scope.start.isoformat()}_{scope.end.isoformat()}"
    return "all"
