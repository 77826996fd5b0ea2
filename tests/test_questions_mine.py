"""The next meeting card, following a district, and "my questions" with statuses and answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.formatting import fmt_datetime
from bot.i18n import CatalogI18n
from models.entities import Follow, Meeting, Notification, QuestionStatus
from models.questions import create_question
from scheduler.notifications.questions import question_news
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message
from tests.test_questions_form import add_meeting, all_questions, ask, district_by_slug, profile

NEXT = {"ru": "📅 Ближайшая встреча", "kk": "📅 Келесі кездесу", "en": "📅 Next meeting"}
MINE = {"ru": "🗂 Мои вопросы", "kk": "🗂 Менің сұрақтарым", "en": "🗂 My questions"}


async def test_next_meeting_card_in_each_language(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    meeting_id = await add_meeting(session_pool, days=12, intake_days=10)
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    words = {
        "ru": ("Ближайшая встреча", "Срок приёма вопросов"),
        "kk": ("келесі кездесу", "Сұрақ қабылдаудың соңғы мерзімі"),
        "en": ("Next meeting with residents", "Questions are accepted until"),
    }
    for n, locale in enumerate(("ru", "kk", "en")):
        client = make_client(user_id=7100 + n, language_code=locale)
        await onboard(client, locale)
        sent = await client.send(NEXT[locale])
        card = last_message(sent)
        title, intake = words[locale]
        assert title.lower() in card.text.lower()
        assert fmt_datetime(meeting.starts_at, locale) in card.text  # Babel, Almaty time
        assert meeting.intake_closes_at is not None
        assert intake in card.text
        assert fmt_datetime(meeting.intake_closes_at, locale) in card.text
        assert "Дворец школьников, ул. Толе би 85" in card.text
        assert "https://youtube.com/live/almaly" in card.text
        assert any(b.startswith("❓") for b in card.buttons)
        assert any(b.startswith("🔔") for b in card.buttons)


async def test_almaty_time_is_shown(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    async with session_pool() as work:
        district = await district_by_slug(work)
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=30)
        start = start.replace(hour=10, minute=0, second=0)  # 15:00 in Almaty (UTC+5)
        work.add(Meeting(district_id=district.id, starts_at=start, place="Akimat"))
        await work.commit()
    await onboard(client, "en")
    sent = await client.send(NEXT["en"])
    assert "15:00" in last_message(sent).text
    # no intake deadline: questions are accepted until the start
    assert "Questions are accepted until" in last_message(sent).text


async def test_no_meeting_offers_to_follow_the_district(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    # a past meeting and a cancelled one do not count
    await add_meeting(session_pool, days=-5)
    from models.entities import MeetingStatus

    await add_meeting(session_pool, days=5, status=MeetingStatus.CANCELLED)
    await onboard(client, "en")
    sent = await client.send(NEXT["en"])
    card = last_message(sent)
    assert "No meeting of the akim with residents of Almaly district is scheduled yet" in card.text
    assert "Follow the district" in card.text
    sent = await client.click(card, "Follow the district")
    assert "You follow Almaly" in alerts(sent)[0]
    assert "You follow the district" in last_message(sent).text
    assert not any(b.startswith("🔔") for b in last_message(sent).buttons)
    user = await profile(session, client.user_id)
    follows = (await session.execute(select(Follow).where(Follow.user_id == user.id))).scalars()
    [follow] = list(follows)
    assert follow.district_id == (await district_by_slug(session)).id
    # a second tap (an old card) is harmless
    await client.click(card, "Follow the district")
    follows = (await session.execute(select(Follow).where(Follow.user_id == user.id))).scalars()
    assert len(list(follows)) == 1

    # "ask a question" from the card starts the form
    card = last_message(sent)
    sent = await client.click(card, "Ask a question")
    assert "processing of your personal data" in last_message(sent).text
    sent = await client.click(card, "Ask a question")  # already in a form
    assert "middle of filling in a form" in alerts(sent)[0]
    sent = await client.press("qn:f:99999")
    assert "out of date" in alerts(sent)[0] or "finished" in alerts(sent)[0]


async def test_my_questions_statuses_answers_and_pages(
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    meeting_id = await add_meeting(session_pool)
    await onboard(client, "en")
    sent = await client.send(MINE["en"])
    assert "You have not sent any questions yet" in last_message(sent).text

    await ask(client, session, "The first question: the lights in the yard are off.", "en")
    user = await profile(session, client.user_id)
    district = await district_by_slug(session)
    statuses = [
        (QuestionStatus.ACCEPTED, None, None),
        (QuestionStatus.REJECTED, "Not about the district <b>at all</b> & off-topic", None),
        (QuestionStatus.ANSWERED_AT_MEETING, None, "The akim promised it by <i>May</i> & June"),
        (QuestionStatus.IN_WORK, None, None),
        (QuestionStatus.DONE, None, "Repaired on 1 March."),
        (QuestionStatus.SUBMITTED, None, None),
    ]
    for n, (status, reason, answer) in enumerate(statuses):
        question = await create_question(
            session,
            district_id=district.id,
            category_id=1,
            text=f"Question number {n + 2} about the district",
            meeting_id=meeting_id,
            author=user,
        )
        question.status = status
        question.reject_reason = reason
        question.answer = answer
        question.created_at = question.created_at + dt.timedelta(minutes=n + 1)
    await session.commit()

    sent = await client.send(MINE["en"])
    page = last_message(sent)
    assert "My questions (7)" in page.text
    # newest first: the last created is on top
    assert page.text.index("Question number 7") < page.text.index("Question number 3")
    assert "submitted, awaiting moderation" in page.text
    assert "answered at the meeting" in page.text
    assert "Answer: The akim promised it by <i>May</i> & June" in page.text
    assert "Reason: Not about the district <b>at all</b> & off-topic" in page.text
    assert "AL-0007" in page.text and "AL-0001" not in page.text
    assert page.buttons == ["1/2", "▶️"]

    sent = await client.click(page, "▶️")
    second = last_message(sent)
    assert "AL-0001" in second.text and "AL-0002" in second.text
    assert "The first question" in second.text
    assert "◀️" in second.buttons
    sent = await client.press("qm:99")  # a forged page number is kept inside the list
    assert "AL-0001" in last_message(sent).text


async def test_author_is_notified_when_status_changes(
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "kk")
    await ask(client, session, "Аулада балалар алаңы сынған, жөндеу керек.", "kk")
    [question] = await all_questions(session)
    question.status = QuestionStatus.REJECTED
    question.reject_reason = "Қайталанатын <сұрақ>"
    await session.flush()
    assert await question_news(session, i18n, question, event="rejected")
    assert not await question_news(session, i18n, question, event="rejected")
    await session.commit()
    [note] = list((await session.execute(select(Notification))).scalars())
    assert note.chat_id == client.user_id
    assert "AL-0001" in note.text and "&lt;сұрақ&gt;" in note.text
    assert "Мәртебесі" in note.text


async def test_long_answers_still_fit_one_message(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    meeting_id = await add_meeting(session_pool)
    await onboard(client, "kk")
    user = await profile(session, client.user_id)
    district = await district_by_slug(session)
    for n in range(5):
        question = await create_question(
            session,
            district_id=district.id,
            category_id=1,
            text=f"{n} " + "<b>&" * 700,
            meeting_id=meeting_id,
            author=user,
        )
        question.status = QuestionStatus.REJECTED if n % 2 else QuestionStatus.DONE
        question.reject_reason = "Себебі & <i>" * 100
        question.answer = "Жауап <script> & " * 250
    await session.commit()
    sent = await client.send(MINE["kk"])
    page = last_message(sent)  # the recording session refuses what Telegram would refuse
    assert "Менің сұрақтарым" in page.text
    assert len(page.text) <= 4096
    assert "<script>" in page.text and "Себебі & <i>" in page.text
