"""The question inbox: new / in work / answered with counts and pages, taking a question into
work, answering it (the resident is notified), returning it to the admins with a reason."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import (
    Category,
    DepartmentQueue,
    District,
    Notification,
    Question,
    QuestionStatus,
    User,
)
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages
from tests.test_department_join import department_id, group_client, invite, member


async def make_question(
    session_pool: async_sessionmaker[AsyncSession],
    *,
    slug: str,
    text: str,
    ref: str,
    author_tg: int | None = None,
    author_name: str | None = None,
    show_name: bool = False,
) -> int:
    dep = await department_id(session_pool, slug)
    async with session_pool() as session:
        district = (
            await session.execute(select(District).where(District.slug == "almaly"))
        ).scalar_one()
        category = (
            await session.execute(select(Category).where(Category.slug == "housing"))
        ).scalar_one()
        author = None
        if author_tg is not None:
            author = (
                await session.execute(select(User).where(User.tg_id == author_tg))
            ).scalar_one()
        question = Question(
            ref=ref,
            district_id=district.id,
            category_id=category.id,
            text=text,
            author_id=author.id if author else None,
            author_name=author_name,
            show_name=show_name,
            status=QuestionStatus.ACCEPTED,
            department_id=dep,
            department_queue=DepartmentQueue.NEW,
        )
        session.add(question)
        await session.commit()
        return int(question.id)


async def load(session: AsyncSession, question_id: int) -> Question:
    session.expire_all()
    question = await session.get(Question, question_id)
    assert question is not None
    return question


async def test_inbox_take_answer_and_the_resident_is_notified(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    resident = make_client(user_id=5100, language_code="kk")
    await onboard(resident, "kk")
    named = await make_question(
        session_pool,
        slug="energy_water",
        text="Когда дадут горячую воду на Сайрана 14?",
        ref="AL-0001",
        author_tg=5100,
        author_name="Айгерим <S>",
        show_name=True,
    )
    hidden = await make_question(
        session_pool,
        slug="energy_water",
        text="Нет давления воды на 5 этаже",
        ref="AL-0002",
        author_tg=5100,
        author_name="Secret Name",
        show_name=False,
    )
    await make_question(session_pool, slug="education", text="Школа №1", ref="AL-0003")
    official = await member(make_client, session_pool, "energy_water", 5001)

    sent = await official.send("/inbox")
    inbox = last_message(sent)
    assert "Residents' questions: Almaty City Department of Energy and Water Supply" in inbox.text
    assert "🆕 new: 2 · 🛠 in progress: 0 · ✅ answered: 0" in inbox.text
    assert "AL-0001" in inbox.text and "AL-0002" in inbox.text and "AL-0003" not in inbox.text

    sent = await official.click(inbox, "AL-0002")
    view = last_message(sent)
    assert "From: anonymous" in view.text
    assert "Secret Name" not in view.text and "5100" not in view.text
    sent = await official.click(inbox, "AL-0001")
    view = last_message(sent)
    assert "From: Айгерим <S>" in view.text  # shown because the resident chose to, escaped
    assert "Category:" in view.text and "In the inbox: new" in view.text

    sent = await official.click(view, "Take on")
    assert "Taken on." in alerts(sent)
    question = await load(session, named)
    assert question.department_queue == DepartmentQueue.IN_WORK
    assert question.status == QuestionStatus.IN_WORK
    view = last_message(sent)
    assert "🛠 Take on" not in view.buttons

    sent = await official.press(f"dq:{named}:t")  # a second tap of a stale "take" button
    assert "no longer new" in alerts(sent)[0]

    sent = await official.click(view, "Answer")
    assert "Write the answer to question AL-0001" in last_message(sent).text
    sent = await official.send("Да")
    assert "too short" in last_message(sent).text
    sent = await official.send_content("photo")
    assert "text message" in last_message(sent).text
    sent = await official.send("а" * 3001)
    assert "limit is 3000" in last_message(sent).text
    sent = await official.send(
        "Горячая вода будет подана 1 сентября после гидравлических испытаний."
    )
    shown = messages(sent)
    assert "Answer saved" in shown[0].text
    assert "In the inbox: answered" in shown[-1].text

    question = await load(session, named)
    assert question.department_queue == DepartmentQueue.ANSWERED
    assert question.status == QuestionStatus.DONE
    assert question.answer is not None and question.answer.startswith("Горячая вода")
    assert question.answered_at is not None
    news = (
        await session.execute(select(Notification).where(Notification.kind == "question_news"))
    ).scalar_one()
    assert news.chat_id == 5100
    assert "AL-0001" in news.text and "Горячая вода будет подана" in news.text

    sent = await official.send("/inbox")
    assert "🆕 new: 1 · 🛠 in progress: 0 · ✅ answered: 1" in last_message(sent).text
    sent = await official.click(last_message(sent), "✅ 1")
    assert "AL-0001" in last_message(sent).text

    # answering twice is refused: the stale button of the answered question
    sent = await official.press(f"dq:{named}:a")
    assert "already answered or returned" in alerts(sent)[0]
    assert (await load(session, hidden)).department_queue == DepartmentQueue.NEW


async def test_return_to_the_akimat_with_a_reason(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    question_id = await make_question(
        session_pool, slug="energy_water", text="Яма на дороге у школы", ref="AL-0010"
    )
    official = await member(make_client, session_pool, "energy_water", 5002)
    sent = await official.press(f"dq:{question_id}:v")
    sent = await official.click(last_message(sent), "Return to the akimat")
    assert "Why should question AL-0010 go to another department?" in last_message(sent).text
    sent = await official.send_content("location")
    assert "text message" in last_message(sent).text
    sent = await official.send("Это дороги: управление городской мобильности")
    assert "Returned to the akimat" in last_message(sent).text
    question = await load(session, question_id)
    assert question.department_queue == DepartmentQueue.RETURNED
    assert question.return_reason == "Это дороги: управление городской мобильности"
    assert question.status == QuestionStatus.ACCEPTED
    note = (
        await session.execute(select(Notification).where(Notification.kind == "question_returned"))
    ).scalar_one()
    assert note.chat_id == ADMIN_ID and "AL-0010" in note.text and "мобильности" in note.text
    # it left the inbox
    sent = await official.send("/inbox")
    assert "🆕 new: 0" in last_message(sent).text
    sent = await official.press(f"dq:{question_id}:t")
    assert "no longer new" in alerts(sent)[0]
    # returned questions are the admins' business: a forged tab is an outdated button
    dep = await department_id(session_pool, "energy_water")
    sent = await official.press(f"di:{dep}:returned:0")
    assert "out of date" in alerts(sent)[0]


async def test_inbox_pages_and_member_of_two_departments_chooses(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    for number in range(11):
        await make_question(
            session_pool,
            slug="culture",
            text=f"Вопрос про мавзолей {number}",
            ref=f"AL-1{number:03}",
        )
    official = await member(make_client, session_pool, "culture", 5003)
    sent = await official.send(f"/start i{await invite(session_pool, 'public_health')}")
    sent = await official.send("/inbox")
    sent = await official.click(last_message(sent), "Culture Department")
    page = last_message(sent)
    assert "🆕 new: 11" in page.text and "1/2" in page.buttons
    assert "AL-1000" in page.text and "AL-1008" not in page.text
    sent = await official.click(page, "▶️")
    assert "AL-1008" in last_message(sent).text and "AL-1010" in last_message(sent).text
    sent = await official.send("🏢 Our measures")
    assert "Choose the department" in last_message(sent).text


async def test_group_participants_see_the_inbox_only_members_act(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    question_id = await make_question(
        session_pool, slug="energy_water", text="Свет в подъезде", ref="AL-0020"
    )
    staff = await member(make_client, session_pool, "energy_water", 5004)
    in_group = group_client(make_client, 5004, chat_id=-100_900)
    staff.session.chat_admins.add((-100_900, 5004))
    await in_group.send(f"/join {await invite(session_pool, 'energy_water')}")
    bystander = group_client(make_client, 5005, chat_id=-100_900)

    sent = await bystander.send("/inbox")
    inbox = last_message(sent)
    assert "AL-0020" in inbox.text
    sent = await bystander.click(inbox, "AL-0020")
    view = last_message(sent)
    sent = await bystander.click(view, "Take on")
    assert "only members of a responsible department" in alerts(sent)[0]
    assert (await load(session, question_id)).department_queue == DepartmentQueue.NEW

    # a member answers in the group: the prompt forces a reply so the answer reaches the bot
    sent = await in_group.click(view, "Answer")
    prompt = last_message(sent)
    assert prompt.method.reply_markup is not None
    assert type(prompt.method.reply_markup).__name__ == "ForceReply"
    # the bystander's text in the group does not answer for the member
    await bystander.send("Я тоже отвечу")
    assert (await load(session, question_id)).answer is None
    sent = await in_group.send("Электрик придёт в четверг.")
    assert "Answer saved" in messages(sent)[0].text
    assert (await load(session, question_id)).answer == "Электрик придёт в четверг."
