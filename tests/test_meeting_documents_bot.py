"""Through the real Dispatcher: an admin gets a meeting's documents from its card (📄 Report),
registers a promise stated at the meeting (🗣), and residents see it marked and can follow it."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from aiogram.methods import SendChatAction, SendDocument
from aiogram.types import BufferedInputFile
from docx import Document as read_docx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.keyboards.admin import DocAction, MeetAction, MeetCb, MeetDocCb
from documents import DocFormat, ReportKind
from models.entities import (
    Department,
    DepartmentMember,
    Follow,
    Measure,
    MeasureDepartment,
    MeasureSource,
    Meeting,
    Notification,
    User,
)
from models.settings import Settings
from scheduler.reminders import plan_deadline_reminders
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, Sent, alerts, last_message


async def _card(admin: BotClient) -> list[Sent]:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "Almaly")
    return await admin.click(last_message(sent), "23.06.2022 15:00")


def _documents(sent: list[Sent]) -> list[BufferedInputFile]:
    files = []
    for s in sent:
        if isinstance(s.method, SendDocument):
            assert isinstance(s.method.document, BufferedInputFile)
            files.append(s.method.document)
    return files


async def test_admin_gets_the_report_from_the_meeting_card(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await _card(admin)
    sent = await admin.click(last_message(sent), "📄 Report")
    menu = last_message(sent)
    assert "Documents of the meeting" in menu.text
    assert "• English" in menu.buttons  # the admin's language is marked
    sent = await admin.click(menu, "📄 Report · DOCX")
    actions = [s.method for s in sent if isinstance(s.method, SendChatAction)]
    assert actions and actions[0].action == "upload_document"
    (file,) = _documents(sent)
    assert file.filename == "almaly-2022-06-23-report-en.docx"
    word = read_docx(io.BytesIO(file.data))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "Information on the results of the akim's meeting with residents" in text
    assert "housing relations – 8 (10.8%)" in text
    assert len(word.tables[0].rows) == 1 + 12
    document_request = next(s.method for s in sent if isinstance(s.method, SendDocument))
    assert document_request.chat_id == ADMIN_ID

    sent = await admin.click(menu, "Русский")  # another language: the menu says which
    menu = last_message(sent)
    assert "• Русский" in menu.buttons
    sent = await admin.click(menu, "📈 Progress of the plan · PDF")
    (file,) = _documents(sent)
    assert file.filename.startswith("almaly-2022-06-23-progress-")
    assert file.filename.endswith("-ru.pdf") and file.data.startswith(b"%PDF")


async def test_documents_are_refused_to_non_admins_and_a_gone_meeting_is_said(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    resident = make_client(user_id=5701, language_code="en")
    await onboard(resident, "en")
    for data in (
        MeetCb(action=MeetAction.DOCUMENTS, id=demo).pack(),
        MeetDocCb(action=DocAction.SEND, id=demo, lang="ru").pack(),
        MeetCb(action=MeetAction.SPOKEN, id=demo).pack(),
    ):
        sent = await resident.press(data)
        assert alerts(sent) == ["Sorry, this is only for akimat staff."], data
        assert _documents(sent) == []
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.press(
        MeetDocCb(
            action=DocAction.SEND, id=99999, lang="kk", kind=ReportKind.PROGRESS, fmt=DocFormat.DOCX
        ).pack()
    )
    assert alerts(sent) == ["This meeting no longer exists."]
    assert _documents(sent) == []
    sent = await admin.press(f"ar:s:{demo}:xx:meeting:pdf")  # an unknown language: the admin's
    (file,) = _documents(sent)
    assert file.filename.endswith("-en.pdf")


async def test_admin_registers_a_spoken_promise_and_residents_follow_it(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: object,
    settings: Settings,
    demo: int,
) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await _card(admin)
    sent = await admin.click(last_message(sent), "🗣 Add a promise")
    assert "A promise stated at the meeting" in last_message(sent).text
    sent = await admin.send("Мало")
    assert "characters: at least 10" in last_message(sent).text
    sent = await admin.send_content("sticker")
    assert "Please answer with text." in "\n".join(s.text for s in sent)
    sent = await admin.send("Ремонт кровли школы №16 до холодов")
    assert "The deadline as said" in last_message(sent).text
    sent = await admin.send("до конца года")
    assert "departments' codes" in last_message(sent).text
    sent = await admin.send("УХХ и УО")
    assert "Unknown department codes: УХХ" in last_message(sent).text
    sent = await admin.send("УО и УКС")
    preview = last_message(sent)
    assert "до конца года → December 31, 2022" in preview.text  # the meeting's year
    assert "Responsible: " in preview.text and "none named" not in preview.text
    sent = await admin.click(preview, "Save")
    assert "🗣10" in last_message(sent).text

    session.expire_all()
    measure = (
        await session.execute(select(Measure).where(Measure.text.like("Ремонт кровли%")))
    ).scalar_one()
    measure_id = measure.id
    assert (measure.source, measure.due_date, measure.deadline_text) == (
        MeasureSource.SPOKEN,
        dt.date(2022, 12, 31),
        "до конца года",
    )
    codes = (
        await session.execute(
            select(Department.code)
            .join(MeasureDepartment, MeasureDepartment.department_id == Department.id)
            .where(MeasureDepartment.measure_id == measure_id)
            .order_by(MeasureDepartment.position)
        )
    ).scalars()
    assert list(codes) == ["УО", "УКС"]

    # no deadline and no department named: both may be skipped
    sent = await _card(admin)
    sent = await admin.click(last_message(sent), "🗣 Add a promise")
    await admin.send("Открытие библиотеки на улице Мауленова")
    sent = await admin.send("постоянно")
    sent = await admin.click(last_message(sent), "Skip")
    preview = last_message(sent)
    assert "(no date: it is never reminded)" in preview.text and "none named" in preview.text
    await admin.click(preview, "Save")

    # a resident sees the promises stated at the meeting marked, apart from the plan
    resident = make_client(user_id=5702, language_code="ru")
    await onboard(resident, "ru")
    sent = await resident.press(f"rc:{measure_id}:m:0:0")
    card = last_message(sent)
    assert "🗣 Озвучено на встрече, нет в опубликованном плане" in card.text
    assert "Ремонт кровли школы №16" in card.text
    sent = await resident.click(card, "🔔")
    session.expire_all()
    resident_row = (await session.execute(select(User).where(User.tg_id == 5702))).scalar_one()
    follows = await session.execute(
        select(Follow.measure_id).where(Follow.user_id == resident_row.id)
    )
    assert list(follows.scalars()) == [measure_id]
    sent = await resident.click(last_message(sent), "⬅️")  # back to the meeting's plan
    plan = last_message(sent)
    for _page in range(3):
        if "🗣10 Ремонт кровли" in plan.text:
            break
        sent = await resident.click(plan, "▶️")
        plan = last_message(sent)
    assert "🗣10 Ремонт кровли" in plan.text  # after the plan, under its own heading
    assert "🗣 Озвучено на встрече, нет в опубликованном плане" in plan.text
    assert any("🗣10 Ремонт кровли" in b for b in plan.buttons)

    # its departments are reminded like for any measure
    uo = (await session.execute(select(Department).where(Department.code == "УО"))).scalar_one()
    member = User(tg_id=8801, locale="ru", full_name="Official")
    session.add(member)
    await session.flush()
    session.add(DepartmentMember(department_id=uo.id, user_id=member.id))
    await session.commit()
    async with session_pool() as s:
        await plan_deadline_reminders(
            s,
            i18n,
            settings,
            dt.datetime(2022, 12, 1, 4, tzinfo=dt.UTC),  # type: ignore[arg-type]
        )
        await s.commit()
    keys = (
        await session.execute(
            select(Notification.dedup_key).where(Notification.chat_id == member.tg_id)
        )
    ).scalars()
    assert f"reminder:{measure_id}:d30:2022-12-31:u{member.id}" in list(keys)
    session.expire_all()
    assert await session.get(Meeting, demo) is not None
