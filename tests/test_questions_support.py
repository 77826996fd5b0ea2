"""Residents browse a meeting's accepted questions and support them; the agenda ranks them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import CatalogI18n
from models.entities import Notification, Question, QuestionStatus, QuestionSupport, User
from models.questions import (
    SUPPORT_MILESTONES,
    SupportResult,
    create_question,
    ranked_questions,
    support,
    unsupport,
)
from scheduler.notifications import questions as notifications
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message
from tests.test_questions_form import add_meeting, district_by_slug, profile

NEXT = "📅 Next meeting"


async def _support(
    session: AsyncSession, question: Question, user: User, i18n: CatalogI18n
) -> SupportResult:
    """Support as the bot's button does: the author hears at 10, 50 and 100 supporters."""
    result = await support(session, question, user)
    if result is SupportResult.ADDED and question.supporters in SUPPORT_MILESTONES:
        await notifications.support_milestone(session, i18n, question, question.supporters)
    return result


async def _questions(
    session: AsyncSession, meeting_id: int, author: User | None, statuses: list[str]
) -> list[Question]:
    district = await district_by_slug(session)
    made = []
    for n, status in enumerate(statuses):
        question = await create_question(
            session,
            district_id=district.id,
            category_id=1 + n % 10,
            text=f"Resident question {n + 1}: <b>trees</b> & benches",
            meeting_id=meeting_id,
            author=author,
            show_name=n == 0,
        )
        question.status = status
        made.append(question)
    await session.commit()
    return made


async def _supports(session: AsyncSession, question_id: int) -> tuple[int, int]:
    """(the counter on the question, the rows behind it)."""
    counter = (
        await session.execute(
            select(Question.supporters)
            .where(Question.id == question_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    rows = (
        await session.execute(
            select(func.count()).where(QuestionSupport.question_id == question_id)
        )
    ).scalar_one()
    return counter, rows


async def test_browse_and_support_with_one_tap(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    meeting_id = await add_meeting(session_pool)
    author_client = make_client(user_id=8001, first_name="Ерлан", last_name=None)
    await onboard(author_client, "en")
    author = await profile(session, 8001)
    first, anonymous, rejected, submitted = await _questions(
        session,
        meeting_id,
        author,
        [
            QuestionStatus.ACCEPTED,
            QuestionStatus.IN_WORK,
            QuestionStatus.REJECTED,
            QuestionStatus.SUBMITTED,
        ],
    )

    client = make_client(user_id=8002)
    await onboard(client, "en")
    sent = await client.send(NEXT)
    card = last_message(sent)
    assert "👍 Residents' questions (2)" in card.buttons
    sent = await client.click(card, "Residents' questions")
    page = last_message(sent)
    assert "Resident question 1: <b>trees</b> & benches" in page.text  # literally
    assert "Asked by Ерлан" in page.text  # the author chose to show the name
    assert page.text.count("Asked by") == 1  # the anonymous one shows no name
    assert "Resident question 3" not in page.text  # rejected
    assert "Resident question 4" not in page.text  # not moderated yet
    assert page.buttons == ["👍 1 · 0", "👍 2 · 0"]

    sent = await client.click(page, "👍 2")
    assert "you support this question" in alerts(sent)[0]
    page = last_message(sent)
    # the supported question now leads the agenda and is marked as supported
    assert page.text.index("Resident question 2") < page.text.index("Resident question 1")
    assert page.buttons == ["✅ 1 · 1", "👍 2 · 0"]
    assert await _supports(session, anonymous.id) == (1, 1)

    sent = await client.click(page, "✅ 1")  # tap again: withdraw
    assert "Support withdrawn" in alerts(sent)[0]
    assert await _supports(session, anonymous.id) == (0, 0)
    sent = await client.click(last_message(sent), "👍 2")  # support it again
    assert await _supports(session, anonymous.id) == (1, 1)
    # the same button of an older list toggles again: it never counts twice
    sent = await client.press(f"qs:t:{meeting_id}:0:{anonymous.id}")
    assert "Support withdrawn" in alerts(sent)[0]
    assert await _supports(session, anonymous.id) == (0, 0)

    # forged: a rejected or not yet moderated question, an unknown one
    for question in (rejected, submitted):
        sent = await client.press(f"qs:t:{meeting_id}:0:{question.id}")
        assert "Only residents of the district" in alerts(sent)[0]
        assert await _supports(session, question.id) == (0, 0)
    sent = await client.press(f"qs:t:{meeting_id}:0:999999")
    assert alerts(sent)

    # the author cannot support their own question: no button, and a forged tap is refused
    sent = await author_client.send(NEXT)
    sent = await author_client.click(last_message(sent), "Residents' questions")
    assert "(your question)" in last_message(sent).text
    assert last_message(sent).buttons == []
    sent = await author_client.press(f"qs:t:{meeting_id}:0:{first.id}")
    assert "cannot support your own question" in alerts(sent)[0]
    assert await _supports(session, first.id) == (0, 0)


async def test_only_residents_of_the_district_support(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    meeting_id = await add_meeting(session_pool)
    [question] = await _questions(session, meeting_id, None, [QuestionStatus.ACCEPTED])
    outsider = make_client(user_id=8101)
    await onboard(outsider, "en", district="Medeu")
    sent = await outsider.press(f"qs:l:{meeting_id}:0:0")
    assert "Resident question 1" in last_message(sent).text  # browsing is open
    sent = await outsider.press(f"qs:t:{meeting_id}:0:{question.id}")
    assert "Only residents of the district" in alerts(sent)[0]
    assert await _supports(session, question.id) == (0, 0)
    sent = await outsider.press("qs:l:999999:0:0")
    assert alerts(sent)


async def test_pages_of_the_agenda(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    meeting_id = await add_meeting(session_pool)
    await _questions(session, meeting_id, None, [QuestionStatus.ACCEPTED] * 7)
    await onboard(client, "ru")
    sent = await client.send("📅 Ближайшая встреча")
    sent = await client.click(last_message(sent), "Вопросы жителей")
    page = last_message(sent)
    assert "Вопросы жителей ко встрече" in page.text
    assert page.buttons[-2:] == ["1/2", "▶️"]
    sent = await client.click(page, "▶️")
    assert "Resident question 7" in last_message(sent).text
    assert "👍 7 · 0" in last_message(sent).buttons


async def test_ranking_counters_and_milestones(
    session: AsyncSession, session_pool: async_sessionmaker[AsyncSession], i18n: CatalogI18n
) -> None:
    meeting_id = await add_meeting(session_pool)
    district = await district_by_slug(session)
    author = User(tg_id=8200, locale="en", district_id=district.id, full_name="Author")
    session.add(author)
    await session.flush()
    low, high, oral = await _questions(
        session,
        meeting_id,
        author,
        [QuestionStatus.ACCEPTED, QuestionStatus.ANSWERED_AT_MEETING, QuestionStatus.DONE],
    )
    residents = [
        User(tg_id=8300 + n, locale="ru", district_id=district.id, full_name=f"R{n}")
        for n in range(12)
    ]
    session.add_all(residents)
    await session.flush()
    for resident in residents:
        assert await _support(session, high, resident, i18n) is SupportResult.ADDED
    assert await _support(session, high, residents[0], i18n) is SupportResult.ALREADY
    assert await _support(session, low, residents[0], i18n) is SupportResult.ADDED
    assert await _support(session, low, author, i18n) is SupportResult.OWN
    await session.commit()

    ranked = await ranked_questions(session, meeting_id)
    assert [q.id for q in ranked] == [high.id, low.id, oral.id]
    assert await _supports(session, high.id) == (12, 12)

    # the author is told once at 10 (in the author's language), even after a withdraw and redo
    notes = list((await session.execute(select(Notification))).scalars())
    assert [n.dedup_key for n in notes] == [f"support-milestone:{high.id}:10"]
    assert "Residents who support it: 10" in notes[0].text
    assert "&lt;b&gt;trees&lt;/b&gt; &amp; benches" in notes[0].text
    for resident in residents[:3]:
        assert await unsupport(session, high, resident) is SupportResult.REMOVED
    assert await unsupport(session, high, residents[0]) is SupportResult.ALREADY
    for resident in residents[:3]:
        await _support(session, high, resident, i18n)
    await session.commit()
    assert await _supports(session, high.id) == (12, 12)
    count = (await session.execute(select(func.count(Notification.id)))).scalar_one()
    assert count == 1
