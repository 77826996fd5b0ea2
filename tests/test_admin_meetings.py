"""Meetings in the admin panel: create, list, edit, cancel, outcome figures, and the notices
queued to the residents following the district."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import (
    District,
    Follow,
    Meeting,
    MeetingStatus,
    Notification,
    User,
)
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message

NOW = dt.datetime(2026, 6, 1, 5, 0, tzinfo=dt.UTC)  # 10:00 in Almaty (UTC+5 since March 2024)


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
async def admin(make_client: Callable[..., BotClient], clock: None) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="en", username="staff")
    await onboard(client, "en")
    return client


async def _district(session: AsyncSession, slug: str) -> District:
    return (await session.execute(select(District).where(District.slug == slug))).scalar_one()


@pytest.fixture
async def followers(session: AsyncSession) -> dict[str, int]:
    """Residents following Almaly (ru, kk), one following Medeu, one who blocked the bot."""
    almaly = await _district(session, "almaly")
    medeu = await _district(session, "medeu")
    people = {
        "ru": User(tg_id=7001, locale="ru", district_id=almaly.id),
        "kk": User(tg_id=7002, locale="kk", district_id=almaly.id),
        "medeu": User(tg_id=7003, locale="en", district_id=medeu.id),
        "blocked": User(tg_id=7004, locale="ru", district_id=almaly.id, reachable=False),
    }
    session.add_all(people.values())
    await session.flush()
    for key, user in people.items():
        district_id = medeu.id if key == "medeu" else almaly.id
        session.add(Follow(user_id=user.id, district_id=district_id))
    await session.commit()
    return {key: user.tg_id for key, user in people.items()}


async def notices(session: AsyncSession) -> list[Notification]:
    session.expire_all()
    result = await session.execute(select(Notification).order_by(Notification.id))
    return list(result.scalars())


async def only_meeting(session: AsyncSession) -> Meeting:
    session.expire_all()
    return (await session.execute(select(Meeting))).scalar_one()


async def test_create_meeting_validates_every_step_and_notifies_followers(
    admin: BotClient, session: AsyncSession, followers: dict[str, int]
) -> None:
    sent = await admin.send("/admin")
    panel = last_message(sent)
    for section in ["Meetings", "Import an action plan", "Announcement", "Departments",
                    "Moderation", "Statistics", "Exports"]:  # fmt: skip
        assert any(section in b for b in panel.buttons), section
    sent = await admin.click(panel, "Meetings")
    sent = await admin.click(last_message(sent), "New meeting")
    sent = await admin.send("no buttons pressed")
    assert "choose the district with the buttons" in last_message(sent).text
    sent = await admin.click(last_message(sent), "Almaly")
    assert "for example 23.06.2022 15:00" in last_message(sent).text

    sent = await admin.send("next Tuesday")
    assert "could not read this date" in last_message(sent).text
    sent = await admin.send("23.06.2022 15:00")
    assert "in the past" in last_message(sent).text
    sent = await admin.send_content("sticker")
    assert "Please answer with text" in last_message(sent).text
    sent = await admin.send("15.06.2026 15:00")
    assert "Where does it take place" in last_message(sent).text
    sent = await admin.send("Университет <КазАТК> & Co, ул. Шевченко, 97")
    assert "Who holds the meeting" in last_message(sent).text
    sent = await admin.send("Досаев Е. А.")
    sent = await admin.click(last_message(sent), "Skip")  # no moderator yet
    assert "livestream" in last_message(sent).text
    sent = await admin.send("ftp://example.com/stream")
    assert "not a web link" in last_message(sent).text
    sent = await admin.send("https://www.youtube.com/watch?v=abc")
    assert "accept residents' questions" in last_message(sent).text
    sent = await admin.send("16.06.2026 10:00")
    assert "must be before the meeting starts" in last_message(sent).text
    sent = await admin.send("14.06.2026 18:00")
    preview = last_message(sent)
    assert "Check the new meeting" in preview.text
    assert "June 15, 2026, 15:00" in preview.text
    assert "Университет <КазАТК> & Co" in preview.text  # escaped, shown as typed
    assert "June 14, 2026, 18:00" in preview.text
    assert await notices(session) == []  # nothing saved or sent before «Save»

    sent = await admin.click(preview, "Save")
    assert "Notices queued for followers: 2" in sent[-2].text or any(
        "Notices queued for followers: 2" in s.text for s in sent
    )
    card = last_message(sent)
    assert "Meeting #" in card.text and "scheduled" in card.text
    meeting = await only_meeting(session)
    assert meeting.starts_at == dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)
    assert meeting.intake_closes_at == dt.datetime(2026, 6, 14, 13, 0, tzinfo=dt.UTC)
    assert meeting.moderator == ""
    assert meeting.stream_url == "https://www.youtube.com/watch?v=abc"
    assert meeting.status == MeetingStatus.SCHEDULED
    meeting_id = meeting.id

    queued = await notices(session)
    assert sorted(n.chat_id for n in queued) == [followers["ru"], followers["kk"]]
    by_chat = {n.chat_id: n for n in queued}
    assert "15 июня 2026\u202fг., 15:00" in by_chat[followers["ru"]].text
    assert "жителями Алмалинского района" in by_chat[followers["ru"]].text
    assert "&lt;КазАТК&gt; &amp; Co" in by_chat[followers["ru"]].text
    assert "15 маусым, 15:00" in by_chat[followers["kk"]].text
    assert "Әкімнің Алмалы ауданының тұрғындарымен кездесуі" in by_chat[followers["kk"]].text
    assert all(n.kind == "meeting_new" for n in queued)
    assert all(n.dedup_key and f"meeting:{meeting_id}:new:" in n.dedup_key for n in queued)

    # the Save button pressed again: the form is over, nothing is created twice
    sent = await admin.click(preview, "Save")
    assert "form is closed" in alerts(sent)[0]
    assert len((await session.execute(select(Meeting))).scalars().all()) == 1


async def _scheduled(session: AsyncSession, starts: dt.datetime, **extra: object) -> Meeting:
    almaly = await _district(session, "almaly")
    meeting = Meeting(
        district_id=almaly.id, starts_at=starts, place="Акимат", akim="Досаев Е. А.", **extra
    )
    session.add(meeting)
    await session.commit()
    return meeting


async def _open_card(admin: BotClient, button: str) -> list:  # type: ignore[type-arg]
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "Almaly")
    return await admin.click(last_message(sent), button)


async def test_edit_move_and_cancel_notify_followers(
    admin: BotClient, session: AsyncSession, followers: dict[str, int]
) -> None:
    meeting = await _scheduled(
        session,
        dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC),
        intake_closes_at=dt.datetime(2026, 6, 15, 4, 0, tzinfo=dt.UTC),
    )
    meeting_id = meeting.id
    sent = await _open_card(admin, "15.06.2026 15:00")
    card = last_message(sent)
    assert "Akim: Досаев Е. А." in card.text

    # place
    sent = await admin.click(card, "Edit")
    sent = await admin.click(last_message(sent), "Place")
    sent = await admin.send("Дворец школьников, ул. Абая, 1")
    card = last_message(sent)
    assert "Where: Дворец школьников" in card.text
    placed = await notices(session)  # a new place: the followers hear old → new, not a move
    assert sorted(n.chat_id for n in placed) == [followers["ru"], followers["kk"]]
    assert {n.kind for n in placed} == {"meeting_changed"}
    ru = next(n for n in placed if n.chat_id == followers["ru"])
    assert "Акимат → Дворец школьников, ул. Абая, 1" in ru.text

    # date and time: a move; the intake deadline after the new start is reset
    sent = await admin.click(card, "Edit")
    sent = await admin.click(last_message(sent), "Date and time")
    sent = await admin.send("01.05.2026 15:00")
    assert "in the past" in last_message(sent).text
    sent = await admin.send("14.06.2026 09:30")
    card = last_message(sent)
    assert "June 14, 2026, 09:30" in card.text
    moved = [n for n in await notices(session) if n.kind == "meeting_moved"]
    assert sorted(n.chat_id for n in moved) == [followers["ru"], followers["kk"]]
    ru = next(n for n in moved if n.chat_id == followers["ru"])
    assert "14 июня 2026\u202fг., 09:30" in ru.text and "15 июня 2026\u202fг., 15:00" in ru.text
    assert ru.kind == "meeting_moved"
    current = await only_meeting(session)
    assert current.starts_at == dt.datetime(2026, 6, 14, 4, 30, tzinfo=dt.UTC)
    assert current.intake_closes_at is None

    # stream link: a bad link is refused, then skip clears it
    sent = await admin.click(card, "Edit")
    sent = await admin.click(last_message(sent), "Livestream link")
    sent = await admin.send("youtube")
    assert "not a web link" in last_message(sent).text
    sent = await admin.click(last_message(sent), "Skip")
    assert "Livestream: —" in last_message(sent).text

    # district
    sent = await admin.click(last_message(sent), "Edit")
    sent = await admin.click(last_message(sent), "District")
    sent = await admin.click(last_message(sent), "Bostandyk")
    assert "Bostandyk" in last_message(sent).text
    await admin.click(last_message(sent), "Edit")
    sent = await admin.press(f"ax:{(await _district(session, 'almaly')).id}:{meeting_id}")
    card = last_message(sent)
    assert "Almaly" in card.text

    # cancel, with a confirmation
    sent = await admin.click(card, "Cancel the meeting")
    assert "Residents following the district will be told" in last_message(sent).text
    sent = await admin.click(last_message(sent), "Yes, cancel it")
    assert "followers to be told: 2" in alerts(sent)[0]
    assert "cancelled" in last_message(sent).text
    assert (await only_meeting(session)).status == MeetingStatus.CANCELLED
    cancelled = [n for n in await notices(session) if n.kind == "meeting_cancelled"]
    assert len(cancelled) == 2
    # a second press changes nothing and queues nothing more
    sent = await admin.press(f"am:k:{meeting_id}:0")
    assert "Only a scheduled meeting" in alerts(sent)[0]
    kinds = [n.kind for n in await notices(session)]
    assert kinds.count("meeting_changed") == 2  # the place; the stream link had none to clear
    assert len(kinds) == 6


async def test_record_outcome_figures(admin: BotClient, session: AsyncSession) -> None:
    meeting = await _scheduled(session, dt.datetime(2026, 5, 20, 10, 0, tzinfo=dt.UTC))
    meeting_id = meeting.id
    sent = await _open_card(admin, "20.05.2026 15:00")
    sent = await admin.click(last_message(sent), "Outcome figures")
    assert "(1/6)" in last_message(sent).text and "Participants" in last_message(sent).text
    sent = await admin.send("-5")
    assert "whole number, 0 or more" in last_message(sent).text
    sent = await admin.send("пятьсот")
    assert "whole number" in last_message(sent).text
    for value in ["500", "51", "93", "45", "37"]:
        await admin.send(value)
    sent = await admin.send("11")
    card = last_message(sent)
    assert "held" in card.text
    assert "Participants: 500" in card.text and "Questions in progress: 11" in card.text
    session.expire_all()
    saved = await session.get(Meeting, meeting_id)
    assert saved is not None
    assert (saved.participants, saved.speakers, saved.questions_raised) == (500, 51, 93)
    assert (saved.answered_at_meeting, saved.questions_done, saved.questions_in_work) == (
        45,
        37,
        11,
    )
    assert saved.status == MeetingStatus.HELD

    # correcting one figure later: keep the others with the button
    sent = await admin.click(card, "Outcome figures")
    assert "Now: 500" in last_message(sent).text
    sent = await admin.send("510")
    for _step in range(5):
        sent = await admin.click(last_message(sent), "Skip")
    session.expire_all()
    saved = await session.get(Meeting, meeting_id)
    assert saved is not None
    assert (saved.participants, saved.questions_in_work) == (510, 11)


async def test_list_is_paginated_newest_first(admin: BotClient, session: AsyncSession) -> None:
    for day in range(1, 11):
        await _scheduled(session, dt.datetime(2026, 7, day, 10, 0, tzinfo=dt.UTC))
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "Almaly")
    page = last_message(sent)
    assert "in all: 10" in page.text
    assert page.buttons[0].endswith("10.07.2026 15:00")
    assert "1/2" in page.buttons
    sent = await admin.click(page, "▶️")
    second = last_message(sent)
    assert [b for b in second.buttons if "2026" in b] == [
        "🗓 02.07.2026 15:00",
        "🗓 01.07.2026 15:00",
    ]
    sent = await admin.press("am:l:0:99")  # all districts, a page past the end: the last page
    assert "01.07.2026 15:00" in last_message(sent).buttons[-5]


async def test_held_meeting_can_be_recorded_with_a_past_date(
    admin: BotClient, session: AsyncSession, followers: dict[str, int]
) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "New meeting")
    await admin.click(last_message(sent), "Almaly")
    sent = await admin.send("23.06.2022 15:00")
    sent = await admin.click(last_message(sent), "It was held")
    await admin.send("КазАТК")
    await admin.send("Досаев Е. А.")
    await admin.send("Балыкбаев Т. О.")
    sent = await admin.send("https://www.youtube.com/watch?v=7Bc6S_wvZbk")
    preview = last_message(sent)
    assert "Status: held" in preview.text
    await admin.click(preview, "Save")
    meeting = await only_meeting(session)
    assert meeting.status == MeetingStatus.HELD
    assert meeting.starts_at == dt.datetime(2022, 6, 23, 9, 0, tzinfo=dt.UTC)  # UTC+6 then
    assert await notices(session) == []  # nobody is told about a meeting in the past


async def test_non_admins_get_nothing(
    make_client: Callable[..., BotClient], session: AsyncSession, clock: None
) -> None:
    meeting = await _scheduled(session, dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC))
    meeting_id = meeting.id
    resident = make_client(user_id=5601, language_code="en")
    await onboard(resident, "en")
    sent = await resident.send("/admin")
    assert last_message(sent).text == "I do not know this command. Send /help to see what I can do."
    for data in [
        "adm:home",
        "adm:meet",
        "adm:dep",
        "adm:stat",
        f"am:o:{meeting_id}:0",
        f"am:k:{meeting_id}:0",
        f"af:{meeting_id}:p",
        f"ax:1:{meeting_id}",
        "ac:save",
        "aa:s:0:abc",
    ]:
        sent = await resident.press(data)
        assert alerts(sent) == ["Sorry, this is only for akimat staff."], data
        assert not [
            s for s in sent if type(s.method).__name__ in {"SendMessage", "EditMessageText"}
        ]
    session.expire_all()
    unchanged = await session.get(Meeting, meeting_id)
    assert unchanged is not None
    assert (
        unchanged.status == MeetingStatus.SCHEDULED
        and unchanged.district_id == (await _district(session, "almaly")).id
    )
