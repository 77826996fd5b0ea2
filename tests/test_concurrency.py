"""One winner when two people act at the same moment: a measure's status or progress, a
question's moderation or answer, an invitation. Exactly one change, one history row and one set
of notifications; the other person is told what happened. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.keyboards.moderation import ModAction, ModCb
from models import departments as deps
from models import moderation as mod
from models.claims import claim_question
from models.departments import InviteOutcome
from models.entities import (
    Category,
    DepartmentMember,
    Measure,
    MeasureStatus,
    MeasureUpdate,
    Notification,
    Question,
    QuestionStatus,
    User,
)
from models.measures import ChangeConflict, record_change
from models.settings import Settings
from tests.conftest import ADMIN_ID, onboard
from tests.harness import (
    TOKEN,
    BotClient,
    RecordingSession,
    Sent,
    alerts,
    last_message,
    messages,
)
from tests.test_department_join import department_id, invite, member
from tests.test_department_measures import follower, measure_id
from tests.test_moderation import RESIDENT_ID, add_question
from tests.test_questions_form import district_by_slug

SQUARE = "Завершение ремонта сквера"


async def _history(session: AsyncSession, measure: int) -> list[MeasureUpdate]:
    result = await session.execute(
        select(MeasureUpdate)
        .where(MeasureUpdate.measure_id == measure)
        .order_by(MeasureUpdate.id)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def _count_notices(session: AsyncSession, kind: str, chat_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.kind == kind, Notification.chat_id == chat_id)
    )
    return int(result.scalar_one())


async def _at_photo_step(client: BotClient) -> Sent:
    sent = await client.send("🏢 Our measures")
    sent = await client.click(last_message(sent), SQUARE)
    sent = await client.click(last_message(sent), "Mark done")
    sent = await client.send("Сквер отремонтирован, скамейки и освещение установлены.")
    return last_message(sent)


def _said(sent: list[Sent], chat_id: int) -> str:
    """What one person was told (the two feeds run at once, so each one's list of requests may
    hold the other's too)."""
    return "\n".join(s.text for s in messages(sent) if getattr(s.method, "chat_id", 0) == chat_id)


async def test_two_officials_mark_done_at_once_one_wins(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    square = await measure_id(session_pool, SQUARE)
    await follower(make_client, session_pool, 4100, square, "en")
    first = await member(make_client, session_pool, "almaly_akim_office", 4003)
    second = await member(make_client, session_pool, "almaly_akim_office", 4004)
    prompts = [await _at_photo_step(first), await _at_photo_step(second)]

    results = await asyncio.gather(
        first.click(prompts[0], "Skip"), second.click(prompts[1], "Skip")
    )
    said = [_said(r, c.user_id) for r, c in zip(results, (first, second), strict=True)]
    assert sum("Saved: done" in s for s in said) == 1, said
    loser = next(s for s in said if "Saved: done" not in s)
    assert "Nothing was changed" in loser or "closed meanwhile" in loser, loser
    assert not any("Sorry" in s for s in said)

    done = [h for h in await _history(session, square) if h.status == MeasureStatus.DONE]
    assert len(done) == 1
    assert await _count_notices(session, "measure_done_check", 4100) == 1


async def test_the_loser_of_a_status_race_is_told_who_won(
    session_pool: async_sessionmaker[AsyncSession], demo: int
) -> None:
    """Deterministic interleaving with two sessions: both read, one writes, then the other."""
    square = await measure_id(session_pool, SQUARE)
    akim = await department_id(session_pool, "almaly_akim_office")
    async with session_pool() as one, session_pool() as two:
        seen_one = await one.get(Measure, square)
        seen_two = await two.get(Measure, square)
        assert seen_one is not None and seen_two is not None
        await record_change(
            one, seen_one, author_id=None, department_id=akim, status=MeasureStatus.DONE
        )
        await one.commit()
        with pytest.raises(ChangeConflict):
            await record_change(
                two, seen_two, author_id=None, department_id=akim, status=MeasureStatus.CANCELLED
            )
        await two.rollback()
        # progress: the value seen is part of the condition
        fresh_one = await one.get(Measure, square, populate_existing=True)
        fresh_two = await two.get(Measure, square, populate_existing=True)
        assert fresh_one is not None and fresh_two is not None
        await record_change(one, fresh_one, author_id=None, department_id=akim, progress=60)
        await one.commit()
        with pytest.raises(ChangeConflict):
            await record_change(two, fresh_two, author_id=None, department_id=akim, progress=70)
        await two.rollback()
    async with session_pool() as check:
        measure = await check.get(Measure, square)
        assert measure is not None
        assert (measure.status, measure.progress) == (MeasureStatus.DONE, 60)
        assert [h.status for h in await _history(check, square)] == [MeasureStatus.DONE, None]


async def _question(session_pool: async_sessionmaker[AsyncSession]) -> int:
    async with session_pool() as session:
        district = await district_by_slug(session)
        category = (await session.execute(select(Category))).scalars().first()
        assert category is not None
        question = Question(
            district_id=district.id,
            category_id=category.id,
            text="Во дворе не работает освещение третий месяц.",
            text_hash="x",
            status=QuestionStatus.SUBMITTED,
        )
        session.add(question)
        await session.commit()
        return question.id


async def test_two_moderators_one_accepts_one_rejects_only_one_goes_through(
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    question_id = await _question(session_pool)
    async with session_pool() as one, session_pool() as two:
        seen_one = await one.get(Question, question_id)
        seen_two = await two.get(Question, question_id)
        assert seen_one is not None and seen_two is not None
        assert await claim_question(one, seen_one)
        mod.accept(seen_one, seen_one.category_id, None)
        await one.commit()
        assert not await claim_question(two, seen_two)  # the reject is refused
        await two.rollback()
    async with session_pool() as check:
        question = await check.get(Question, question_id)
        assert question is not None and question.status == QuestionStatus.ACCEPTED
        assert question.reject_reason is None


async def test_two_officials_answer_the_same_question_once(
    session_pool: async_sessionmaker[AsyncSession], demo: int
) -> None:
    question_id = await _question(session_pool)
    dep = await department_id(session_pool, "almaly_akim_office")
    async with session_pool() as session:
        question = await session.get(Question, question_id)
        assert question is not None
        assert await claim_question(session, question)
        mod.accept(question, question.category_id, dep)
        await session.commit()

    async def answer(text: str) -> bool:
        async with session_pool() as session:
            question = await session.get(Question, question_id)
            assert question is not None
            if not deps.can_answer(question) or not await claim_question(session, question):
                return False
            deps.answer_question(question, text)
            await session.commit()
            return True

    outcomes = await asyncio.gather(answer("Первый ответ."), answer("Второй ответ."))
    assert sorted(outcomes) == [False, True]
    async with session_pool() as check:
        question = await check.get(Question, question_id)
        assert question is not None and question.status == QuestionStatus.DONE
        assert question.answer in ("Первый ответ.", "Второй ответ.")


async def test_an_invitation_opened_by_two_people_at_once_is_used_once(
    session_pool: async_sessionmaker[AsyncSession], demo: int
) -> None:
    token = await invite(session_pool, "almaly_akim_office")
    async with session_pool() as session:
        people = [User(tg_id=8801, locale="en"), User(tg_id=8802, locale="en")]
        session.add_all(people)
        await session.commit()
        ids = [p.id for p in people]

    async def redeem(user_id: int) -> InviteOutcome:
        async with session_pool() as session:
            user = await session.get(User, user_id)
            assert user is not None
            outcome, _department = await deps.redeem_for_user(session, token, user)
            await session.commit()
            return outcome

    outcomes = await asyncio.gather(redeem(ids[0]), redeem(ids[1]))
    assert sorted(outcomes) == sorted([InviteOutcome.JOINED, InviteOutcome.USED])
    async with session_pool() as check:
        members = await check.execute(
            select(func.count())
            .select_from(DepartmentMember)
            .where(DepartmentMember.user_id.in_(ids))
        )
        assert members.scalar_one() == 1


SECOND_ADMIN = ADMIN_ID + 1


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Two akimat staff members for the moderation race."""
    return Settings(
        bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=db_url,
        admin_ids=frozenset({ADMIN_ID, SECOND_ADMIN}),
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_two_moderators_confirm_at_once_the_author_hears_once(
    make_client: Callable[..., BotClient],
    bot_session: RecordingSession,
    session: AsyncSession,
    demo: int,
) -> None:
    author = make_client(user_id=RESIDENT_ID, language_code="ru")
    await onboard(author, "ru")
    question = await add_question(session, demo, "Течёт крыша в доме по Абая 10")
    moderators = [
        make_client(user_id=tg_id, language_code="en", first_name=f"Staff{tg_id}")
        for tg_id in (ADMIN_ID, SECOND_ADMIN)
    ]
    confirms = []
    for moderator in moderators:
        await onboard(moderator, "en")
        sent = await moderator.press(ModCb(action=ModAction.OPEN, id=question.id).pack())
        sent = await moderator.click(last_message(sent), "Accept")
        confirms.append(last_message(sent))

    start = len(bot_session.requests)
    await asyncio.gather(
        *(m.click(c, "Confirm") for m, c in zip(moderators, confirms, strict=True))
    )
    answers = alerts(bot_session.requests[start:])  # both feeds' answers, each once
    assert sorted(answers) == [
        "Saved.",
        "This question has already been handled; here is where it stands.",
    ], answers
    news = await session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.chat_id == RESIDENT_ID, Notification.kind == "question_news")
    )
    assert news.scalar_one() == 1
