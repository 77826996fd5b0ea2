""" "Already promised or asked?" before a question is sent: the district's measures and the
meeting's accepted questions close to the text, found by word forms as the search finds them,
with follow and support buttons; the resident can still send theirs, and moderators see the same
matches on the question's card."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.clock import local_today
from models.entities import (
    Category,
    Follow,
    Measure,
    Question,
    QuestionStatus,
    QuestionSupport,
    User,
)
from models.questions import create_question
from models.similar import similar_items
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages
from tests.test_questions_form import (
    ANON,
    SEND,
    add_meeting,
    district_by_slug,
    go_to,
)

POLYCLINIC = "Когда начнут строить новую поликлинику на месте ревматологического центра?"


async def accepted_question(session: AsyncSession, meeting_id: int, text: str) -> tuple[int, str]:
    """Another resident's question, accepted for the meeting."""
    district = await district_by_slug(session)
    author = User(tg_id=7700, locale="ru", district_id=district.id, full_name="Асель")
    session.add(author)
    await session.flush()
    category = (await session.execute(select(Category).order_by(Category.id))).scalars().first()
    assert category is not None
    question = await create_question(
        session,
        district_id=district.id,
        category_id=category.id,
        text=text,
        meeting_id=meeting_id,
        author=author,
        status=QuestionStatus.ACCEPTED,
    )
    await session.commit()
    return question.id, question.ref or ""


async def polyclinic_measure(session: AsyncSession) -> int:
    found = await session.execute(select(Measure.id).where(Measure.text.like("%поликлиники%")))
    return int(found.scalar_one())


async def test_close_measures_and_questions_before_sending(
    demo: int,
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    meeting_id = await add_meeting(session_pool)
    question_id, ref = await accepted_question(
        session, meeting_id, "Построят ли новую поликлинику в Алмалинском районе в этом году?"
    )
    measure_id = await polyclinic_measure(session)
    await onboard(client, "ru")
    await go_to(client, session, "text", "ru")
    sent = await client.send(POLYCLINIC)
    shown = messages(sent)
    assert len(shown) == 2  # the close ones, then the next step of the form
    close = shown[0]
    assert "Уже обещано или уже спрашивали?" in close.text
    assert "4.1" in close.text and "новой поликлиники" in close.text
    assert ref in close.text and "Построят ли новую поликлинику" in close.text
    # 4.1 of the plan, and the Rheumatology Centre's move stated at the meeting (🗣9)
    assert close.buttons == ["🔔 Подписаться: 4.1", "🔔 Подписаться: 🗣9", f"👍 Поддержать: {ref}"]
    assert "мекенжай" not in shown[1].text and "адрес" in shown[1].text.lower()

    sent = await client.click(close, "Подписаться")
    assert "Вы подписались на это обязательство" in alerts(sent)[0]
    sent = await client.click(close, "Поддержать")
    assert "вы поддержали этот вопрос" in alerts(sent)[0]
    sent = await client.click(close, "Поддержать")  # twice: still one support
    user = (await session.execute(select(User).where(User.tg_id == client.user_id))).scalar_one()
    follows = await session.execute(
        select(Follow).where(Follow.user_id == user.id, Follow.measure_id == measure_id)
    )
    assert len(follows.all()) == 1
    supports = await session.execute(
        select(QuestionSupport).where(QuestionSupport.question_id == question_id)
    )
    assert len(supports.all()) == 1

    # the form went on: the resident still sends theirs
    sent = await client.click(last_message(await client.send("ул. Толе би, 85")), ANON)
    sent = await client.click(last_message(sent), SEND)
    assert "Ваш вопрос отправлен" in last_message(sent).text

    # moderators see the same matches on the card
    admin_client = BotClient(dp=client.dp, bot=client.bot, user_id=ADMIN_ID, language_code="en")
    await onboard(admin_client, "en")
    sent = await admin_client.send("/moderate")
    mine = await session.execute(
        select(Question.ref).where(Question.author_id == user.id, Question.text == POLYCLINIC)
    )
    card_button = str(mine.scalar_one())
    sent = await admin_client.click(last_message(sent), card_button)
    card = last_message(sent).text
    assert "Already promised:" in card and "4.1" in card and "новой поликлиники" in card
    assert "Already asked:" in card and ref in card


async def test_nothing_close_says_nothing(
    demo: int,
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    sent = await client.send("The swings in the yard on Zhibek Zholy 50 are broken for a month.")
    assert len(messages(sent)) == 1
    assert "send the address" in last_message(sent).text
    assert "Already promised" not in last_message(sent).text


async def test_word_forms_and_the_district_decide(
    demo: int, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    almaly = await district_by_slug(session)
    medeu = await district_by_slug(session, "medeu")
    today = local_today()
    measure_id = await polyclinic_measure(session)
    for text in (
        "Поликлиника на месте Ревматологического центра: когда?",
        "когда будет новая поликлиника",
        "мавзолей Райымбек батыра отремонтируют?",
    ):
        found = await similar_items(
            session, text, district_id=almaly.id, meeting_id=None, today=today
        )
        assert found.measures, text
    found = await similar_items(
        session,
        "когда будет новая поликлиника",
        district_id=almaly.id,
        meeting_id=None,
        today=today,
    )
    assert found.measures[0].id == measure_id
    # another district's resident: Almaly's plan is not theirs
    elsewhere = await similar_items(
        session, POLYCLINIC, district_id=medeu.id, meeting_id=None, today=today
    )
    assert not elsewhere
    # a word every measure has, or none has, is no match
    assert not await similar_items(
        session, "Прошу разобраться, когда это будет?", district_id=almaly.id,
        meeting_id=None, today=today,
    )  # fmt: skip


async def test_in_kazakh_and_english_too(
    demo: int,
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    await add_meeting(session_pool)
    # 6.1, the mausoleum; 🗣1, the heating networks stated at the meeting («реконструкция»,
    # «батыра»: two of the question's words), after it
    for user_id, locale, title, follow in (
        (7801, "kk", "Бұрын уәде етілген не сұралған ба?", ["🔔 Жазылу: 6.1", "🔔 Жазылу: 🗣1"]),
        (7802, "en", "Already promised or asked?", ["🔔 Follow 6.1", "🔔 Follow 🗣1"]),
    ):
        client = make_client(user_id=user_id, language_code=locale)
        await onboard(client, locale)
        await go_to(client, session, "text", locale)
        sent = await client.send("Реконструкция мавзолея Райымбек батыра когда закончится?")
        close = messages(sent)[0]
        assert title in close.text and close.buttons == follow
