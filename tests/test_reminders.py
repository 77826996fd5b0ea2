"""Deadline reminders, the morning digest and meeting reminders on the demo plan, with "now"
controlled by the test (planners take it; the jobs read the clock, frozen with time-machine)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import OpenMeasureCb, ReportMeasureCb
from bot.i18n import CatalogI18n
from models.db import create_engine, create_session_pool
from models.entities import (
    Category,
    Department,
    DepartmentChat,
    DepartmentMember,
    District,
    Follow,
    Measure,
    Meeting,
    MeetingStatus,
    Notification,
    Question,
    User,
)
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.digest import plan_digests
from scheduler.jobs import deadline_reminders_job, meeting_reminders_job, morning_digest_job
from scheduler.meetings import plan_meeting_reminders
from scheduler.pacing import VirtualClock
from scheduler.reminders import current_milestone, plan_deadline_reminders
from tests.harness import RecordingSession, make_bot, visible_text

ALMATY = ZoneInfo("Asia/Almaty")
MEMBER_TG = 5101
CHAT_ID = -1005102


def at(day: str, hour: int = 10) -> dt.datetime:
    """A local Almaty moment as aware UTC."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), ALMATY).astimezone(dt.UTC)


def test_milestones() -> None:
    due = dt.date(2022, 8, 31)
    days = (30, 7, 1)
    m = current_milestone
    assert m(due, dt.date(2022, 7, 31), days) is None
    assert m(due, dt.date(2022, 8, 1), days).kind == "d30"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 8, 23), days).kind == "d30"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 8, 24), days).kind == "d7"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 8, 31), days).kind == "d1"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 9, 1), days).kind == "overdue"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 9, 7), days).kind == "overdue"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 9, 8), days).kind == "w1"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 9, 15), days).kind == "w2"  # type: ignore[union-attr]
    assert m(due, dt.date(2022, 8, 31), (14,)).kind == "d14"  # type: ignore[union-attr]


async def department(session: AsyncSession, code: str) -> Department:
    return (await session.execute(select(Department).where(Department.code == code))).scalar_one()


async def seismic(session: AsyncSession) -> Measure:
    return (
        await session.execute(select(Measure).where(Measure.text.like("%сейсмоусиления%")))
    ).scalar_one()


@pytest.fixture
async def officials(demo: int, session: AsyncSession) -> dict[str, int]:
    """A member of УО (private chat, Kazakh) and a group chat of УКС (English)."""
    uo = await department(session, "УО")
    uks = await department(session, "УКС")
    member = User(tg_id=MEMBER_TG, locale="kk", full_name="Official")
    session.add(member)
    await session.flush()
    session.add(DepartmentMember(department_id=uo.id, user_id=member.id))
    session.add(DepartmentChat(department_id=uks.id, chat_id=CHAT_ID, locale="en", title="УКС"))
    measure = await seismic(session)
    ids = {"member": member.id, "uo": uo.id, "uks": uks.id, "measure": measure.id}
    await session.commit()
    return ids


async def new_rows(session: AsyncSession, seen: set[int]) -> list[Notification]:
    session.expire_all()
    rows = (await session.execute(select(Notification).order_by(Notification.id))).scalars()
    fresh = [r for r in rows if r.id not in seen]
    seen.update(r.id for r in fresh)
    return fresh


async def plan(
    pool: async_sessionmaker[AsyncSession], i18n: Any, settings: Any, moment: Any
) -> Any:
    async with pool() as s:
        result = await plan_deadline_reminders(s, i18n, settings, moment)
        await s.commit()
    return result


async def test_reminders_for_the_demo_plan_on_a_sequence_of_dates(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    measure_id, member_id = officials["measure"], officials["member"]
    seen: set[int] = set()
    expected = {
        "2022-07-31": None,  # 31 days before: nothing yet
        "2022-08-01": "d30",
        "2022-08-02": None,  # the same milestone again: no second copy
        "2022-08-24": "d7",
        "2022-08-30": "d1",
        "2022-08-31": None,  # the due date itself: the 1-day reminder was the last
        "2022-09-01": "overdue",
        "2022-09-05": None,
        "2022-09-08": "w1",
        "2022-09-15": "w2",
    }
    for day, kind in expected.items():
        await plan(session_pool, i18n, settings, at(day))
        await plan(session_pool, i18n, settings, at(day, 18))  # a second run the same day
        rows = await new_rows(session, seen)
        if kind is None:
            assert rows == [], day
            continue
        assert sorted(r.dedup_key or "" for r in rows) == sorted(
            [
                f"reminder:{measure_id}:{kind}:2022-08-31:c{CHAT_ID}",
                f"reminder:{measure_id}:{kind}:2022-08-31:u{member_id}",
            ]
        ), day
        by_chat = {r.chat_id: r for r in rows}
        group, private = by_chat[CHAT_ID], by_chat[MEMBER_TG]
        assert group.is_group and not group.quiet_hours
        assert not private.is_group and private.user_id == member_id
        group_text = visible_text(group.text).replace("\u202f", " ")
        private_text = visible_text(private.text).replace("\u202f", " ")
        assert "сейсмоусиления детского сада №7" in group_text
        assert "31 август 2022 года" in group_text  # as written
        assert "August 31, 2022" in group_text  # and as a date in English
        assert "2022 ж. 31 тамыз" in private_text  # in Kazakh for the member
        assert "Education Department, Capital Construction Department" in group_text
        markup = InlineKeyboardMarkup.model_validate_json(group.reply_markup or "")
        buttons = [b for row in markup.inline_keyboard for b in row]
        assert [b.callback_data for b in buttons] == [
            OpenMeasureCb(id=measure_id).pack(),
            ReportMeasureCb(id=measure_id).pack(),
        ]
        assert [b.text for b in buttons] == ["Open the card", "✍️ Report progress"]
        if kind == "d30":
            assert "30 days left" in group_text
            assert "30 күн қалды" in private_text
        if kind == "d1":
            assert "1 day left" in group_text
        if kind == "overdue":
            assert "Overdue by 1 day" in group_text
            assert "Deadline missed" in group_text
        if kind == "w2":
            assert "Overdue by 15 days" in group_text


async def test_a_late_run_sends_only_the_latest_missed_reminder(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    seen: set[int] = set()
    await plan(session_pool, i18n, settings, at("2022-07-20"))
    assert await new_rows(session, seen) == []
    # the bot was down from 20 July to 25 August: the 30-day reminder was missed
    await plan(session_pool, i18n, settings, at("2022-08-25"))
    rows = await new_rows(session, seen)
    assert {r.dedup_key.split(":")[2] for r in rows if r.dedup_key} == {"d7"}
    assert len(rows) == 2
    assert "6 days left" in visible_text(next(r for r in rows if r.chat_id == CHAT_ID).text)


async def test_no_reminders_for_closed_or_undated_measures_and_a_new_date_rearms(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    measure_id = officials["measure"]
    seen: set[int] = set()
    await plan(session_pool, i18n, settings, at("2022-08-24"))
    assert len(await new_rows(session, seen)) == 2

    for status in ("done", "cancelled"):
        await session.execute(update(Measure).where(Measure.id == measure_id).values(status=status))
        await session.commit()
        await plan(session_pool, i18n, settings, at("2022-09-01"))
        assert await new_rows(session, seen) == [], status

    await session.execute(
        update(Measure).where(Measure.id == measure_id).values(status="in_progress", due_date=None)
    )
    await session.commit()
    await plan(session_pool, i18n, settings, at("2022-09-01"))
    assert await new_rows(session, seen) == []

    # the deadline moved to 30 September: the reminders start again for the new date
    await session.execute(
        update(Measure).where(Measure.id == measure_id).values(due_date=dt.date(2022, 9, 30))
    )
    await session.commit()
    await plan(session_pool, i18n, settings, at("2022-09-01"))
    rows = await new_rows(session, seen)
    assert {r.dedup_key for r in rows} == {
        f"reminder:{measure_id}:d30:2022-09-30:c{CHAT_ID}",
        f"reminder:{measure_id}:d30:2022-09-30:u{officials['member']}",
    }
    assert "29 days left" in visible_text(next(r for r in rows if r.chat_id == CHAT_ID).text)


async def test_unreachable_recipients_get_nothing(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    await session.execute(update(User).where(User.tg_id == MEMBER_TG).values(reachable=False))
    await session.execute(
        update(DepartmentChat).where(DepartmentChat.chat_id == CHAT_ID).values(reachable=False)
    )
    await session.commit()
    result = await plan(session_pool, i18n, settings, at("2022-08-01"))
    assert result.queued == 0
    assert await new_rows(session, set()) == []


async def test_two_schedulers_against_one_database_queue_one_copy(
    officials: dict[str, int], db_url: str, session: AsyncSession, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    engines = [create_engine(db_url), create_engine(db_url)]
    pools = [create_session_pool(e) for e in engines]
    try:
        with time_machine.travel(at("2022-08-30", 9), tick=False):
            results = await asyncio.gather(
                *(deadline_reminders_job(p, i18n, settings) for p in pools),
                *(morning_digest_job(p, i18n, settings) for p in pools),
            )
            again = await deadline_reminders_job(pools[0], i18n, settings)
    finally:
        for e in engines:
            await e.dispose()
    reminders = results[0]["queued"] + results[1]["queued"]
    assert reminders == 2  # one for the chat, one for the member, whoever won
    # 2 due on 31 August, and the irrigation ditches promised for 1 September (stated at the
    # meeting with no department named: nobody to remind)
    assert again == {"measures": 3, "queued": 0, "already_queued": 2}
    rows = await new_rows(session, set())
    keys = [r.dedup_key for r in rows]
    assert len(keys) == len(set(keys))
    assert sum(1 for k in keys if k and k.startswith("reminder:")) == 2
    assert sum(1 for k in keys if k and k.startswith("digest:")) == 2  # УКС chat, УО member


async def test_reminders_are_valid_telegram_messages(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    for locale in ("ru", "kk", "en"):
        await session.execute(
            update(DepartmentChat).where(DepartmentChat.chat_id == CHAT_ID).values(locale=locale)
        )
        await session.commit()
        await plan(session_pool, i18n, settings, at(("2022-08-01", "2022-08-24", "2022-09-02")[
            ("ru", "kk", "en").index(locale)
        ]))  # fmt: skip
    recording = RecordingSession()
    worker = DeliveryWorker(
        make_bot(recording), session_pool, settings, clock=VirtualClock(start=at("2022-09-03"))
    )
    stats = await worker.drain()
    assert stats.sent == 6
    assert stats.failed == 0  # the recording session refuses what Telegram would refuse
    texts = [visible_text(str(getattr(r.method, "text", ""))) for r in recording.requests]
    assert any("Осталось 30 дней" in t for t in texts)
    assert any("7 күн қалды" in t for t in texts)
    assert any("Overdue by 2 days" in t for t in texts)


# ---- the morning digest ------------------------------------------------------------------------


async def test_morning_digest(
    officials: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    culture = await department(session, "УК")  # its measures are due in 2023
    session.add(DepartmentChat(department_id=culture.id, chat_id=-1009999, locale="ru"))
    district = (
        await session.execute(select(District).where(District.slug == "almaly"))
    ).scalar_one()
    category = (await session.execute(select(Category).limit(1))).scalar_one()
    session.add(
        Question(
            district_id=district.id, category_id=category.id, ref="AL-0042",
            text="Когда отремонтируют <крышу> школы?", department_id=officials["uks"],
            department_queue="new",
        )
    )  # fmt: skip
    await session.commit()

    async def digest(moment: dt.datetime) -> Any:
        async with session_pool() as s:
            result = await plan_digests(s, i18n, settings, moment)
            await s.commit()
        return result

    seen: set[int] = set()
    result = await digest(at("2022-08-30", 9))
    rows = await new_rows(session, seen)
    by_chat = {r.chat_id: r for r in rows}
    assert set(by_chat) == {CHAT_ID, MEMBER_TG}  # УК had nothing to say: no message
    assert result.skipped_empty >= 1
    group = visible_text(by_chat[CHAT_ID].text)
    assert "Due within 7 days: 1" in group
    assert "сейсмоусиления" in group and "in 1 day" in group
    assert "New questions in the inbox: 1" in group
    assert "AL-0042" in group and "<крышу>" in group
    assert "Overdue" not in group
    assert "Press «🏢 Our measures» in the bot" in group
    member = visible_text(by_chat[MEMBER_TG].text)  # УО has no group chat: its members get it
    assert "Қайырлы таң" in member
    assert "New questions" not in member and "Кіріс" not in member

    await digest(at("2022-08-30", 12))  # the same day again: nothing new
    assert await new_rows(session, seen) == []

    await digest(at("2022-09-02", 9))
    rows = await new_rows(session, seen)
    group = visible_text(next(r for r in rows if r.chat_id == CHAT_ID).text)
    assert "Overdue: 1" in group and "2 days overdue" in group
    assert {r.dedup_key for r in rows} == {
        f"digest:{officials['uks']}:c{CHAT_ID}:2022-09-02",
        f"digest:{officials['uo']}:u{officials['member']}:2022-09-02",
    }


# ---- meeting reminders -------------------------------------------------------------------------


@pytest.fixture
async def meeting(session: AsyncSession) -> dict[str, int]:
    district = (
        await session.execute(select(District).where(District.slug == "almaly"))
    ).scalar_one()
    starts = at("2022-10-10", 15)
    item = Meeting(
        district_id=district.id, starts_at=starts, place="Шевченко, 97 <зал>",
        stream_url="https://youtube.com/live", intake_closes_at=starts - dt.timedelta(hours=12),
        status=MeetingStatus.SCHEDULED,
    )  # fmt: skip
    follower = User(tg_id=6101, locale="en")
    gone = User(tg_id=6102, locale="ru", reachable=False)
    other = User(tg_id=6103, locale="ru")
    session.add_all([item, follower, gone, other])
    await session.flush()
    session.add_all(
        [
            Follow(user_id=follower.id, district_id=district.id),
            Follow(user_id=gone.id, district_id=district.id),
        ]
    )
    ids = {"meeting": item.id, "follower": follower.id, "district": district.id}
    await session.commit()
    return ids


async def remind(pool: Any, i18n: Any, settings: Any, moment: dt.datetime) -> Any:
    async with pool() as s:
        result = await plan_meeting_reminders(s, i18n, settings, moment)
        await s.commit()
    return result


async def test_meeting_reminders_to_district_followers(
    meeting: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    start = at("2022-10-10", 15)
    seen: set[int] = set()
    await remind(session_pool, i18n, settings, start - dt.timedelta(days=4))
    assert await new_rows(session, seen) == []

    await remind(session_pool, i18n, settings, start - dt.timedelta(days=3))
    await remind(session_pool, i18n, settings, start - dt.timedelta(days=2))  # same milestone
    rows = await new_rows(session, seen)
    assert [r.chat_id for r in rows] == [6101]  # the unreachable follower and non-followers: no
    text = visible_text(rows[0].text)
    assert "In 3 days" in text and "October 10, 2022, 15:00" in text
    assert "Шевченко, 97 <зал>" in text and "https://youtube.com/live" in text
    assert rows[0].quiet_hours  # a resident: held at night

    # question intake closes at 03:00 on the day: 24 hours before, one heads-up
    await remind(session_pool, i18n, settings, start - dt.timedelta(hours=30))
    rows = await new_rows(session, seen)
    assert [(r.dedup_key or "").split(":")[2] for r in rows] == ["intake"]
    intake = visible_text(rows[0].text)
    assert "Last day to send a question" in intake and "October 10, 2022, 03:00" in intake
    assert "«❓ Ask a question»" in intake

    await remind(session_pool, i18n, settings, start - dt.timedelta(hours=20))
    rows = await new_rows(session, seen)
    assert [(r.dedup_key or "").split(":")[2] for r in rows] == ["d1"]
    assert "Tomorrow" in visible_text(rows[0].text)

    # a late run on the day itself (the bot was down) says "today", not "tomorrow"
    late = await remind(session_pool, i18n, settings, start - dt.timedelta(hours=3))
    assert late.queued == 0  # the same milestone was sent already
    # moved by a day: the reminders re-arm for the new time
    await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting["meeting"])
        .values(starts_at=start + dt.timedelta(days=1), intake_closes_at=None)
    )
    await session.commit()
    await remind(session_pool, i18n, settings, start + dt.timedelta(hours=1))
    rows = await new_rows(session, seen)
    assert [(r.dedup_key or "").split(":")[2] for r in rows] == ["d1"]
    assert "Tomorrow" in visible_text(rows[0].text)
    await remind(session_pool, i18n, settings, start + dt.timedelta(hours=20))  # 11 Oct, 11:00
    assert await new_rows(session, seen) == []  # d1 for the new time was sent already

    await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting["meeting"])
        .values(starts_at=start + dt.timedelta(days=1, hours=3))
    )
    await session.commit()
    await remind(session_pool, i18n, settings, start + dt.timedelta(hours=20))
    rows = await new_rows(session, seen)
    assert "Today" in visible_text(rows[0].text)  # moved to 18:00 the same day: "today"

    await session.execute(
        update(Meeting).where(Meeting.id == meeting["meeting"]).values(status="cancelled")
    )
    await session.commit()
    await remind(session_pool, i18n, settings, start + dt.timedelta(hours=26))
    assert await new_rows(session, seen) == []


async def test_meeting_reminder_job_logs_its_counts(
    meeting: dict[str, int], session_pool: Any, i18n: CatalogI18n, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    with (
        time_machine.travel(at("2022-10-09", 20), tick=False),
        caplog.at_level("INFO", logger="scheduler.jobs"),
    ):
        counts = await meeting_reminders_job(session_pool, i18n, settings)
    assert counts == {"meetings": 1, "queued": 2, "already_queued": 0}  # tomorrow; intake
    assert any("meeting_reminders" in r.getMessage() and "'queued': 2" in r.getMessage()
               for r in caplog.records)  # fmt: skip
