"""The meeting's report and the progress report: the facts from the record, the DOCX read back
with python-docx, the PDF rendered with poppler (pdftoppm, pdftotext), and `kezdesu report`."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from docx import Document as read_docx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import documents
from bot.cli import main as cli_main
from bot.i18n import CatalogI18n
from models.entities import (
    Category,
    Department,
    District,
    Measure,
    MeasureStatus,
    MeasureUpdate,
    Meeting,
    MeetingStatus,
    Question,
    QuestionStatus,
)
from models.meeting_report import build_meeting_report, latest_held_meeting
from models.spoken import add_spoken_promise
from tests.test_demo import EXPECTED

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed" / "almaly-2022-06-23.txt"
SEED_SENTENCE = (
    "жилищные отношения – 8 (10,8%); благоустройство, санитарная очистка и экология – 18 "
    "(24,3%); земельных отношений – 2 (2,7%); предпринимательства – 9 (12,2%);  правопорядок – 8 "
    "(10,8%); социальная сфера – 8 (10,8%); трудоустройство – 2 (2,7%); ремонт и строительство "
    "объектов образования, здравоохранения, культуры и спорта – 4 (5,4%); ремонта и строительства "
    "автомобильных дорог – 7 (9,5%); другие – 8 (10,8%)"
)  # verbatim from the seed, its double space included
KAZAKH = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NEEDS_POPPLER = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="pdftoppm/pdftotext (Debian's poppler-utils) are not installed",
)


def _squash(text: str) -> str:
    return " ".join(text.split())


def seed_sentence() -> str:
    """The classification sentence of the seed (read from shared/ when it is there)."""
    if SEED.is_file():
        text = SEED.read_text(encoding="utf-8")
        found = re.search(r"следующим образом: (.*?)\.\n", text)
        assert found is not None
        return found.group(1)
    return SEED_SENTENCE


async def _report(session: AsyncSession, meeting_id: int, day: dt.date = dt.date(2022, 10, 1)):
    report = await build_meeting_report(session, meeting_id, day)
    assert report is not None
    return report


def _poppler(data: bytes, folder: Path) -> tuple[float, str]:
    """(the share of dark pixels on the PDF's first page as pdftoppm renders it, the text layer
    as pdftotext reads it)."""
    from PIL import Image

    pdf = folder / "report.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(folder / "page")],
        check=True,
    )
    (png,) = folder.glob("page*.png")
    with Image.open(png) as image:
        grey = image.convert("L")
        ink = sum(grey.histogram()[:128]) / (grey.width * grey.height)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return ink, text


def _docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    word = read_docx(io.BytesIO(data))
    paragraphs = [p.text for p in word.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in word.tables]
    return paragraphs, tables


def _vertical_merges(data: bytes, table_index: int = 0) -> list[list[str | None]]:
    """Per row of a table, per cell: ``restart``/``continue`` where the cell is merged down
    (the OOXML ``w:vMerge`` of each ``w:tc``), None where it is not."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ElementTree.fromstring(archive.read("word/document.xml"))
    table = root.findall(f".//{W}tbl")[table_index]
    rows = []
    for tr in table.findall(f"{W}tr"):
        marks: list[str | None] = []
        for tc in tr.findall(f"{W}tc"):
            merge = tc.find(f"{W}tcPr/{W}vMerge")
            marks.append(None if merge is None else merge.get(f"{W}val", "continue"))
        rows.append(marks)
    return rows


async def test_the_demo_report_as_docx_reproduces_the_seed(
    session: AsyncSession, demo: int, i18n: CatalogI18n
) -> None:
    report = await _report(session, demo)
    assert report.outcome == {
        "participants": 500,
        "speakers": 51,
        "questions_raised": 93,
        "answered_at_meeting": 45,
        "questions_done": 37,
        "questions_in_work": 11,
    }
    assert report.categories_published and report.classified == 74
    data = documents.render(
        documents.compose(report, documents.ReportKind.MEETING, i18n, "ru"),
        documents.DocFormat.DOCX,
    )
    paragraphs, tables = _docx_text(data)
    text = "\n".join(paragraphs)
    assert "Информация об итогах встречи акима с жителями" in text
    assert "Указом Президента Республики Казахстан от 3 марта 2022 года № 826" in text
    assert "Всего поднято вопросов – 93" in text and "Выступило – 51" in text
    assert "Дано разъяснение во время встречи – 45" in text
    assert "На сегодняшний день исполнено – 37" in text and "Остаются в работе – 11" in text
    assert "Модератор встречи: Балыкбаев Такир Оспанович" in text
    assert "https://www.youtube.com/watch?v=7Bc6S_wvZbk" in text
    (sentence,) = [p for p in paragraphs if "классифицированы следующим образом" in p]
    listed = sentence.split("следующим образом: ", 1)[1].removesuffix(".")
    assert _squash(listed) == _squash(seed_sentence())

    plan, spoken = tables
    assert plan[0] == [
        "№",
        "Проблемный вопрос",
        "Планируемые меры",
        "Срок исполнения",
        "Ответственный исполнитель",
    ]
    rows = plan[1:]
    assert len(rows) == len(EXPECTED) == 12
    for row, (number, start, deadline, _due, codes) in zip(rows, EXPECTED, strict=True):
        assert row[0] == str(number)
        assert row[2].startswith(start)
        assert row[3] == deadline
        assert row[4] == ", ".join(codes)
    assert rows[0][1] == rows[1][1] == rows[2][1] == "Инженерные сети"  # read through the merge
    merges = _vertical_merges(data)
    assert merges[1][:2] == ["restart", "restart"]  # problem 1: its number and title span
    assert merges[2][:2] == merges[3][:2] == ["continue", "continue"]  # its rows 2 and 3
    assert all(m[2:] == [None, None, None] for m in merges[1:])  # each measure has its own cells
    assert all(m == [None] * 5 for m in merges[4:])  # the other problems have one measure each
    # the promises stated at the meeting: their own table, not in the plan's
    assert len(spoken) == 1 + 9
    assert spoken[1][1].startswith("Реконструкция 415 м тепловых сетей")
    assert spoken[1][2:] == ["в текущем году", "—"]
    assert "Обязательства, озвученные на встрече и не вошедшие в опубликованный план" in text


@pytest.mark.parametrize("locale", ["kk", "en"])
async def test_the_plan_table_names_departments_in_the_documents_language(
    session: AsyncSession, demo: int, i18n: CatalogI18n, locale: str
) -> None:
    """The Russian document keeps the published table's codes (above); in Kazakh and English
    the codes, Russian abbreviations, give way to the departments' short names."""
    report = await _report(session, demo)
    data = documents.render(
        documents.compose(report, documents.ReportKind.MEETING, i18n, locale),
        documents.DocFormat.DOCX,
    )
    _paragraphs, tables = _docx_text(data)
    departments = {d.code: d for d in (await session.execute(select(Department))).scalars()}
    rows = tables[0][1:]
    for row, (*_rest, codes) in zip(rows, EXPECTED, strict=True):
        assert row[4] == ", ".join(departments[code].short(locale) for code in codes)
    assert not any("УЭиВ" in row[4] or "УКС" in row[4] for row in rows)


async def test_percentages_round_half_up_from_the_questions_on_record(
    session: AsyncSession, demo: int, i18n: CatalogI18n
) -> None:
    """Without published figures the report counts the meeting's classified questions: 1 of 8
    is 12,5%, 1 of 16 is 6,25% → 6,3% (half up, where banker's rounding gives 6,2%)."""
    other = Meeting(
        district_id=(await session.execute(select(District.id).limit(1))).scalar_one(),
        starts_at=dt.datetime(2023, 3, 1, 9, tzinfo=dt.UTC),
        status=MeetingStatus.HELD,
    )
    session.add(other)
    await session.flush()
    categories = list((await session.execute(select(Category).order_by(Category.order))).scalars())
    counts = [1, 15]  # housing, landscaping
    for category, count in zip(categories, counts, strict=False):
        for n in range(count):
            session.add(
                Question(
                    district_id=other.district_id,
                    meeting_id=other.id,
                    category_id=category.id,
                    text=f"вопрос {category.slug} {n}",
                    status=QuestionStatus.ACCEPTED,
                )
            )
    session.add(  # not classified: rejected questions do not count
        Question(
            district_id=other.district_id,
            meeting_id=other.id,
            category_id=categories[0].id,
            text="отклонён",
            status=QuestionStatus.REJECTED,
        )
    )
    await session.commit()
    report = await _report(session, other.id)
    assert not report.categories_published and report.classified == 16
    document = documents.compose(report, documents.ReportKind.MEETING, i18n, "ru")
    assert (
        "жилищные отношения – 1 (6,3%); благоустройство, санитарная очистка и экология – 15 (93,8%)"
        in document.text
    )
    assert "The action plan" not in document.text
    assert "План мероприятий этой встречи пока не загружен." in document.text
    assert "Итоговые показатели встречи пока не внесены." in document.text
    english = documents.compose(report, documents.ReportKind.MEETING, i18n, "en").text
    assert "housing relations – 1 (6.3%)" in english


@NEEDS_POPPLER
@pytest.mark.parametrize("kind", list(documents.ReportKind))
async def test_the_pdf_in_kazakh_is_not_blank_and_carries_kazakh_letters(
    session: AsyncSession, demo: int, i18n: CatalogI18n, tmp_path: Path, kind: documents.ReportKind
) -> None:
    report = await _report(session, demo)
    data = documents.render(documents.compose(report, kind, i18n, "kk"), documents.DocFormat.PDF)
    assert data.startswith(b"%PDF")
    ink, text = await asyncio.to_thread(_poppler, data, tmp_path)
    assert ink > 0.01  # ink on at least 1% of the first page
    assert KAZAKH & set(text), "no Kazakh letter in the PDF's text layer"
    if kind is documents.ReportKind.MEETING:
        assert "Әкімнің тұрғындармен кездесуінің қорытындылары туралы ақпарат" in _squash(text)
        assert "тұрғын үй қатынастары – 8 (10,8%)" in _squash(text)
    else:
        assert "Іс-шаралар жоспарының орындалуы (есепті күн: 01.10.2022)" in _squash(text)


async def test_progress_report_as_of_a_day_reads_the_history(
    session: AsyncSession, demo: int, i18n: CatalogI18n
) -> None:
    """On 01.10.2022: the kindergarten (due 31.08) was done on 25.08 (on time), the square
    (due 31.08) on 10.09 (late); the cables are in progress; everything else due by then is
    overdue. Later history does not leak into an earlier day."""
    measures = {
        m.text[:25]: m
        for m in (await session.execute(select(Measure))).scalars()
        if m.text.startswith(("Завершение сейсмоусиления", "Завершение ремонта", "Модернизация"))
    }
    kindergarten = next(m for t, m in measures.items() if t.startswith("Завершение сейсм"))
    square = next(m for t, m in measures.items() if t.startswith("Завершение ремонта"))
    cables = next(m for t, m in measures.items() if t.startswith("Модернизация"))

    def at(day: str) -> dt.datetime:
        return dt.datetime.fromisoformat(day).replace(hour=6, tzinfo=dt.UTC)

    for measure, old, new, when, comment in (
        (kindergarten, MeasureStatus.PLANNED, MeasureStatus.DONE, "2022-08-25", "акт приёмки"),
        (square, MeasureStatus.PLANNED, MeasureStatus.DONE, "2022-09-10", "открыт"),
        (cables, MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, "2022-07-01", "начаты"),
        (cables, MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, "2022-12-20", "готово"),
    ):
        session.add(
            MeasureUpdate(
                measure_id=measure.id,
                kind="status",
                old_status=old,
                status=new,
                comment=comment,
                created_at=at(when),
            )
        )
        measure.status = new
    await session.commit()

    report = await _report(session, demo, dt.date(2022, 10, 1))
    by_id = {m.id: m for m in report.measures}
    assert (by_id[kindergarten.id].status, by_id[kindergarten.id].closed_on) == (
        MeasureStatus.DONE,
        dt.date(2022, 8, 25),
    )
    assert by_id[square.id].closed_on == dt.date(2022, 9, 10)
    assert by_id[cables.id].status == MeasureStatus.IN_PROGRESS  # done only in December
    ditches = next(m for m in report.spoken if "арычной сети" in m.text)
    assert (ditches.status, ditches.days_overdue) == ("overdue", 30)  # due 1 September
    uo = next(r for r in report.departments if r.department.code == "УО")
    assert (uo.measures, uo.on_time, uo.late, uo.overdue) == (2, 1, 0, 0)
    akimat = next(r for r in report.departments if r.department.code.startswith("Аппарат"))
    assert (akimat.on_time, akimat.late, akimat.overdue) == (0, 1, 0)

    document = documents.compose(report, documents.ReportKind.PROGRESS, i18n, "ru")
    assert document.title == "Исполнение плана мероприятий по состоянию на 01.10.2022"
    assert "выполнено, 25.08.2022" in document.text
    assert "25.08.2022: выполнено; акт приёмки" in document.text
    assert "Управление образования города Алматы: мероприятий – 2; выполнено в срок – 1" in (
        document.text
    )
    data = documents.render(document, documents.DocFormat.DOCX)
    _paragraphs, tables = _docx_text(data)
    assert tables[0][0][-3:] == ["Статус", "Дней просрочки", "Последнее обновление"]
    later = await _report(session, demo, dt.date(2023, 1, 10))
    assert next(m for m in later.measures if m.id == cables.id).closed_on == dt.date(2022, 12, 20)


async def test_a_meeting_with_no_plan_or_outcome_still_gives_a_report(
    session: AsyncSession, i18n: CatalogI18n
) -> None:
    district_id = (await session.execute(select(District.id).limit(1))).scalar_one()
    meeting = Meeting(district_id=district_id, starts_at=dt.datetime(2024, 5, 2, 10, tzinfo=dt.UTC))
    session.add(meeting)
    await session.commit()
    report = await _report(session, meeting.id)
    for kind in documents.ReportKind:
        for locale in ("ru", "kk", "en"):
            document = documents.compose(report, kind, i18n, locale)
            for fmt in documents.DocFormat:
                assert documents.render(document, fmt)
    text = documents.compose(report, documents.ReportKind.MEETING, i18n, "en").text
    assert "The outcome figures of the meeting are not recorded yet." in text
    assert "The questions of this meeting have not been classified yet." in text
    assert "The action plan of this meeting has not been imported yet." in text
    progress = documents.compose(report, documents.ReportKind.PROGRESS, i18n, "en").text
    assert "No measure has a responsible department." in progress


async def test_latest_held_meeting_skips_future_and_cancelled(
    session: AsyncSession, demo: int
) -> None:
    district_id = (await session.execute(select(District.id).limit(1))).scalar_one()
    session.add_all(
        [
            Meeting(district_id=district_id, starts_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
            Meeting(
                district_id=district_id,
                starts_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
                status=MeetingStatus.CANCELLED,
            ),
        ]
    )
    await session.commit()
    latest = await latest_held_meeting(session, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert latest is not None and latest.id == demo


# --- kezdesu report ------------------------------------------------------------------------------


def _run_cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return cli_main(["report", *args])


async def test_cli_writes_the_latest_held_meetings_report(
    db_url: str,
    demo: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert await _in_thread(_run_cli, monkeypatch, db_url) == 0
    written = tmp_path / "almaly-2022-06-23-report-ru.pdf"
    assert written.read_bytes().startswith(b"%PDF")
    assert f"meeting #{demo}" in capsys.readouterr().out
    target = tmp_path / "progress.docx"
    code = await _in_thread(
        _run_cli, monkeypatch, db_url, str(demo), "--as-of", "01.10.2022", "--lang", "kk",
        "--format", "DOCX", "-o", str(target),
    )  # fmt: skip
    assert code == 0
    paragraphs, _tables = _docx_text(target.read_bytes())
    assert paragraphs[0] == "Іс-шаралар жоспарының орындалуы (есепті күн: 01.10.2022)"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["999"], 1, "kezdesu: there is no meeting #999"),
        (["abc"], 2, "kezdesu: the meeting's id is a whole number, not 'abc'"),
        (["--format", "odt"], 2, "kezdesu: --format must be docx or pdf, not 'odt'"),
        (["--lang", "de"], 2, "kezdesu: --lang must be one of ru, kk, en, not 'de'"),
        (["--as-of", "31.02.2022"], 2, "kezdesu: --as-of must be a date such as 2022-10-01"),
        (["-o", "/nonexistent/dir/report.pdf"], 1, "kezdesu: cannot write /nonexistent/dir/"),
    ],
)
async def test_cli_bad_input_gets_one_line_and_a_non_zero_exit(
    db_url: str,
    demo: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    assert await _in_thread(_run_cli, monkeypatch, db_url, *args) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message), err


async def test_cli_with_no_meeting_held_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _in_thread(_run_cli, monkeypatch, db_url) == 1
    assert capsys.readouterr().err.strip() == (
        "kezdesu: no meeting has taken place yet; give a meeting's id"
    )


async def _in_thread(function, *args):
    """The command line runs its own event loop (asyncio.run): not inside the test's."""
    import asyncio

    return await asyncio.to_thread(function, *args)


# --- spoken promises: deadlines against the meeting's date, plan re-import ----------------------


async def test_spoken_deadlines_resolve_against_the_meeting_and_reimport_leaves_them(
    session: AsyncSession, demo: int
) -> None:
    from models.demo import demo_rows
    from models.plans import apply_plan, parse_plan

    meeting = await session.get(Meeting, demo)
    assert meeting is not None
    uo = (await session.execute(select(Department).where(Department.code == "УО"))).scalar_one()
    for phrase, due in (
        ("до конца года", dt.date(2022, 12, 31)),
        ("до 1 сентября", dt.date(2022, 9, 1)),
        ("в 2023 году", dt.date(2023, 12, 31)),
        ("постоянно", None),
        ("", None),
    ):
        measure = await add_spoken_promise(session, meeting, f"Обещание: {phrase}", phrase, [uo.id])
        assert measure.due_date == due, phrase
    await session.commit()
    measures = select(Measure)
    before = {(m.id, m.text, m.due_date) for m in (await session.execute(measures)).scalars()}
    _info, rows = demo_rows()
    departments = list((await session.execute(select(Department))).scalars())
    result = await apply_plan(session, demo, parse_plan(rows, dt.date(2022, 6, 23), departments))
    await session.commit()
    assert not result.changed
    after = {(m.id, m.text, m.due_date) for m in (await session.execute(measures)).scalars()}
    assert after == before
    report = await _report(session, demo)
    assert len(report.spoken) == 9 + 5 and sum(len(p.measures) for p in report.problems) == 12
    assert report.spoken[-1].position == 14
