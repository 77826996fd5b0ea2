"""Our measures on the demo plan with a fixed "today", reporting (in progress, done with a
comment and a photo, progress %, updates, cancel), the history, followers' notifications, a
resident disputing a "done" and the admin reopening it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest
import time_machine
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.clock import ALMATY
from models.entities import (
    Dispute,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    MeasureUpdate,
    Notification,
    User,
)
from models.follows import follow
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages
from tests.test_department_join import department_id, group_client, member

TODAY = dt.datetime(2022, 9, 5, 11, 0, tzinfo=ALMATY)


@pytest.fixture
def today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


async def measure_id(session_pool: async_sessionmaker[AsyncSession], text_start: str) -> int:
    async with session_pool() as session:
        result = await session.execute(
            select(Measure.id).where(Measure.text.startswith(text_start))
        )
        return int(result.scalar_one())


async def follower(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    user_id: int,
    measure: int,
    locale: str = "en",
) -> BotClient:
    client = make_client(user_id=user_id, language_code=locale, first_name=f"Resident{user_id}")
    await onboard(client, locale)
    async with session_pool() as session:
        user = (await session.execute(select(User).where(User.tg_id == user_id))).scalar_one()
        await follow(session, user.id, measure_id=measure)
        await session.commit()
    return client


def markup_of(notification: Notification) -> InlineKeyboardMarkup:
    assert notification.reply_markup is not None
    return InlineKeyboardMarkup.model_validate(json.loads(notification.reply_markup))


async def notifications(session: AsyncSession, kind: str) -> list[Notification]:
    result = await session.execute(
        select(Notification)
        .where(Notification.kind == kind)
        .order_by(Notification.id)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def test_demo_plan_order_for_a_fixed_today(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    demo: int,
    today: None,
) -> None:
    """УО on the seed plan on 5 September 2022: the kindergarten's seismic strengthening (due
    31 August 2022) is overdue and on top; the design for 2023 is planned."""
    client = await member(make_client, session_pool, "education", 4001)
    sent = await client.send("🏢 Our measures")
    shown = last_message(sent)
    assert "Our measures: Almaty City Department of Education" in shown.text
    assert "Today: September 5, 2022" in shown.text
    assert "🔴 Overdue: 1 · 🗓 Planned: 1" in shown.text
    assert shown.text.index("сейсмоусиления") < shown.text.index("проектной документации")
    assert "days overdue: 5" in shown.text
    assert shown.buttons[0].startswith("🔴 1. Завершение сейсмоусиления")


async def test_all_groups_in_order_with_counts_and_pagination(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    akim = await department_id(session_pool, "almaly_akim_office")
    ids = {
        "park": await measure_id(session_pool, "Благоустройство парковой"),  # 7: due 2022-12-31
        "square": await measure_id(session_pool, "Завершение ремонта сквера"),  # 10: 2022-08-31
        "expertise": await measure_id(session_pool, "Получение заключения"),  # 8: 2022-12-31
        "cables": await measure_id(session_pool, "Модернизация 81"),
        "water": await measure_id(session_pool, "Реконструкция водопроводных"),
        "sewer": await measure_id(session_pool, "Передача бесхозных"),
        "police": await measure_id(session_pool, "Увеличение количества камер"),
    }
    # Give the akim's office more measures in every state (a test-only arrangement).
    for position, key in enumerate(("cables", "water", "sewer", "police"), start=5):
        session.add(MeasureDepartment(measure_id=ids[key], department_id=akim, position=position))
    changes = {
        "park": {"due_date": dt.date(2022, 7, 1)},  # overdue 66 days: the most overdue
        "cables": {"due_date": dt.date(2022, 9, 9)},  # due in 4 days
        "water": {"status": MeasureStatus.IN_PROGRESS},
        "sewer": {"status": MeasureStatus.DONE},
        "police": {"status": MeasureStatus.CANCELLED},
    }
    for key, values in changes.items():
        await session.execute(update(Measure).where(Measure.id == ids[key]).values(**values))
    await session.commit()

    client = await member(make_client, session_pool, "almaly_akim_office", 4002)
    sent = await client.send("🏢 Our measures")
    shown = last_message(sent)
    assert (
        "🔴 Overdue: 2 · ⏰ Due within 7 days: 1 · 🔄 In progress: 1 · 🗓 Planned: 1 · "
        "✅ Done: 1 · ⛔ Cancelled: 1"
    ) in shown.text
    expected = ["park", "square", "cables", "water", "expertise", "sewer", "police"]
    starts = {
        "park": "Благоустройство парковой",
        "square": "Завершение ремонта сквера",
        "cables": "Модернизация 81",
        "water": "Реконструкция водопроводных",
        "expertise": "Получение заключения",
        "sewer": "Передача бесхозных",
        "police": "Увеличение количества камер",
    }
    buttons = shown.buttons[: len(expected)]
    for number, (key, button) in enumerate(zip(expected, buttons, strict=True), start=1):
        assert f"{number}. {starts[key][:20]}" in button, (key, button)
    assert "days overdue: 66" in shown.text and "days left: 4" in shown.text
    headings = ["🔴 Overdue", "⏰ Due within 7 days", "🔄 In progress", "🗓 Planned", "✅ Done"]
    positions = [shown.text.index(h, shown.text.index("Cancelled: 1") + 1) for h in headings]
    assert positions == sorted(positions)

    # more rows than a page: the pagination row appears and works
    extra = await measure_id(session_pool, "Реконструкция мавзолея")
    extra2 = await measure_id(session_pool, "Разработка ПСД по строительству")
    for position, mid in enumerate((extra, extra2), start=20):
        session.add(MeasureDepartment(measure_id=mid, department_id=akim, position=position))
    await session.commit()
    sent = await client.send("🏢 Our measures")
    shown = last_message(sent)
    assert "1/2" in shown.buttons
    sent = await client.click(shown, "▶️")
    page2 = last_message(sent)
    assert "2/2" in page2.buttons
    assert "9. " in page2.text and "✅ Done" in page2.text
    # a forged page far away is clamped to the last page
    sent = await client.press(f"dl:{akim}:99")
    assert "2/2" in last_message(sent).buttons


async def test_mark_done_with_comment_photo_history_and_followers(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    square = await measure_id(session_pool, "Завершение ремонта сквера")
    resident = await follower(make_client, session_pool, 4100, square, "ru")
    await follower(make_client, session_pool, 4101, square, "kk")
    official = await member(make_client, session_pool, "almaly_akim_office", 4003)

    sent = await official.send("🏢 Our measures")
    sent = await official.click(last_message(sent), "Завершение ремонта сквера")
    card = last_message(sent)
    assert "Measure 10.1" in card.text and "🔴 overdue" in card.text
    assert "⛔ Cancel the measure" not in card.buttons  # admins only

    sent = await official.click(card, "Start work")
    assert "Saved: in progress" in alerts(sent)[0]
    card = last_message(sent)
    assert "🔄 Start work" not in card.buttons
    assert "History" in card.text and "Almaly District Akim's Office" in card.text

    sent = await official.click(card, "Mark done")
    assert "What was done?" in last_message(sent).text
    # bad inputs: a photo before the text, a too-short and a too-long text, a sticker
    sent = await official.send_content("photo")
    assert "First describe in text" in last_message(sent).text
    sent = await official.send("ok")
    assert "too short" in last_message(sent).text
    sent = await official.send("x" * 2001)
    assert "too long: characters 2001, the limit is 2000" in last_message(sent).text
    sent = await official.send_content("sticker")
    assert "text message" in last_message(sent).text
    sent = await official.send("Сквер отремонтирован: <новые> скамейки & освещение")
    assert "Attach a photo as proof" in last_message(sent).text
    sent = await official.send("no photo, sorry")
    assert "Please send a photo, or press «Skip»" in last_message(sent).text
    sent = await official.send_content("photo")
    shown = messages(sent)
    assert "Saved: done" in shown[0].text
    assert "✅ done" in shown[-1].text
    assert "Сквер отремонтирован: <новые> скамейки & освещение" in shown[-1].text  # escaped
    assert "photo proof" in shown[-1].text

    session.expire_all()
    measure = await session.get(Measure, square)
    assert measure is not None
    assert measure.status == MeasureStatus.DONE and measure.progress == 100
    assert measure.proof_photo_file_id == "ph1" and measure.closed_at is not None
    history = (
        (
            await session.execute(
                select(MeasureUpdate)
                .where(MeasureUpdate.measure_id == square)
                .order_by(MeasureUpdate.id)
            )
        )
        .scalars()
        .all()
    )
    akim = await department_id(session_pool, "almaly_akim_office")
    official_user = (await session.execute(select(User).where(User.tg_id == 4003))).scalar_one()
    assert [(h.status, h.department_id, h.author_id) for h in history] == [
        (MeasureStatus.IN_PROGRESS, akim, official_user.id),
        (MeasureStatus.DONE, akim, official_user.id),
    ]
    assert history[-1].comment.startswith("Сквер отремонтирован") and history[-1].photo_file_id

    checks = await notifications(session, "measure_done_check")
    assert sorted(n.chat_id for n in checks) == [4100, 4101]
    ru = next(n for n in checks if n.chat_id == 4100)
    assert "Это действительно выполнено?" in ru.text and "&lt;новые&gt;" in ru.text
    kk = next(n for n in checks if n.chat_id == 4101)
    assert "Бұл шынымен орындалды ма?" in kk.text
    started = await notifications(session, "measure_update")
    assert sorted(n.chat_id for n in started) == [4100, 4101]  # "in progress" went out too

    # A follower confirms: thanks, buttons gone, nothing recorded.
    sent = await resident.click(markup_of(ru), "Да, выполнено")
    assert "Спасибо" in alerts(sent)[0]


async def test_progress_percent_note_and_bad_inputs(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    cables = await measure_id(session_pool, "Модернизация 81")
    await follower(make_client, session_pool, 4200, cables)
    official = await member(make_client, session_pool, "energy_water", 4004)
    sent = await official.press(f"rpt:{cables}")
    card = last_message(sent)
    sent = await official.click(card, "Progress %")
    assert "whole number from 0 to 100" in last_message(sent).text
    for bad in ("forty", "150", "-5", "4.5"):
        sent = await official.send(bad)
        assert "whole number from 0 to 100" in last_message(sent).text, bad
    sent = await official.send_content("photo")
    assert "number from 0 to 100" in last_message(sent).text
    sent = await official.send("🏢 Our measures")  # a menu button inside the form keeps it
    assert "middle of filling in a form" in last_message(sent).text
    sent = await official.send("40%")
    shown = messages(sent)
    assert "Saved: progress 40%" in shown[0].text
    assert "Progress: 40%" in shown[-1].text and "🔄 in progress" in shown[-1].text

    sent = await official.click(shown[-1], "Add an update")
    sent = await official.send("/measures")
    assert "looks like a command" in last_message(sent).text
    sent = await official.send("Подрядчик вышел на объект")
    assert "Saved. Followers will be notified." in messages(sent)[0].text

    session.expire_all()
    measure = await session.get(Measure, cables)
    assert measure is not None and measure.progress == 40
    assert measure.status == MeasureStatus.IN_PROGRESS
    updates = await notifications(session, "measure_update")
    assert [n.chat_id for n in updates] == [4200, 4200]
    assert "Подрядчик вышел на объект" in updates[-1].text

    # /cancel leaves a form without saving
    sent = await official.press(f"dm:{cables}:nt")
    sent = await official.send("/cancel")
    assert "Cancelled" in last_message(sent).text
    assert len(await notifications(session, "measure_update")) == 2


async def test_shared_measure_updated_by_either_department_history_names_it(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    shared = await measure_id(session_pool, "Получение заключения")  # УЗиСП, УЭиОС, akim office
    social = await member(make_client, session_pool, "employment_social", 4005)
    ecology = await member(make_client, session_pool, "ecology_environment", 4006)
    await social.press(f"dm:{shared}:nt")
    await social.send("Документы поданы на экспертизу")
    await ecology.press(f"dm:{shared}:pc")
    sent = await ecology.send("30")
    card = last_message(sent)
    assert "Employment and Social Programmes Department" in card.text
    assert "Ecology and Environment Department" in card.text
    rows = (
        (
            await session.execute(
                select(MeasureUpdate.department_id)
                .where(MeasureUpdate.measure_id == shared)
                .order_by(MeasureUpdate.id)
            )
        )
        .scalars()
        .all()
    )
    assert rows == [
        await department_id(session_pool, "employment_social"),
        await department_id(session_pool, "ecology_environment"),
    ]


async def test_dispute_then_admin_reopens(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    square = await measure_id(session_pool, "Завершение ремонта сквера")
    resident = await follower(make_client, session_pool, 4300, square)
    second = await follower(make_client, session_pool, 4301, square)
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    official = await member(make_client, session_pool, "almaly_akim_office", 4007)
    # the department's group chat gets the dispute too
    group_admin = group_client(make_client, 4007, chat_id=-100_777)
    official.session.chat_admins.add((-100_777, 4007))
    from tests.test_department_join import invite

    await group_admin.send(f"/join {await invite(session_pool, 'almaly_akim_office')}")

    await official.press(f"dm:{square}:dn")
    await official.send("Ремонт сквера завершён")
    await official.click(last_message(await official.send("…")), "Skip")

    checks = await notifications(session, "measure_done_check")
    mine = markup_of(next(n for n in checks if n.chat_id == 4300))
    sent = await resident.click(mine, "Not done")
    assert "What is not done?" in last_message(sent).text
    sent = await resident.send_content("voice")
    assert "Please send text or a photo" in last_message(sent).text
    sent = await resident.send_content("photo", caption="Скамеек нет, <мусор>")
    assert "Thank you. The department and the akimat are told" in last_message(sent).text
    # a second answer to the same "done" is not counted twice
    sent = await resident.click(mine, "Not done")
    assert "already told us" in alerts(sent)[0]

    other = next(n for n in checks if n.chat_id == 4301)
    sent = await second.click(markup_of(other), "Not done")
    sent = await second.click(last_message(sent), "Send without a comment")
    assert "Thank you." in last_message(sent).text

    disputes = (await session.execute(select(Dispute).order_by(Dispute.id))).scalars().all()
    assert [(d.comment, d.photo_file_id, d.resolved) for d in disputes] == [
        ("Скамеек нет, <мусор>", "ph1", False),
        ("", None, False),
    ]
    notes = await notifications(session, "measure_dispute")
    chats = sorted({n.chat_id for n in notes})
    assert chats == [-100_777, ADMIN_ID, 4007]
    assert all("4300" not in n.text and "Resident4300" not in n.text for n in notes)
    first = next(n for n in notes if n.chat_id == ADMIN_ID and n.photo == "ph1")
    assert "Скамеек нет, &lt;мусор&gt;" in first.text and "Residents who disagree: 1" in first.text
    group_note = next(n for n in notes if n.chat_id == -100_777)
    assert group_note.is_group and "Reopen" not in str(group_note.reply_markup)

    # the reporting menu counts the disagreement
    sent = await official.press(f"rpt:{square}")
    assert "Residents who disagree that it is done: 2" in last_message(sent).text
    # the official cannot reopen; the admin can, from the notification
    sent = await official.press(f"dm:{square}:ro")
    assert "only the akimat's staff" in alerts(sent)[0]
    admin_note = next(n for n in notes if n.chat_id == ADMIN_ID and n.photo is None)
    sent = await admin.click(markup_of(admin_note), "Reopen")
    sent = await admin.click(last_message(sent), "Yes, reopen")
    assert "Reopened" in alerts(sent)[0]
    assert "↩️ reopened" in last_message(sent).text

    session.expire_all()
    measure = await session.get(Measure, square)
    assert measure is not None and measure.status == MeasureStatus.IN_PROGRESS
    assert measure.closed_at is None
    resolved = (await session.execute(select(Dispute.resolved))).scalars().all()
    assert resolved == [True, True]
    last = (
        await session.execute(
            select(MeasureUpdate)
            .where(MeasureUpdate.measure_id == square)
            .order_by(MeasureUpdate.id.desc())
            .limit(1)
        )
    ).scalar_one()
    admin_user = (await session.execute(select(User).where(User.tg_id == ADMIN_ID))).scalar_one()
    assert (last.kind, last.status, last.author_id) == ("reopen", "in_progress", admin_user.id)
    reopened = [
        n
        for n in await notifications(session, "measure_update")
        if str(last.id) in (n.dedup_key or "")
    ]
    assert sorted(n.chat_id for n in reopened) == [4300, 4301]
    # a stale "not done" button after the reopening gets a polite answer
    sent = await resident.click(mine, "Not done")
    assert "no longer marked done" in alerts(sent)[0]


async def test_admin_cancels_with_a_reason(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
    today: None,
) -> None:
    police = await measure_id(session_pool, "Увеличение количества камер")
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.press(f"rpt:{police}")
    sent = await admin.click(last_message(sent), "Cancel the measure")
    assert "Why is the measure cancelled?" in last_message(sent).text
    sent = await admin.send("no")
    assert "too short" in last_message(sent).text
    sent = await admin.send("Перенесено в план 2023 года")
    assert "Saved: cancelled" in messages(sent)[0].text
    assert "↩️ Reopen" in last_message(sent).buttons
    session.expire_all()
    measure = await session.get(Measure, police)
    assert measure is not None and measure.status == MeasureStatus.CANCELLED
    history = (
        await session.execute(select(MeasureUpdate).where(MeasureUpdate.measure_id == police))
    ).scalar_one()
    assert history.department_id is None and history.comment == "Перенесено в план 2023 года"
