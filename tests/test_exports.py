"""Exports: XLSX and CSV files sent by the bot parse back with translated headers, local dates,
no Telegram ids and an author's name only when they chose to show it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import openpyxl
import pytest
from aiogram.methods import SendChatAction, SendDocument
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards.reports import ExportCb, ReportAction, StatsCb
from models.entities import (
    Category,
    Department,
    Measure,
    Meeting,
    Question,
    QuestionStatus,
    User,
)
from models.exports import MEASURE_COLUMNS
from models.stats import ScopeKind
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, Sent, alerts, last_message

RESIDENT_ID = 777_000_111  # a Telegram id that must never appear in a file

QUESTION_HEADERS = {
    "en": ["Reference", "Received", "District", "Meeting", "Category", "Question"],
    "ru": ["Номер", "Получен", "Район", "Встреча", "Категория", "Вопрос"],
    "kk": ["Нөмірі", "Келіп түсті", "Аудан", "Кездесу", "Санат", "Сұрақ"],
}
MEASURE_HEADERS = {
    "en": ["Meeting", "District", "Problem No.", "Problem", "Measure No.", "Measure"],
    "ru": ["Встреча", "Район", "№ проблемы", "Проблемный вопрос", "№ мероприятия", "Мероприятие"],
    "kk": ["Кездесу", "Аудан", "Мәселе №", "Проблемалық мәселе", "Іс-шара №", "Іс-шара"],
}


async def _setup(session: AsyncSession, meeting_id: int) -> None:
    """Two residents' questions (one named, one anonymous) at known moments."""
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    housing = (
        await session.execute(select(Category).where(Category.slug == "housing"))
    ).scalar_one()
    author = User(tg_id=RESIDENT_ID, full_name="Айгерим Сейткали", username="aigerim", locale="ru")
    session.add(author)
    await session.flush()
    session.add_all(
        [
            Question(
                ref="AL-0001",
                district_id=meeting.district_id,
                meeting_id=meeting_id,
                author_id=author.id,
                author_name="Айгерим Сейткали",
                show_name=True,
                category_id=housing.id,
                text="Течёт крыша, дом по ул. Абая, 10",
                address="ул. Абая, 10",
                status=QuestionStatus.ACCEPTED,
                supporters=5,
                # 20 June 2022, 04:30 UTC = 10:30 in Almaty (UTC+6 then)
                created_at=dt.datetime(2022, 6, 20, 4, 30, tzinfo=dt.UTC),
            ),
            Question(
                ref="AL-0002",
                district_id=meeting.district_id,
                meeting_id=meeting_id,
                author_id=author.id,
                author_name="Айгерим Сейткали",
                show_name=False,
                category_id=housing.id,
                text="Анонимный вопрос",
                status=QuestionStatus.SUBMITTED,
                created_at=dt.datetime(2022, 6, 21, 4, 30, tzinfo=dt.UTC),
            ),
        ]
    )
    await session.commit()


def _documents(sent: list[Sent]) -> list[BufferedInputFile]:
    files = []
    for s in sent:
        if isinstance(s.method, SendDocument):
            assert isinstance(s.method.document, BufferedInputFile)
            files.append(s.method.document)
    return files


async def _admin(make_client: Callable[..., BotClient], locale: str) -> BotClient:
    admin = make_client(user_id=ADMIN_ID, language_code=locale)
    await onboard(admin, locale)
    return admin


@pytest.mark.parametrize("locale", ["en", "ru", "kk"])
async def test_xlsx_of_a_meeting_has_translated_headers_and_rows(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int, locale: str
) -> None:
    await _setup(session, demo)
    admin = await _admin(make_client, locale)
    buttons = {"en": ("A meeting", "Almaly"), "ru": ("Встреча", "Алмал"), "kk": ("Кездесу", "Алма")}
    sent = await admin.send("/export")
    sent = await admin.click(last_message(sent), buttons[locale][0])
    sent = await admin.click(last_message(sent), buttons[locale][1])
    sent = await admin.click(last_message(sent), "XLSX")
    files = _documents(sent)
    assert len(files) == 1
    assert [s.method.action for s in sent if isinstance(s.method, SendChatAction)][:1] == [
        "upload_document"
    ]
    assert files[0].filename == "kezdesu-almaly-2022-06-23.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(files[0].data))
    questions, measures = workbook.worksheets
    rows = list(questions.iter_rows(values_only=True))
    assert list(rows[0][:6]) == QUESTION_HEADERS[locale]
    assert [r[0] for r in rows[1:]] == ["AL-0001", "AL-0002"]
    assert rows[1][1] == dt.datetime(2022, 6, 20, 10, 30)  # Almaty time
    assert rows[1][3] == dt.datetime(2022, 6, 23, 15, 0)
    author_column = rows[0].index({"en": "Author", "ru": "Автор", "kk": "Авторы"}[locale])
    assert rows[1][author_column] == "Айгерим Сейткали"
    assert rows[2][author_column] in (None, "")  # anonymous stays anonymous
    everything = " ".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
    )
    assert str(RESIDENT_ID) not in everything
    assert "aigerim" not in everything

    measure_rows = list(measures.iter_rows(values_only=True))
    assert list(measure_rows[0][:6]) == MEASURE_HEADERS[locale]
    count = (await session.execute(select(func.count(Measure.id)))).scalar_one()
    assert len(measure_rows) - 1 == count
    assert measure_rows[1][0] == dt.datetime(2022, 6, 23, 15, 0)
    # the responsible departments by their names in the viewer's language, not the codes
    responsible = MEASURE_COLUMNS.index("Responsible")
    energy = (
        await session.execute(select(Department).where(Department.code == "УЭиВ"))
    ).scalar_one()
    assert measure_rows[1][responsible] == energy.short(locale)
    assert not any("УЭиВ" in str(row[responsible]) for row in measure_rows[1:])


async def test_csv_files_open_in_excel_and_parse_back(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int, i18n: I18n
) -> None:
    await _setup(session, demo)
    admin = await _admin(make_client, "ru")
    sent = await admin.press(ExportCb(action=ReportAction.CSV, kind=ScopeKind.ALL).pack())
    files = _documents(sent)
    assert [f.filename for f in files] == [
        "kezdesu-questions-all.csv",
        "kezdesu-measures-all.csv",
    ]
    for file in files:
        assert file.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Cyrillic
    questions = list(csv.reader(io.StringIO(files[0].data.decode("utf-8-sig"))))
    assert questions[0][:6] == QUESTION_HEADERS["ru"]
    header = questions[0]
    first = dict(zip(header, questions[1], strict=True))
    assert first["Номер"] == "AL-0001"
    assert first["Получен"] == "2022-06-20 10:30"
    assert first["Встреча"] == "2022-06-23 15:00"
    assert first["Категория"] == "Жилищные отношения"
    assert first["Статус"] == i18n.gettext("accepted for the meeting", locale="ru")
    assert first["Источник"] == "Telegram-бот"
    assert first["Адрес"] == "ул. Абая, 10"
    assert first["Автор"] == "Айгерим Сейткали"
    assert dict(zip(header, questions[2], strict=True))["Автор"] == ""
    assert str(RESIDENT_ID) not in files[0].data.decode("utf-8-sig")

    measures = list(csv.reader(io.StringIO(files[1].data.decode("utf-8-sig"))))
    assert measures[0][:6] == MEASURE_HEADERS["ru"]
    row = dict(zip(measures[0], measures[1], strict=True))
    first_measure = (
        (await session.execute(select(Measure).order_by(Measure.problem_id, Measure.position)))
        .scalars()
        .first()
    )
    assert first_measure is not None
    assert row["Мероприятие"] == first_measure.text
    assert row["Срок исполнения (как в плане)"] == first_measure.deadline_text
    assert row["Срок (дата)"] == (
        first_measure.due_date.isoformat() if first_measure.due_date else ""
    )
    assert row["Ответственные исполнители"]


async def test_export_from_a_statistics_message_and_nothing_to_export(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    await _setup(session, demo)
    admin = await _admin(make_client, "en")
    sent = await admin.press(
        StatsCb(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=demo).pack()
    )
    report = last_message(sent)
    sent = await admin.click(report, "Export")
    choice = last_message(sent)
    assert "Export: meeting of June 23, 2022, 15:00, Almaly District" in choice.text
    sent = await admin.click(choice, "CSV")
    assert len(_documents(sent)) == 2

    sent = await admin.press(
        ExportCb(
            action=ReportAction.XLSX, kind=ScopeKind.PERIOD, start=20300101, end=20301231
        ).pack()
    )
    assert alerts(sent) == ["Nothing to export: no questions or measures there."]
    assert _documents(sent) == []
    # a forged scope (a meeting that does not exist, an impossible date) is refused politely
    sent = await admin.press(
        ExportCb(action=ReportAction.XLSX, kind=ScopeKind.MEETING, id=99999).pack()
    )
    assert alerts(sent) and _documents(sent) == []
    sent = await admin.press(
        ExportCb(action=ReportAction.CSV, kind=ScopeKind.PERIOD, start=20220231, end=1).pack()
    )
    assert alerts(sent) and _documents(sent) == []
