"""Action plans: rows in the report's table layout → problem issues and measures.

Shared by the demo loader and the admin import. Reading a file (CSV, XLSX, JSON) into
:class:`PlanRow` objects belongs to the importer; here rows are validated, executors split and
resolved, deadlines parsed, and the plan applied idempotently to one meeting.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.deadlines import read_deadline
from models.entities import Department, Measure, MeasureDepartment, MeasureUpdate, ProblemIssue
from models.text import fold

MAX_MEASURE_TEXT = 3000
MAX_PROBLEM_TITLE = 1000
MAX_DEADLINE_TEXT = 500
MAX_PROBLEM_NUMBER = 9999  # above it: the promises stated at the meeting (models/spoken.py)

# Executors are separated by commas, semicolons, line breaks and the conjunction " и " between
# codes; the lowercase "и" inside a code (УЭиВ, УЗиСП) has no spaces around it and stays.
_EXECUTOR_SPLIT = re.compile(r"\s*(?:[,;\n]|\s+и\s+|\s+және\s+|\s+and\s+)\s*")


def split_executors(cell: str) -> list[str]:
    """``'УО и УКС'`` → ``['УО', 'УКС']``; duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for part in _EXECUTOR_SPLIT.split(cell.strip()):
        code = " ".join(part.split()).strip(" .")
        if code:
            seen.setdefault(code, None)
    return list(seen)


class RowProblem(StrEnum):
    NO_MEASURE = "no_measure"
    BAD_NUMBER = "bad_number"
    NO_PROBLEM = "no_problem"
    NUMBER_WITHOUT_TITLE = "number_without_title"
    TOO_LONG = "too_long"
    NO_EXECUTORS = "no_executors"


@dataclass(frozen=True)
class PlanRow:
    """One table row as read from a file; ``row_no`` is the row as the user sees it."""

    row_no: int
    number: str
    problem: str
    measure: str
    deadline: str
    executors: str


@dataclass(frozen=True)
class RowError:
    row_no: int
    problem: RowProblem


@dataclass
class ParsedMeasure:
    row_no: int
    position: int
    text: str
    deadline_text: str
    due_date: dt.date | None
    executor_codes: list[str]
    department_ids: list[int] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)
    # the deadline names a quarter, half-year or month that cannot be read (``V квартал 2023``):
    # no due date, and the preview warns
    deadline_unreadable: bool = False


@dataclass
class ParsedProblem:
    number: int
    title: str
    measures: list[ParsedMeasure] = field(default_factory=list)


@dataclass
class ParsedPlan:
    problems: list[ParsedProblem]
    errors: list[RowError]

    @property
    def measures(self) -> list[ParsedMeasure]:
        return [m for p in self.problems for m in p.measures]

    @property
    def unknown_codes(self) -> list[str]:
        seen: dict[str, None] = {}
        for measure in self.measures:
            for code in measure.unknown_codes:
                seen.setdefault(code, None)
        return list(seen)


def _clean(value: object) -> str:
    if value is None:
        return ""
    text = str(value).replace("\xa0", " ").strip()
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _number(value: str) -> int | None:
    cleaned = value.strip().rstrip(".")
    if cleaned.endswith(".0"):  # spreadsheets give 1.0 for 1
        cleaned = cleaned[:-2]
    return int(cleaned) if cleaned.isdigit() and 0 < int(cleaned) <= MAX_PROBLEM_NUMBER else None


def parse_plan(
    rows: Iterable[PlanRow], reference: dt.date | None, departments: Sequence[Department]
) -> ParsedPlan:
    """Group rows into problem issues; a row with empty number and problem continues the last."""
    index = department_index(departments)
    problems: dict[int, ParsedProblem] = {}
    errors: list[RowError] = []
    current: ParsedProblem | None = None
    for row in rows:
        number_text, title = _clean(row.number), _clean(row.problem)
        text, deadline, executors = _clean(row.measure), _clean(row.deadline), _clean(row.executors)
        if not any((number_text, title, text, deadline, executors)):
            continue  # blank separator rows are common in exported tables
        if number_text:
            number = _number(number_text)
            if number is None:
                errors.append(RowError(row.row_no, RowProblem.BAD_NUMBER))
                current = None
                continue
            if not title and number not in problems:
                errors.append(RowError(row.row_no, RowProblem.NUMBER_WITHOUT_TITLE))
                current = None
                continue
            current = problems.get(number)
            if current is None:
                current = problems[number] = ParsedProblem(number=number, title=title)
        elif title:  # a new problem issue with no number: number it after the last one
            number = max(problems, default=0) + 1
            if number > MAX_PROBLEM_NUMBER:
                errors.append(RowError(row.row_no, RowProblem.BAD_NUMBER))
                current = None
                continue
            current = problems[number] = ParsedProblem(number=number, title=title)
        if current is None:
            errors.append(RowError(row.row_no, RowProblem.NO_PROBLEM))
            continue
        if not text:
            errors.append(RowError(row.row_no, RowProblem.NO_MEASURE))
            continue
        if (
            len(text) > MAX_MEASURE_TEXT
            or len(current.title) > MAX_PROBLEM_TITLE
            or len(deadline) > MAX_DEADLINE_TEXT
        ):
            errors.append(RowError(row.row_no, RowProblem.TOO_LONG))
            continue
        codes = split_executors(executors)
        if not codes:
            errors.append(RowError(row.row_no, RowProblem.NO_EXECUTORS))
            continue
        reading = read_deadline(deadline, reference)
        measure = ParsedMeasure(
            row_no=row.row_no,
            position=len(current.measures) + 1,
            text=text,
            deadline_text=deadline,
            due_date=reading.date,
            executor_codes=codes,
            deadline_unreadable=reading.unreadable,
        )
        for code in codes:
            department_id = index.get(fold(code))
            if department_id is None:
                measure.unknown_codes.append(code)
            elif department_id not in measure.department_ids:
                measure.department_ids.append(department_id)
        current.measures.append(measure)
    ordered = [problems[n] for n in sorted(problems) if problems[n].measures]
    return ParsedPlan(problems=ordered, errors=errors)


def department_index(departments: Sequence[Department]) -> dict[str, int]:
    """Folded code, alias codes and full Russian name → department id."""
    index: dict[str, int] = {}
    for department in departments:
        keys = [department.code, department.name_ru, *department.alias_codes.splitlines()]
        for key in keys:
            if key.strip():
                index.setdefault(fold(key), department.id)
    return index


@dataclass(frozen=True)
class MeasureChange:
    """What a re-import changed in a measure: the old and new value of each changed field
    (the deadline as written and as a date, the text, the responsible departments' ids)."""

    measure_id: int
    old_text: str | None = None
    new_text: str | None = None
    old_deadline: tuple[str, dt.date | None] | None = None
    new_deadline: tuple[str, dt.date | None] | None = None
    old_departments: tuple[int, ...] | None = None
    new_departments: tuple[int, ...] | None = None

    @property
    def fields(self) -> list[str]:
        """The changed fields, as the history's "import" entry names them."""
        names = (("text", self.new_text), ("deadline", self.new_deadline))
        found = [name for name, value in names if value is not None]
        if self.new_departments is not None:
            found.append("executors")
        return found


@dataclass
class ApplyResult:
    problems_created: int = 0
    measures_created: int = 0
    measures_updated: int = 0
    measures_unchanged: int = 0
    changes: list[MeasureChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.problems_created or self.measures_created or self.measures_updated)


async def apply_plan(
    session: AsyncSession, meeting_id: int, plan: ParsedPlan, *, author_id: int | None = None
) -> ApplyResult:
    """Create or update the meeting's problem issues and measures (matched by number and
    position). Unchanged rows are left alone, so applying the same plan twice changes nothing;
    a changed measure keeps its status and history and gets an "import" entry in it."""
    result = ApplyResult()
    existing_problems = {
        p.number: p
        for p in (
            await session.execute(select(ProblemIssue).where(ProblemIssue.meeting_id == meeting_id))
        ).scalars()
    }
    problem_ids = [p.id for p in existing_problems.values()]
    existing_measures: dict[tuple[int, int], Measure] = {}
    existing_departments: dict[int, list[int]] = {}
    if problem_ids:
        for measure in (
            await session.execute(select(Measure).where(Measure.problem_id.in_(problem_ids)))
        ).scalars():
            existing_measures[(measure.problem_id, measure.position)] = measure
        links = await session.execute(
            select(MeasureDepartment)
            .where(MeasureDepartment.measure_id.in_([m.id for m in existing_measures.values()]))
            .order_by(MeasureDepartment.position)
        )
        for link in links.scalars():
            existing_departments.setdefault(link.measure_id, []).append(link.department_id)

    for parsed in plan.problems:
        problem = existing_problems.get(parsed.number)
        if problem is None:
            problem = ProblemIssue(meeting_id=meeting_id, number=parsed.number, title=parsed.title)
            session.add(problem)
            await session.flush()
            result.problems_created += 1
        elif parsed.title and problem.title != parsed.title:
            problem.title = parsed.title
        for pm in parsed.measures:
            found = existing_measures.get((problem.id, pm.position))
            if found is None:
                measure = Measure(
                    problem_id=problem.id,
                    position=pm.position,
                    text=pm.text,
                    deadline_text=pm.deadline_text,
                    due_date=pm.due_date,
                )
                session.add(measure)
                await session.flush()
                _link_departments(session, measure.id, pm.department_ids)
                result.measures_created += 1
                continue
            measure = found
            change = MeasureChange(measure.id)
            if measure.text != pm.text:
                change = replace(change, old_text=measure.text, new_text=pm.text)
                measure.text = pm.text
            if measure.deadline_text != pm.deadline_text or measure.due_date != pm.due_date:
                change = replace(
                    change,
                    old_deadline=(measure.deadline_text, measure.due_date),
                    new_deadline=(pm.deadline_text, pm.due_date),
                )
                measure.deadline_text, measure.due_date = pm.deadline_text, pm.due_date
            old_departments = existing_departments.get(measure.id, [])
            if old_departments != pm.department_ids:
                change = replace(
                    change,
                    old_departments=tuple(old_departments),
                    new_departments=tuple(pm.department_ids),
                )
                for link in (
                    await session.execute(
                        select(MeasureDepartment).where(MeasureDepartment.measure_id == measure.id)
                    )
                ).scalars():
                    await session.delete(link)
                await session.flush()
                _link_departments(session, measure.id, pm.department_ids)
            if change.fields:
                session.add(
                    MeasureUpdate(
                        measure_id=measure.id,
                        author_id=author_id,
                        kind="import",
                        comment=",".join(change.fields),
                    )
                )
                result.measures_updated += 1
                result.changes.append(change)
            else:
                result.measures_unchanged += 1
    await session.flush()
    return result


def _link_departments(session: AsyncSession, measure_id: int, department_ids: list[int]) -> None:
    for position, department_id in enumerate(department_ids):
        session.add(
            MeasureDepartment(measure_id=measure_id, department_id=department_id, position=position)
        )
