"""Every data-changing callback and form re-checks the caller on the server: a resident with
crafted callback data, a member of another department, a removed member and a group participant
who is not a member all get a polite refusal, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.departments import remove_member
from models.entities import (
    DepartmentQueue,
    Measure,
    MeasureStatus,
    MeasureUpdate,
    Notification,
    Question,
    User,
)
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message
from tests.test_department_join import department_id, group_client, invite, member
from tests.test_department_measures import measure_id
from tests.test_department_questions import make_question

REFUSAL = "only members of a responsible department or the akimat's staff"


async def nothing_changed(session: AsyncSession, measure: int, question: int) -> None:
    session.expire_all()
    updates = await session.execute(
        select(func.count()).select_from(MeasureUpdate).where(MeasureUpdate.measure_id == measure)
    )
    assert updates.scalar_one() == 0
    row = await session.get(Measure, measure)
    assert row is not None and row.status == MeasureStatus.PLANNED and row.progress is None
    q = await session.get(Question, question)
    assert q is not None and q.department_queue == DepartmentQueue.NEW and q.answer is None
    notes = await session.execute(select(func.count()).select_from(Notification))
    assert notes.scalar_one() == 0


async def remove_official(
    session_pool: async_sessionmaker[AsyncSession], slug: str, tg_id: int
) -> bool:
    """An admin removes the member from the department (in a session of their own)."""
    dep = await department_id(session_pool, slug)
    async with session_pool() as other:
        user = (await other.execute(select(User).where(User.tg_id == tg_id))).scalar_one()
        removed = await remove_member(other, dep, user.id)
        await other.commit()
    return removed


async def test_resident_with_crafted_callbacks_is_refused(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    question = await make_question(session_pool, slug="energy_water", text="Вопрос", ref="AL-0100")
    dep = await department_id(session_pool, "energy_water")
    resident = make_client(user_id=7001, language_code="en")
    await onboard(resident, "en")
    for data in (
        f"rpt:{cables}",
        f"dm:{cables}:ip",
        f"dm:{cables}:dn",
        f"dm:{cables}:pc",
        f"dm:{cables}:nt",
        f"dm:{cables}:v",
        f"dm:{cables}:cn",
        f"dm:{cables}:ro",
        f"dm:{cables}:ry",
        f"dl:{dep}:0",
        f"di:{dep}:new:0",
        f"dq:{question}:v",
        f"dq:{question}:t",
        f"dq:{question}:a",
        f"dq:{question}:r",
    ):
        sent = await resident.press(data)
        assert REFUSAL in alerts(sent)[0], data
    sent = await resident.press("adm:dep")  # the admin area may refuse before we see it
    assert "akimat" in alerts(sent)[0]
    for data in ("da:n:0:0", "da:v:1:0", "da:dm:1:1", "da:i:1:0"):
        sent = await resident.press(data)
        assert "only the akimat's staff" in alerts(sent)[0], data
    # no form was opened: plain text is not taken as a report
    sent = await resident.send("Готово, всё сделано")
    await nothing_changed(session, cables, question)
    sent = await resident.press("dm:not-a-number:zz")
    assert "out of date" in alerts(sent)[0]


async def test_member_of_another_department_is_refused(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")  # УЭиВ
    question = await make_question(session_pool, slug="energy_water", text="Вопрос", ref="AL-0101")
    dep = await department_id(session_pool, "energy_water")
    teacher = await member(make_client, session_pool, "education", 7002)
    for data in (
        f"rpt:{cables}",
        f"dm:{cables}:dn",
        f"dm:{cables}:ip",
        f"dl:{dep}:0",
        f"di:{dep}:new:0",
        f"dq:{question}:t",
        f"dq:{question}:a",
    ):
        sent = await teacher.press(data)
        assert REFUSAL in alerts(sent)[0], data
    await nothing_changed(session, cables, question)


async def test_removed_member_is_refused_even_inside_an_open_form(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    question = await make_question(session_pool, slug="energy_water", text="Вопрос", ref="AL-0102")
    official = await member(make_client, session_pool, "energy_water", 7003)
    sent = await official.press(f"dm:{cables}:dn")
    assert "What was done?" in last_message(sent).text
    await official.send(f"/start i{await invite(session_pool, 'energy_water')}")  # harmless
    sent = await official.send("Сделано всё")
    assert "Attach a photo" in last_message(sent).text
    sent2 = await official.press(f"dq:{question}:a")
    assert "Write the answer" in last_message(sent2).text

    # the admin removes the official meanwhile
    assert await remove_official(session_pool, "energy_water", 7003)

    sent = await official.send("Ответ жителю про воду")
    assert REFUSAL in last_message(sent).text
    sent = await official.press(f"dm:{cables}:dn")
    assert REFUSAL in alerts(sent)[0]
    sent = await official.press(f"dq:{question}:t")
    assert REFUSAL in alerts(sent)[0]
    await nothing_changed(session, cables, question)


async def test_removed_member_in_the_middle_of_done_form(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    official = await member(make_client, session_pool, "energy_water", 7005)
    await official.press(f"dm:{cables}:dn")
    await official.send("Сделано всё")
    await remove_official(session_pool, "energy_water", 7005)
    sent = await official.send_content("photo")
    assert REFUSAL in last_message(sent).text
    session.expire_all()
    measure = await session.get(Measure, cables)
    assert measure is not None and measure.status == MeasureStatus.PLANNED


async def test_group_participant_who_is_not_a_member_is_refused(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    question = await make_question(session_pool, slug="energy_water", text="Вопрос", ref="AL-0103")
    group_admin = group_client(make_client, 7010, chat_id=-100_700)
    group_admin.session.chat_admins.add((-100_700, 7010))
    await group_admin.send(f"/join {await invite(session_pool, 'energy_water')}")
    # a group administrator who bound the group is still not a member of the department
    sent = await group_admin.send("/measures")
    listing = last_message(sent)
    assert "Модернизация 81" in listing.text
    sent = await group_admin.click(listing, "Модернизация 81")
    assert REFUSAL in alerts(sent)[0]
    sent = await group_admin.press(f"dm:{cables}:dn")
    assert REFUSAL in alerts(sent)[0]
    await nothing_changed(session, cables, question)


async def test_member_cannot_cancel_reopen_or_redo_a_closed_measure(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    official = await member(make_client, session_pool, "energy_water", 7020)
    sent = await official.press(f"dm:{cables}:cn")
    assert "only the akimat's staff" in alerts(sent)[0]
    await official.press(f"dm:{cables}:dn")
    await official.send("Линии модернизированы")
    await official.click(last_message(await official.send("?")), "Skip")
    for data in (f"dm:{cables}:dn", f"dm:{cables}:ip", f"dm:{cables}:pc"):
        sent = await official.press(data)
        assert "already closed" in alerts(sent)[0], data
    sent = await official.press(f"dm:{cables}:ry")
    assert "only the akimat's staff" in alerts(sent)[0]
    session.expire_all()
    measure = await session.get(Measure, cables)
    assert measure is not None and measure.status == MeasureStatus.DONE
