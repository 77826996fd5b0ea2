"""/mydata shows what is stored; /forget (confirmed) erases personal data, questions stay
anonymised for the statistics, and the person can start over."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import CatalogI18n
from models.entities import (
    Department,
    DepartmentMember,
    Follow,
    Notification,
    QuestionStatus,
    QuestionSupport,
)
from models.follows import follow
from models.questions import support
from scheduler.notifications.questions import question_news
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message
from tests.test_questions_form import add_meeting, all_questions, ask, district_by_slug, profile


async def _count(session: AsyncSession, model: type, *where: object) -> int:
    query = select(func.count()).select_from(model)
    for clause in where:
        query = query.where(clause)  # type: ignore[arg-type]
    return int((await session.execute(query)).scalar_one())


async def test_mydata_shows_what_is_stored(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    for n, (locale, word) in enumerate([("ru", "Что бот хранит"), ("kk", "Бот сіз туралы")]):
        other = make_client(user_id=9100 + n, language_code=locale)
        await onboard(other, locale)
        sent = await other.send("/mydata")
        assert word in last_message(sent).text

    await add_meeting(session_pool)
    client = make_client()
    await onboard(client, "en")
    sent = await client.send("/mydata")
    card = last_message(sent)
    assert "What the bot stores about you" in card.text
    assert "Name: Айгерим Сейткали" in card.text
    assert "Username: @aigerim" in card.text
    assert "Language: English" in card.text
    assert "District: Almaly District" in card.text
    assert "Consent to the processing of personal data: not given" in card.text
    assert "Questions sent: 0" in card.text

    await ask(client, session, "A question to see in /mydata, about the lights.", "en")
    user = await profile(session, client.user_id)
    await follow(session, user.id, district_id=user.district_id)
    department = (await session.execute(select(Department).limit(1))).scalar_one()
    session.add(DepartmentMember(department_id=department.id, user_id=user.id))
    await session.commit()
    sent = await client.send("/mydata")
    card = last_message(sent)
    assert "Consent to the processing of personal data: not given" not in card.text
    assert "Questions sent: 1 (with your name shown: 1)" in card.text
    assert "Following: 1" in card.text
    assert f"Member of: {department.short('en')}" in card.text
    assert "/forget" in card.text


async def test_forget_erases_personal_data_and_keeps_questions_anonymised(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    meeting_id = await add_meeting(session_pool)
    client = make_client(user_id=9001)
    await onboard(client, "ru")
    await ask(client, session, "Вопрос с именем: когда починят освещение во дворе?")
    await ask(client, session, "Анонимный вопрос: когда покрасят детскую площадку?", anonymous=True)
    user = await profile(session, client.user_id)
    # someone else's accepted question this user supports, follows, a queued message
    neighbour = make_client(user_id=9002, first_name="Сосед", last_name=None)
    await onboard(neighbour, "ru")
    await ask(neighbour, session, "Вопрос соседа о парковке возле школы номер 12.")
    questions = await all_questions(session)
    theirs = questions[-1]
    theirs.status = QuestionStatus.ACCEPTED
    assert theirs.meeting_id == meeting_id
    assert await support(session, theirs, user)
    await follow(session, user.id, district_id=user.district_id)
    mine = questions[0]
    mine.status = QuestionStatus.ACCEPTED
    await session.flush()
    await question_news(session, i18n, mine, event="accepted")
    await session.commit()
    assert await _count(session, Notification, Notification.user_id == user.id) == 1

    sent = await client.send("/forget")
    prompt = last_message(sent)
    assert "Удалить ваши персональные данные?" in prompt.text
    sent = await client.send("да")  # not a button
    assert "Ответьте кнопками" in last_message(sent).text
    sent = await client.click(prompt, "Да, удалить")
    assert "Ваши персональные данные удалены" in last_message(sent).text
    assert "/start" in last_message(sent).text

    user = await profile(session, client.user_id)
    assert user.full_name == "" and user.username is None
    assert user.consent_at is None and user.district_id is None
    assert await _count(session, Follow, Follow.user_id == user.id) == 0
    assert await _count(session, QuestionSupport, QuestionSupport.user_id == user.id) == 0
    assert await _count(session, Notification, Notification.user_id == user.id) == 0
    questions = await all_questions(session)
    assert len(questions) == 3  # nothing deleted from the statistics
    for question in questions[:2]:
        assert question.author_id is None
        assert question.author_name is None and question.show_name is False
    assert questions[0].text.startswith("Вопрос с именем")
    # the supporter counter still equals its rows
    assert questions[2].supporters == 0
    assert questions[2].author_name == "Сосед"  # other people's data untouched
    assert questions[2].author_id is not None

    # the stale confirmation button does nothing more
    sent = await client.click(prompt, "Да, удалить")
    assert "устарело" in alerts(sent)[0]

    # and the person can start over
    sent = await client.send("🗂 Мои вопросы")
    assert "ещё не отправляли" in last_message(sent).text
    sent = await client.send("/start")
    assert "Выберите свой район" in last_message(sent).text
    # further messages do not write the Telegram name back
    user = await profile(session, client.user_id)
    assert user.full_name == "" and user.username is None


async def test_forget_can_be_declined_or_cancelled(
    client: BotClient, session: AsyncSession
) -> None:
    await onboard(client, "en")
    sent = await client.send("/forget")
    sent = await client.click(last_message(sent), "No, keep everything")
    assert "Nothing was deleted" in last_message(sent).text
    sent = await client.send("/forget")
    sent = await client.send("/cancel")
    assert "Cancelled" in last_message(sent).text
    user = await profile(session, client.user_id)
    assert user.full_name == "Айгерим Сейткали"
    assert user.district_id == (await district_by_slug(session)).id
    sent = await client.press("qp:yes")  # a forged confirmation outside the dialogue
    assert "out of date" in alerts(sent)[0]
    user = await profile(session, client.user_id)
    assert user.full_name == "Айгерим Сейткали"
