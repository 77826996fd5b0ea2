"""Reading an action-plan file (CSV, XLSX, JSON) into :class:`models.plans.PlanRow` objects.

The table has the report's layout: number / problem / measure / deadline / executors, where a
problem's further measures may leave number and problem empty. Headers are recognised in Russian
(``№``, ``Проблемный вопрос``, ``Планируемые меры``, ``Срок исполнения``, ``Ответственный
исполнитель``), Kazakh and English; a title above the header row is allowed. Anything that is
not such a table raises :class:`PlanFileError` with a :class:`FileProblem` the bot translates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from models.plans import PlanRow
from models.text import fold, strip_controls

MAX_FILE_SIZE = 5 * 1024 * 1024
HEADER_SEARCH_ROWS = 10
COLUMNS = ("number", "problem", "measure", "deadline", "executors")
REQUIRED_COLUMNS = ("problem", "measure", "deadline", "executors")


class FileKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


class FileProblem(StrEnum):
    NOT_TABLE = "not_table"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    WRONG_COLUMNS = "wrong_columns"
    BROKEN = "broken"
    ENCODING = "encoding"


@dataclass
class PlanFileError(Exception):
    problem: FileProblem
    missing: list[str] = field(default_factory=list)  # column keys, for WRONG_COLUMNS

    def __str__(self) -> str:
        if self.missing:
            return f"{self.problem}: missing {', '.join(self.missing)}"
        return str(self.problem)


# The template's headers per language; all of them (and the synonyms below) are recognised.
TEMPLATE_HEADERS: dict[str, tuple[str, ...]] = {
    "ru": (
        "№",
        "Проблемный вопрос",
        "Планируемые меры",
        "Срок исполнения",
        "Ответственный исполнитель",
    ),
    "kk": (
        "№",
        "Проблемалық мәселе",
        "Жоспарланған іс-шаралар",
        "Орындау мерзімі",
        "Жауапты орындаушы",
    ),
    "en": ("No.", "Problem issue", "Planned measures", "Deadline", "Responsible executor"),
}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": (
        "number", "no", "nr", "n", "num", "номер", "номер п п", "п п", "нөмір", "р с",
        "реттік нөмір",
    ),
    "problem": (
        "problem", "problem issue", "problem issues", "issue", "проблемный вопрос",
        "проблемные вопросы", "проблема", "вопрос", "проблемалық мәселе", "проблемалық мәселелер",
        "мәселе",
    ),
    "measure": (
        "measure", "measures", "planned measures", "planned measure", "планируемые меры",
        "планируемая мера", "меры", "мера", "мероприятие", "мероприятия",
        "жоспарланған шаралар", "жоспарланған шара", "шаралар", "шара", "іс шаралар",
        "жоспарланған іс шаралар", "іс шара", "планируемые мероприятия",
    ),
    "deadline": (
        "deadline", "due", "due date", "term", "срок исполнения", "срок", "сроки исполнения",
        "сроки", "орындау мерзімі", "мерзімі", "мерзім",
    ),
    "executors": (
        "executors", "executor", "responsible", "responsible executor", "responsible executors",
        "ответственный исполнитель", "ответственные исполнители", "исполнитель", "исполнители",
        "ответственный", "жауапты орындаушы", "жауапты орындаушылар", "орындаушы",
        "орындаушылар",
    ),
}  # fmt: skip


def _header_key(value: object) -> str:
    text = str(value or "").replace("№", " number ")
    return fold(text)


_HEADER_INDEX: dict[str, str] = {}
for _column, _names in _SYNONYMS.items():
    for _name in _names:
        _HEADER_INDEX[_header_key(_name)] = _column
for _headers in TEMPLATE_HEADERS.values():
    for _column, _name in zip(COLUMNS, _headers, strict=True):
        _HEADER_INDEX[_header_key(_name)] = _column


def column_for(header: object) -> str | None:
    """``'Срок исполнения'`` → ``'deadline'``; None for an unknown header."""
    key = _header_key(header)
    if key in {"number", "number п п", "number p p"}:
        return "number"
    return _HEADER_INDEX.get(key)


def detect_kind(file_name: str | None, mime_type: str | None = None) -> FileKind | None:
    """The table format by extension (then MIME type); None when it is not a supported table."""
    suffix = PurePath(file_name or "").suffix.lower()
    by_suffix = {
        ".csv": FileKind.CSV,
        ".txt": FileKind.CSV,
        ".xlsx": FileKind.XLSX,
        ".xlsm": FileKind.XLSX,
        ".json": FileKind.JSON,
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    if suffix:
        return None
    mime = (mime_type or "").lower()
    if mime in {"text/csv", "text/comma-separated-values"}:
        return FileKind.CSV
    if mime == "application/json":
        return FileKind.JSON
    if mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        return FileKind.XLSX
    return None


def read_plan_file(
    file_name: str | None, data: bytes, mime_type: str | None = None
) -> list[PlanRow]:
    """Rows of the plan in the file; raises :class:`PlanFileError` for anything unusable."""
    kind = detect_kind(file_name, mime_type)
    if kind is None:
        raise PlanFileError(FileProblem.NOT_TABLE)
    if len(data) > MAX_FILE_SIZE:
        raise PlanFileError(FileProblem.TOO_LARGE)
    if not data.strip():
        raise PlanFileError(FileProblem.EMPTY)
    if kind is FileKind.CSV:
        return _rows_from_table(_read_csv(data))
    if kind is FileKind.XLSX:
        return _rows_from_table(_read_xlsx(data))
    return _read_json(data)


def _read_csv(data: bytes) -> list[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PlanFileError(FileProblem.ENCODING) from None
    if "\x00" in text:
        raise PlanFileError(FileProblem.ENCODING)
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ";,\t"}
        delimiter = max(counts, key=lambda d: counts[d])
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [(i, list(row)) for i, row in enumerate(reader, start=1)]
    except csv.Error:
        raise PlanFileError(FileProblem.BROKEN) from None


def _read_xlsx(data: bytes) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        raise PlanFileError(FileProblem.BROKEN) from None
    try:
        if not workbook.worksheets:
            raise PlanFileError(FileProblem.EMPTY)
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[object]]] = []
        try:
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                rows.append((index, [_cell(v) for v in values]))
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
            raise PlanFileError(FileProblem.BROKEN) from None
        return rows
    finally:
        workbook.close()


def _cell(value: object) -> object:
    """Spreadsheet dates become ``dd.mm.yyyy`` so the deadline parser reads them."""
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _text(value: object) -> str:
    """A cell as text, without control characters (a NUL cannot be stored on PostgreSQL)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return strip_controls(str(value))


def _find_header(rows: Sequence[tuple[int, list[object]]]) -> tuple[int, dict[str, int]]:
    """Position of the header row among ``rows`` and column key → cell index."""
    best: tuple[int, dict[str, int]] | None = None
    for position, (_row_no, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping: dict[str, int] = {}
        for index, cell in enumerate(cells):
            column = column_for(cell)
            if column is not None and column not in mapping:
                mapping[column] = index
        if best is None or len(mapping) > len(best[1]):
            best = (position, mapping)
        if all(c in mapping for c in REQUIRED_COLUMNS):
            return position, mapping
    missing = [c for c in REQUIRED_COLUMNS if best is None or c not in best[1]]
    raise PlanFileError(FileProblem.WRONG_COLUMNS, missing=missing)


def _rows_from_table(rows: list[tuple[int, list[object]]]) -> list[PlanRow]:
    rows = [(n, cells) for n, cells in rows if any(_text(c).strip() for c in cells)]
    if not rows:
        raise PlanFileError(FileProblem.EMPTY)
    position, mapping = _find_header(rows)
    result = []
    for row_no, cells in rows[position + 1 :]:

        def get(column: str, cells: list[object] = cells) -> str:
            index = mapping.get(column)
            if index is None or index >= len(cells):
                return ""
            return _text(cells[index])

        result.append(
            PlanRow(
                row_no=row_no,
                number=get("number"),
                problem=get("problem"),
                measure=get("measure"),
                deadline=get("deadline"),
                executors=get("executors"),
            )
        )
    if not result:
        raise PlanFileError(FileProblem.EMPTY)
    return result


def _read_json(data: bytes) -> list[PlanRow]:
    try:
        parsed: Any = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise PlanFileError(FileProblem.ENCODING) from None
    except (json.JSONDecodeError, RecursionError):
        raise PlanFileError(FileProblem.BROKEN) from None
    if isinstance(parsed, dict):
        parsed = parsed.get("plan")
    if not isinstance(parsed, list):
        raise PlanFileError(FileProblem.WRONG_COLUMNS, missing=list(REQUIRED_COLUMNS))
    if not parsed:
        raise PlanFileError(FileProblem.EMPTY)
    if not all(isinstance(item, dict) for item in parsed):
        raise PlanFileError(FileProblem.WRONG_COLUMNS, missing=list(REQUIRED_COLUMNS))
    seen: set[str] = set()
    items: list[dict[str, str]] = []
    for item in parsed:
        mapped: dict[str, str] = {}
        for key, value in item.items():
            column = column_for(key)
            if column is not None and column not in mapped:
                mapped[column] = "" if value is None else _text(value)
        seen.update(mapped)
        items.append(mapped)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise PlanFileError(FileProblem.WRONG_COLUMNS, missing=missing)
    return [
        PlanRow(
            row_no=index,
            number=item.get("number", ""),
            problem=item.get("problem", ""),
            measure=item.get("measure", ""),
            deadline=item.get("deadline", ""),
            executors=item.get("executors", ""),
        )
        for index, item in enumerate(items, start=1)
    ]


# --- writing: the template and tables built from rows (the tests build their files this way) ---


def rows_to_csv(
    rows: Iterable[PlanRow], headers: Sequence[str] = TEMPLATE_HEADERS["ru"], delimiter: str = ";"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.number, row.problem, row.measure, row.deadline, row.executors])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rows_to_xlsx(rows: Iterable[PlanRow], headers: Sequence[str] = TEMPLATE_HEADERS["ru"]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        number: object = int(row.number) if row.number.isdigit() else row.number
        sheet.append([number, row.problem, row.measure, row.deadline, row.executors])
    for letter, width in zip("ABCDE", (6, 40, 70, 22, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_file(kind: FileKind, locale: str) -> tuple[str, bytes]:
    """An empty plan table with the headers in the admin's language: (file name, content)."""
    headers = TEMPLATE_HEADERS.get(locale, TEMPLATE_HEADERS["ru"])
    if kind is FileKind.XLSX:
        return "action-plan-template.xlsx", rows_to_xlsx([], headers)
    if kind is FileKind.CSV:
        return "action-plan-template.csv", rows_to_csv([], headers)
    raise ValueError(kind)
