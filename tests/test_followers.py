"""What followers are told when a promise slips or changes, with "now" frozen by time-machine:
(a) the day after a followed measure's due date, (b) the monthly summary, (c) a re-import that
changes followed measures, (d) a plan published for a followed district and a meeting's outcome,
(e) a followed district's meeting that changes. Each once, in the follower's language, held in
quiet hours, never to an unreachable follower."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import OpenMeasureCb
from bot.i18n import CatalogI18n
from models.entities import (
    District,
    Follow,
    Measure,
    MeasureStatus,
    Meeting,
    MeetingStatus,
    Notification,
    User,
)
from models.importer import rows_to_csv
from models.measures import record_change
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import follower_news_job
from scheduler.pacing import VirtualClock
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, RecordingSession, last_message, make_bot, visible_text
from tests.test_admin_import import choose_meeting, seed_rows, send_file

ALMATY = ZoneInfo("Asia/Almaty")


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A local Almaty moment as aware UTC."""
    moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), ALMATY)
    return moment.astimezone(dt.UTC)


async def seismic(session: AsyncSession) -> Measure:
    """Measure 3.1 of the demo plan, due 31 August 2022 (УО, УКС)."""
    return (
        await session.execute(select(Measure).where(Measure.text.like("%сейсмоусиления%")))
    ).scalar_one()


async def person(
    session: AsyncSession,
    tg_id: int,
    locale: str,
    *,
    measure_id: int | None = None,
    district_id: int | None = None,
    since: str = "2022-07-01",
    **extra: Any,
) -> int:
    """A resident following a measure or a district since ``since``; returns the user's id."""
    user = User(tg_id=tg_id, locale=locale, **extra)
    session.add(user)
    await session.flush()
    session.add(
        Follow(
            user_id=user.id,
            measure_id=measure_id,
            district_id=district_id,
            created_at=at(since),
        )
    )
    await session.commit()
    await session.refresh(user)
    return user.id


async def queued(session: AsyncSession, prefix: str = "") -> list[Notification]:
    session.expire_all()
    rows = (await session.execute(select(Notification).order_by(Notification.id))).scalars()
    return [r for r in rows if (r.dedup_key or "").startswith(prefix)]


async def run_job(
    pool: async_sessionmaker[AsyncSession], i18n: CatalogI18n, settings: Settings, moment: Any
) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return await follower_news_job(pool, i18n, settings)


def shown(row: Notification) -> str:
    """What the follower reads, with Babel's narrow spaces as plain ones."""
    return visible_text(row.text).replace("\u202f", " ")


def buttons(row: Notification) -> list[tuple[str, str | None]]:
    markup = InlineKeyboardMarkup.model_validate_json(row.reply_markup or "")
    return [(b.text, b.callback_data) for line in markup.inline_keyboard for b in line]


@pytest.fixture
async def followers(demo: int, session: AsyncSession) -> dict[str, int]:
    """Followers of measure 3.1 in three languages; one unreachable; one who followed it only
    after it slipped; one following the whole district only."""
    measure_id = (await seismic(session)).id
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    almaly_id = almaly.id
    people = {
        "ru": await person(session, 8101, "ru", measure_id=measure_id),
        "kk": await person(session, 8102, "kk", measure_id=measure_id),
        "en": await person(session, 8103, "en", measure_id=measure_id),
        "blocked": await person(session, 8104, "ru", measure_id=measure_id, reachable=False),
        "late": await person(session, 8105, "ru", measure_id=measure_id, since="2022-09-05"),
        "district": await person(session, 8106, "ru", district_id=almaly_id),
    }
    ids = dict(people)
    ids["measure"] = measure_id
    return ids


# --- (a) the day after the due date --------------------------------------------------------------


async def test_followers_hear_once_the_day_after_the_due_date(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    measure_id = followers["measure"]
    await run_job(session_pool, i18n, settings, at("2022-08-31"))  # the due date itself
    assert await queued(session, "follow-overdue") == []

    counts = await run_job(session_pool, i18n, settings, at("2022-09-01"))
    assert counts["overdue_measures"] >= 1
    rows = await queued(session, f"follow-overdue:{measure_id}:")
    by_user = {r.user_id: r for r in rows}
    assert set(by_user) == {followers["ru"], followers["kk"], followers["en"]}  # no blocked, late
    assert all(r.quiet_hours and not r.is_group for r in rows)
    en = visible_text(by_user[followers["en"]].text).replace("\u202f", " ")
    assert "A commitment you follow is overdue" in en
    assert "3.1" in en and "сейсмоусиления детского сада №7" in en
    assert "31 август 2022 года (August 31, 2022)" in en
    assert "Overdue by 1 day" in en
    assert "Education Department" in en
    assert "You get this because you follow the commitment." in en
    assert "2022 ж. 31 тамыз" in shown(by_user[followers["kk"]])
    assert "31 августа 2022" in shown(by_user[followers["ru"]])
    assert buttons(by_user[followers["en"]])[0][1] == OpenMeasureCb(id=measure_id).pack()

    # the job again the same day, the next day, a week later: nothing more
    for moment in (at("2022-09-01", 18), at("2022-09-02"), at("2022-09-08")):
        await run_job(session_pool, i18n, settings, moment)
    assert len(await queued(session, "follow-overdue")) == len(
        await queued(session, "follow-overdue:")
    )
    assert len(await queued(session, f"follow-overdue:{measure_id}:")) == 3


async def test_a_late_run_catches_up_within_a_week_only(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    measure_id = followers["measure"]
    await run_job(session_pool, i18n, settings, at("2022-09-09"))  # 9 days late: stale news
    assert await queued(session, f"follow-overdue:{measure_id}:") == []
    await run_job(session_pool, i18n, settings, at("2022-09-07"))  # 7 days: still told
    rows = await queued(session, f"follow-overdue:{measure_id}:")
    assert len(rows) == 3
    assert "Overdue by 7 days" in visible_text(
        next(r for r in rows if r.user_id == followers["en"]).text
    )


@pytest.mark.parametrize("status", [MeasureStatus.DONE, MeasureStatus.CANCELLED])
async def test_nothing_for_done_or_cancelled_measures(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings, status: MeasureStatus,
) -> None:  # fmt: skip
    await session.execute(
        update(Measure).where(Measure.id == followers["measure"]).values(status=status)
    )
    await session.commit()
    await run_job(session_pool, i18n, settings, at("2022-09-01"))
    await run_job(session_pool, i18n, settings, at("2022-10-01"))  # nor in the summary
    assert await queued(session, "follow-") == []


async def test_a_notice_queued_at_night_waits_for_the_morning(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    night = at("2022-09-01", 23, 30)  # the bot started late in the evening: the catch-up run
    await run_job(session_pool, i18n, settings, night)
    assert len(await queued(session, "follow-overdue:")) == 3
    recording = RecordingSession()
    clock = VirtualClock(start=night)
    worker = DeliveryWorker(make_bot(recording), session_pool, settings, clock=clock)
    stats = await worker.drain()
    # the overdue notices, and (the 1st of the month) the summaries of ru, kk, en and "late"
    assert stats.sent == 0 and stats.held_for_quiet_hours == 7
    assert {r.not_before for r in await queued(session, "follow-overdue:")} == {at("2022-09-02", 8)}
    clock.advance((at("2022-09-02", 8) - night).total_seconds())
    stats = await worker.drain()
    assert stats.sent == 7 and stats.failed == 0  # valid Telegram messages in every language
    sent = [r.method for r in recording.requests if isinstance(r.method, SendMessage)]
    assert sorted(int(m.chat_id) for m in sent) == [8101, 8101, 8102, 8102, 8103, 8103, 8105]


# --- (b) the monthly summary ---------------------------------------------------------------------


async def test_monthly_summary_of_measures_still_overdue(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings,
) -> None:  # fmt: skip
    measure = await seismic(session)
    measure_id = measure.id
    await record_change(
        session,
        measure,
        author_id=None,
        department_id=None,
        status=MeasureStatus.IN_PROGRESS,
        progress=40,
        comment="Проект готов, ждём подрядчика",
    )
    await session.execute(
        update(User).where(User.id == followers["kk"]).values(monthly_summary=False)
    )
    await session.commit()

    await run_job(session_pool, i18n, settings, at("2022-09-20"))  # mid-month: no summary
    assert await queued(session, "follow-summary") == []
    await run_job(session_pool, i18n, settings, at("2022-10-01"))
    await run_job(session_pool, i18n, settings, at("2022-10-01", 16))  # twice: once
    rows = await queued(session, "follow-summary:2022-10:")
    # ru, en and the one who followed late; not kk (switched off) nor the blocked one
    assert {r.user_id for r in rows} == {followers["ru"], followers["en"], followers["late"]}
    en = visible_text(next(r for r in rows if r.user_id == followers["en"]).text)
    assert "Your monthly summary" in en
    assert "1 commitment you follow is still overdue" in en
    assert "Overdue by 31 days" in en
    assert "in progress" in en and "40%" in en and "Проект готов, ждём подрядчика" in en
    assert "switch this summary off in ⚙️ Settings" in en
    assert buttons(rows[0]) == [("🔴 3.1", OpenMeasureCb(id=measure_id).pack())]
    assert all(r.quiet_hours for r in rows)

    await run_job(session_pool, i18n, settings, at("2022-10-15"))
    await run_job(session_pool, i18n, settings, at("2022-11-03"))  # a late run in the month
    assert len(await queued(session, "follow-summary:2022-11:")) == 3
    assert len(await queued(session, "follow-summary")) == 6


async def test_the_summary_is_switched_off_in_settings(
    followers: dict[str, int], session: AsyncSession, session_pool: Any, i18n: CatalogI18n,
    settings: Settings, make_client: Callable[..., BotClient],
) -> None:  # fmt: skip
    client = make_client(user_id=8103, language_code="en")
    sent = await client.send("/settings")
    assert "Monthly summary of the commitments you follow that are overdue: on" in (
        last_message(sent).text
    )
    sent = await client.click(last_message(sent), "Monthly summary: on")
    assert "Monthly summary of the commitments you follow that are overdue: off" in (
        last_message(sent).text
    )
    assert "📋 Monthly summary: off" in last_message(sent).buttons
    session.expire_all()
    assert (await session.get(User, followers["en"])).monthly_summary is False  # type: ignore[union-attr]
    await run_job(session_pool, i18n, settings, at("2022-10-01"))
    assert followers["en"] not in {r.user_id for r in await queued(session, "follow-summary")}

    sent = await client.click(last_message(sent), "Monthly summary: off")  # on again
    session.expire_all()
    assert (await session.get(User, followers["en"])).monthly_summary is True  # type: ignore[union-attr]
    await run_job(session_pool, i18n, settings, at("2022-11-01"))
    assert followers["en"] in {r.user_id for r in await queued(session, "follow-summary:2022-11")}


# --- (c) and (d): importing the plan ------------------------------------------------------------


@pytest.fixture
async def admin(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="en", username="staff")
    await onboard(client, "en")
    return client


async def test_plan_import_tells_district_and_measure_followers(
    admin: BotClient, session: AsyncSession
) -> None:
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    meeting = Meeting(
        district_id=almaly.id,
        starts_at=dt.datetime(2022, 6, 23, 9, 0, tzinfo=dt.UTC),
        place="Университет Академии логистики и транспорта",
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    await session.commit()
    neighbour = await person(session, 8201, "kk", district_id=almaly.id)
    blocked = await person(session, 8202, "ru", district_id=almaly.id, reachable=False)

    await choose_meeting(admin)
    sent = await send_file(admin, "plan.csv", rows_to_csv(seed_rows()))
    await admin.click(last_message(sent), "Import")
    published = await queued(session, "plan-imported:")
    assert [r.user_id for r in published] == [neighbour]  # not the unreachable one
    assert blocked not in {r.user_id for r in published}
    text = shown(published[0])
    assert "Әкімнің Алмалы ауданының тұрғындарымен кездесуі: 2022 ж. 23 маусым, 15:00" in text
    assert "10" in text and "12" in text  # problem issues, measures

    # residents follow measures of the plan (found by their text)
    async def measure(start: str) -> Measure:
        return (
            await session.execute(select(Measure).where(Measure.text.startswith(start)))
        ).scalar_one()

    rows = seed_rows()
    water = (await measure("Реконструкция вод")).id
    third = (await measure(rows[2].measure[:30])).id
    one = await person(session, 8203, "en", measure_id=water)
    both = await person(session, 8204, "ru", measure_id=water)
    session.add(Follow(user_id=both, measure_id=third))
    await person(session, 8205, "en", measure_id=water, reachable=False)
    await session.commit()

    # the same file again: nothing changes, nobody is told
    await choose_meeting(admin)
    sent = await send_file(admin, "plan-again.csv", rows_to_csv(seed_rows()))
    assert len(await queued(session)) == 1

    # a corrected file: a new deadline and text for one measure, new executors for another
    rows[1] = replace(
        rows[1], measure=rows[1].measure + " Уточнено.", deadline="1 квартал 2023 года"
    )
    rows[2] = replace(rows[2], executors="УКС")
    sent = await send_file(admin, "plan-fixed.csv", rows_to_csv(rows))
    sent = await admin.click(last_message(sent), "Import")
    assert "updated measures — 2" in last_message(sent).text
    changes = await queued(session, "plan-change:")
    by_user = {r.user_id: r for r in changes}
    assert set(by_user) == {one, both}  # one message each, none to the unreachable one
    single = visible_text(by_user[one].text).replace("\u202f", " ")
    assert "The published plan changed 1 commitment you follow" in single
    assert "31 август 2022 года" not in single  # not this measure's old deadline
    assert "Deadline: " in single and "→ 1 квартал 2023 года (March 31, 2023)" in single
    assert "Text was: " in single and "Уточнено." in single
    assert buttons(by_user[one]) == [("Open the card", OpenMeasureCb(id=water).pack())]
    double = visible_text(by_user[both].text)
    assert "31 марта 2023" in double  # in Russian
    assert "Capital Construction" not in double
    assert len(buttons(by_user[both])) == 2
    assert all(r.quiet_hours for r in changes)
    assert len(await queued(session, "plan-imported:")) == 1  # the district heard once

    # the corrected file once more: nothing new
    await choose_meeting(admin)
    await send_file(admin, "plan-fixed-again.csv", rows_to_csv(rows))
    assert len(await queued(session, "plan-change:")) == 2


# --- (d) the outcome and (e) meeting changes ------------------------------------------------------


NOW = dt.datetime(2026, 6, 1, 5, 0, tzinfo=dt.UTC)  # 10:00 in Almaty


async def _district_followers(session: AsyncSession) -> tuple[int, dict[str, int]]:
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    meeting = Meeting(
        district_id=almaly.id,
        starts_at=dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC),
        place="Акимат",
        stream_url="https://youtube.com/old",
        intake_closes_at=dt.datetime(2026, 6, 14, 10, 0, tzinfo=dt.UTC),
    )
    session.add(meeting)
    await session.commit()
    meeting_id = meeting.id
    people = {
        "kk": await person(session, 8301, "kk", district_id=almaly.id, since="2026-05-01"),
        "en": await person(session, 8302, "en", district_id=almaly.id, since="2026-05-01"),
        "blocked": await person(
            session, 8303, "ru", district_id=almaly.id, since="2026-05-01", reachable=False
        ),
    }
    return meeting_id, people


async def _card(admin: BotClient) -> Any:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "Almaly")
    return last_message(await admin.click(last_message(sent), "15.06.2026 15:00"))


async def test_meeting_changes_reach_the_district_followers(
    make_client: Callable[..., BotClient], session: AsyncSession
) -> None:
    meeting_id, people = await _district_followers(session)
    with time_machine.travel(NOW, tick=True):
        admin = make_client(user_id=ADMIN_ID, language_code="en")
        await onboard(admin, "en")
        card = await _card(admin)
        sent = await admin.click(card, "Edit")
        sent = await admin.click(last_message(sent), "Livestream link")
        card = last_message(await admin.send("https://youtube.com/new"))
        sent = await admin.click(card, "Edit")
        sent = await admin.click(last_message(sent), "Question deadline")
        card = last_message(await admin.send("13.06.2026 18:00"))
        # the same link saved again changes nothing and tells nobody
        sent = await admin.click(card, "Edit")
        sent = await admin.click(last_message(sent), "Livestream link")
        card = last_message(await admin.send("https://youtube.com/new"))
        sent = await admin.click(card, "Edit")
        sent = await admin.click(last_message(sent), "Place")
        await admin.send("Дворец Республики")

    rows = await queued(session, f"meeting:{meeting_id}:")
    assert [r.kind for r in rows] == ["meeting_changed"] * 6
    assert {r.user_id for r in rows} == {people["kk"], people["en"]}
    texts = [visible_text(r.text) for r in rows if r.user_id == people["en"]]
    assert "Livestream: https://youtube.com/old → https://youtube.com/new" in texts[0]
    assert "June 14, 2026, 15:00 → June 13, 2026, 18:00" in texts[1].replace("\u202f", " ")
    assert "Place: Акимат → Дворец Республики" in texts[2]
    assert all("has changed" in t and "June 15, 2026, 15:00" in t for t in texts)
    kk = [visible_text(r.text) for r in rows if r.user_id == people["kk"]]
    assert "2026 ж. 13 маусым" in kk[1].replace("\u202f", " ")
    assert all(r.quiet_hours for r in rows)


async def test_the_outcome_reaches_the_district_followers_once(
    make_client: Callable[..., BotClient], session: AsyncSession
) -> None:
    meeting_id, people = await _district_followers(session)
    await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(starts_at=dt.datetime(2026, 5, 20, 10, 0, tzinfo=dt.UTC), intake_closes_at=None)
    )
    await session.commit()
    with time_machine.travel(NOW, tick=True):
        admin = make_client(user_id=ADMIN_ID, language_code="en")
        await onboard(admin, "en")
        sent = await admin.send("/admin")
        sent = await admin.click(last_message(sent), "Meetings")
        sent = await admin.click(last_message(sent), "Almaly")
        sent = await admin.click(last_message(sent), "20.05.2026 15:00")
        sent = await admin.click(last_message(sent), "Outcome figures")
        for value in ["500", "51", "93", "45", "37", "11"]:
            sent = await admin.send(value)
        rows = await queued(session, "meeting-outcome:")
        assert {r.user_id for r in rows} == {people["kk"], people["en"]}
        en = visible_text(next(r for r in rows if r.user_id == people["en"]).text)
        assert "The outcome of the akim's meeting with residents of Almaly district" in en
        assert "Participants: 500" in en and "Questions raised: 93" in en
        assert "In progress: 11" in en
        # a correction later is not sent again
        sent = await admin.click(last_message(sent), "Outcome figures")
        await admin.send("510")
        for _step in range(5):
            sent = await admin.click(last_message(sent), "Skip")
    assert len(await queued(session, "meeting-outcome:")) == 2
