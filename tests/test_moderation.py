"""The moderation queue through the real Dispatcher: accept, reroute, reject, merge, oral
questions, the agenda, and refusals for everyone who is not akimat staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.keyboards.moderation import (
    AcceptStep,
    MergeStep,
    ModAcceptCb,
    ModAction,
    ModAgendaCb,
    ModCb,
    ModMergeCb,
    ModOralCb,
    OralOutcome,
    OralStep,
)
from models.entities import (
    Category,
    Department,
    DepartmentQueue,
    Notification,
    Question,
    QuestionSource,
    QuestionStatus,
    User,
)
from models.questions import create_question
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages

RESIDENT_ID = 1001


@pytest.fixture
async def admin(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="en", first_name="Staff")
    await onboard(client, "en")
    return client


@pytest.fixture
async def resident(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=RESIDENT_ID, language_code="ru")
    await onboard(client, "ru")
    return client


async def _category(session: AsyncSession, slug: str) -> Category:
    return (await session.execute(select(Category).where(Category.slug == slug))).scalar_one()


async def _user(session: AsyncSession, tg_id: int) -> User:
    return (await session.execute(select(User).where(User.tg_id == tg_id))).scalar_one()


async def add_question(
    session: AsyncSession,
    meeting_id: int | None,
    text: str,
    *,
    slug: str = "housing",
    author_tg: int | None = RESIDENT_ID,
    show_name: bool = False,
    minutes_ago: int = 60,
    status: QuestionStatus = QuestionStatus.SUBMITTED,
) -> Question:
    from models.entities import Meeting

    category = await _category(session, slug)
    author = await _user(session, author_tg) if author_tg is not None else None
    district_id = (await session.get(Meeting, meeting_id)).district_id if meeting_id else 1
    question = await create_question(
        session,
        district_id=district_id,
        category_id=category.id,
        text=text,
        meeting_id=meeting_id,
        author=author,
        show_name=show_name,
        status=status,
    )
    question.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    await session.commit()
    return question


async def _reload(session: AsyncSession, question_id: int) -> Question:
    question = await session.get(Question, question_id, populate_existing=True)
    assert question is not None
    return question


async def _news(session: AsyncSession, tg_id: int) -> list[Notification]:
    result = await session.execute(
        select(Notification).where(Notification.chat_id == tg_id).order_by(Notification.id)
    )
    return [n for n in result.scalars() if n.kind == "question_news"]


async def test_queue_shows_new_oldest_first_and_returned_with_reason(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    newer = await add_question(session, demo, "Нет освещения во дворе дома 5", minutes_ago=10)
    older = await add_question(
        session, demo, "Ямы на дороге по улице Толе би", slug="roads", minutes_ago=50
    )
    returned = await add_question(
        session, demo, "Не вывозят мусор с площадки", slug="landscaping", minutes_ago=5
    )
    returned.status = QuestionStatus.ACCEPTED
    returned.department_queue = DepartmentQueue.RETURNED
    returned.return_reason = "Это не наш вопрос, а акимата района"
    await add_question(
        session, demo, "Уже принятый вопрос", status=QuestionStatus.ACCEPTED, minutes_ago=70
    )
    await session.commit()

    sent = await admin.press(AdminCb(section=AdminSection.MODERATION).pack())
    queue = last_message(sent)
    assert "New questions: 2. Returned by departments: 1." in queue.text
    refs = [b for b in queue.buttons if "·" in b]
    assert [r.split(" ")[1] for r in refs] == [returned.ref, older.ref, newer.ref]
    assert "Register an oral question" in " ".join(queue.buttons)

    sent = await admin.click(queue, str(returned.ref))
    card = last_message(sent)
    assert "Returned by" in card.text
    assert "Это не наш вопрос, а акимата района" in card.text
    assert "Author: anonymous" in card.text
    assert "Reassign" in " ".join(card.buttons)

    # the /moderate command opens the same queue
    sent = await admin.send("/moderate")
    assert "New questions: 2" in last_message(sent).text


async def test_accept_with_the_default_department_notifies_the_author(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(
        session, demo, "Течёт крыша в доме по Абая 10", show_name=True, minutes_ago=30
    )
    housing = await _category(session, "housing")
    default_id = housing.default_department_id
    sent = await admin.press(ModCb(action=ModAction.OPEN, id=question.id).pack())
    card = last_message(sent)
    assert "Author: Айгерим Сейткали" in card.text  # shown because the author chose so
    assert str(RESIDENT_ID) not in card.text  # never the Telegram identity
    assert "Течёт крыша" in card.text

    sent = await admin.click(card, "Accept")
    confirm = last_message(sent)
    default = await session.get(Department, default_id)
    assert default is not None
    assert default.name("en") in confirm.text
    assert "Housing relations" in confirm.text

    sent = await admin.click(confirm, "Confirm")
    assert f"{question.ref} accepted" in last_message(sent).text
    q = await _reload(session, question.id)
    assert q.status == QuestionStatus.ACCEPTED
    assert q.department_id == default_id
    assert q.department_queue == DepartmentQueue.NEW
    assert q.moderated_at is not None
    news = await _news(session, RESIDENT_ID)
    assert len(news) == 1
    assert "принят" in news[0].text  # in the author's language

    # pressing the old confirm button again changes nothing and says so
    sent = await admin.click(confirm, "Confirm")
    assert "already been handled" in alerts(sent)[0]
    assert len(await _news(session, RESIDENT_ID)) == 1


async def test_accept_with_another_category_and_department(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(session, demo, "Нужен светофор на перекрёстке")
    roads = await _category(session, "roads")
    sent = await admin.press(ModCb(action=ModAction.OPEN, id=question.id).pack())
    sent = await admin.click(last_message(sent), "Accept")
    sent = await admin.click(last_message(sent), "Another category")
    sent = await admin.click(last_message(sent), roads.short("en"))
    confirm = last_message(sent)
    assert "Road repair and construction" in confirm.text
    roads_default = await session.get(Department, roads.default_department_id)
    assert roads_default is not None and roads_default.name("en") in confirm.text

    sent = await admin.click(confirm, "Another department")
    departments = last_message(sent)
    chosen = departments.buttons[1]
    code = chosen.removeprefix("✅ ").split(" · ")[0]
    sent = await admin.click(departments, chosen)
    sent = await admin.click(last_message(sent), "Confirm")
    q = await _reload(session, question.id)
    department = (
        await session.execute(select(Department).where(Department.code == code))
    ).scalar_one()
    assert q.category_id == roads.id
    assert q.department_id == department.id
    assert q.status == QuestionStatus.ACCEPTED


async def test_reassign_a_returned_question(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(session, demo, "Вопрос, который вернули")
    housing = await _category(session, "housing")
    question.status = QuestionStatus.ACCEPTED
    question.department_queue = DepartmentQueue.RETURNED
    question.department_id = housing.default_department_id
    question.return_reason = "Не наш"
    await session.commit()
    other = (
        await session.execute(
            select(Department).where(Department.id != housing.default_department_id).limit(1)
        )
    ).scalar_one()
    sent = await admin.press(
        ModAcceptCb(step=AcceptStep.SAVE, id=question.id, cat=housing.id, dep=other.id).pack()
    )
    assert "accepted" in messages(sent)[-1].text
    q = await _reload(session, question.id)
    assert q.department_id == other.id
    assert q.department_queue == DepartmentQueue.NEW
    assert q.return_reason is None
    assert await _news(session, RESIDENT_ID) == []  # the status did not change


async def test_reject_needs_a_reason_and_tells_the_author(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(session, demo, "Реклама моего магазина, приходите все")
    sent = await admin.press(ModCb(action=ModAction.OPEN, id=question.id).pack())
    sent = await admin.click(last_message(sent), "Reject")
    assert "reason" in last_message(sent).text

    sent = await admin.send_content("sticker")
    assert "as a text message" in last_message(sent).text
    sent = await admin.send("x" * 1001)
    assert "too long (characters: 1001; the limit is 1000)" in last_message(sent).text
    assert (await _reload(session, question.id)).status == QuestionStatus.SUBMITTED

    sent = await admin.send("Это реклама, а не вопрос к акиму <b>")
    assert f"{question.ref} rejected" in messages(sent)[0].text
    q = await _reload(session, question.id)
    assert q.status == QuestionStatus.REJECTED
    assert q.reject_reason == "Это реклама, а не вопрос к акиму <b>"
    news = await _news(session, RESIDENT_ID)
    assert len(news) == 1
    assert "Это реклама, а не вопрос к акиму &lt;b&gt;" in news[0].text


async def test_merge_into_a_similar_earlier_question(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    first = await add_question(
        session,
        demo,
        "Когда отремонтируют дорогу на улице Жибек жолы возле школы",
        slug="roads",
        status=QuestionStatus.ACCEPTED,
        minutes_ago=120,
    )
    await add_question(session, demo, "Шумят соседи по ночам", slug="public_order", minutes_ago=90)
    later = await add_question(
        session, demo, "Отремонтируйте дорогу на улице Жибек жолы", minutes_ago=10
    )
    sent = await admin.press(ModCb(action=ModAction.OPEN, id=later.id).pack())
    sent = await admin.click(last_message(sent), "Merge")
    choice = last_message(sent)
    assert str(first.ref) in choice.buttons[0]  # the most similar first

    sent = await admin.click(choice, str(first.ref))
    sent = await admin.click(last_message(sent), "🔗 Merge")
    assert f"{later.ref} merged into {first.ref}" in last_message(sent).text
    q = await _reload(session, later.id)
    assert q.status == QuestionStatus.MERGED
    assert q.merged_into_id == first.id
    news = await _news(session, RESIDENT_ID)
    assert len(news) == 1
    assert str(first.ref) in news[0].text


async def test_merge_by_typed_reference(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    first = await add_question(session, demo, "Первый вопрос про парк", minutes_ago=100)
    later = await add_question(session, demo, "Второй вопрос", minutes_ago=5)
    sent = await admin.press(ModCb(action=ModAction.MERGE_REF, id=later.id).pack())
    assert "reference" in last_message(sent).text
    sent = await admin.send("ZZ-9999")
    assert "There is no question ZZ-9999" in last_message(sent).text
    sent = await admin.send(str(later.ref))  # itself: not an earlier question
    assert "cannot be used" in last_message(sent).text
    sent = await admin.send(str(first.ref).lower())
    sent = await admin.click(last_message(sent), "🔗 Merge")
    q = await _reload(session, later.id)
    assert q.status == QuestionStatus.MERGED and q.merged_into_id == first.id
    # a forged merge into a later question is refused
    sent = await admin.press(ModMergeCb(step=MergeStep.SAVE, id=first.id, to=later.id).pack())
    assert alerts(sent)
    assert (await _reload(session, first.id)).status == QuestionStatus.SUBMITTED


@pytest.mark.parametrize(
    ("button", "status"),
    [("Taken on", QuestionStatus.IN_WORK), ("Answered", QuestionStatus.ANSWERED_AT_MEETING)],
)
async def test_register_an_oral_question(
    admin: BotClient, session: AsyncSession, demo: int, button: str, status: QuestionStatus
) -> None:
    social = await _category(session, "social")
    sent = await admin.press(ModCb(action=ModAction.ORAL).pack())
    sent = await admin.click(last_message(sent), "Almaly")
    sent = await admin.click(last_message(sent), social.short("en"))
    assert "Type the question" in last_message(sent).text
    sent = await admin.send("x" * 2001)
    assert "too long" in last_message(sent).text
    sent = await admin.send("Жительница попросила помочь с пособием по уходу")
    outcome = last_message(sent)
    sent = await admin.send("ещё текст")  # buttons expected: re-asked, nothing lost
    assert "choose what came of the question" in last_message(sent).text
    sent = await admin.click(outcome, button)
    assert "Registered as" in last_message(sent).text
    question = (
        await session.execute(select(Question).where(Question.source == QuestionSource.ORAL))
    ).scalar_one()
    assert question.author_id is None
    assert question.text == "Жительница попросила помочь с пособием по уходу"
    assert question.status == status
    assert question.meeting_id == demo
    assert question.ref is not None and question.ref.startswith("AL-")
    if status == QuestionStatus.IN_WORK:
        assert question.department_id == social.default_department_id
        assert question.department_queue == DepartmentQueue.NEW
    else:
        assert question.answered_at is not None
    # the outcome button pressed again (the form is over) changes nothing
    sent = await admin.click(outcome, button)
    count = len(list((await session.execute(select(Question))).scalars()))
    assert count == 1


async def test_agenda_ranks_accepted_questions_by_supporters(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    low = await add_question(session, demo, "Мало поддержки", status=QuestionStatus.ACCEPTED)
    high = await add_question(session, demo, "Много поддержки", status=QuestionStatus.ACCEPTED)
    await add_question(session, demo, "Ещё на модерации")
    low.supporters, high.supporters = 2, 40
    await session.commit()
    sent = await admin.press(ModCb(action=ModAction.AGENDA).pack())
    sent = await admin.click(last_message(sent), "Almaly")
    text = last_message(sent).text
    assert "Accepted questions, most supported first: 2" in text
    assert text.index("Много поддержки") < text.index("Мало поддержки")
    assert "На модерации" not in text


async def test_kazakh_admin_sees_the_queue_in_kazakh(
    make_client: Callable[..., BotClient], resident: BotClient, session: AsyncSession, demo: int
) -> None:
    await add_question(session, demo, "Сұрақ мәтіні осында")
    admin = make_client(user_id=ADMIN_ID, language_code="kk")
    await onboard(admin, "kk")
    sent = await admin.send("/moderate")
    text = last_message(sent).text
    assert "Модерация кезегі" in text


async def test_non_admins_get_a_refusal_for_every_button_and_nothing_changes(
    resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(session, demo, "Вопрос жителя про двор")
    earlier = await add_question(session, demo, "Ранний вопрос про двор", minutes_ago=500)
    category = await _category(session, "housing")
    forged = [
        AdminCb(section=AdminSection.MODERATION).pack(),
        ModCb(action=ModAction.LIST).pack(),
        ModCb(action=ModAction.OPEN, id=question.id).pack(),
        ModCb(action=ModAction.REJECT, id=question.id).pack(),
        ModCb(action=ModAction.MERGE, id=question.id).pack(),
        ModCb(action=ModAction.MERGE_REF, id=question.id).pack(),
        ModCb(action=ModAction.ORAL).pack(),
        ModCb(action=ModAction.AGENDA).pack(),
        ModAcceptCb(step=AcceptStep.SAVE, id=question.id, cat=category.id, dep=-1).pack(),
        ModAcceptCb(step=AcceptStep.CONFIRM, id=question.id, cat=category.id, dep=-1).pack(),
        ModMergeCb(step=MergeStep.SAVE, id=question.id, to=earlier.id).pack(),
        ModOralCb(step=OralStep.CATEGORY, meeting=demo).pack(),
        ModOralCb(
            step=OralStep.OUTCOME, meeting=demo, cat=category.id, outcome=OralOutcome.IN_WORK
        ).pack(),
        ModAgendaCb(meeting=demo).pack(),
    ]
    # the admin area's router answers for the panel's own button, this area for the rest
    sent = await resident.press(AdminCb(section=AdminSection.MODERATION).pack())
    assert len(alerts(sent)) == 1
    assert messages(sent) == []
    for data in forged[1:]:
        sent = await resident.press(data)
        assert alerts(sent) == ["Извините, это только для сотрудников акимата."], data
        assert messages(sent) == [], data
    q = await _reload(session, question.id)
    assert q.status == QuestionStatus.SUBMITTED
    assert len(list((await session.execute(select(Question))).scalars())) == 2
    assert await _news(session, RESIDENT_ID) == []

    unknown = last_message(await resident.send("/nosuchcommand")).text
    assert last_message(await resident.send("/moderate")).text == unknown


async def test_the_admin_panel_opens_the_queue_and_leads_back(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    await add_question(session, demo, "Вопрос из панели")
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Moderation")
    queue = last_message(sent)
    assert "Moderation queue" in queue.text
    sent = await admin.click(queue, "Admin panel")
    assert "Moderation" in " ".join(last_message(sent).buttons)


async def test_agenda_opens_a_card_to_change_the_department(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    question = await add_question(session, demo, "Принятый вопрос", status=QuestionStatus.ACCEPTED)
    sent = await admin.press(ModAgendaCb(meeting=demo).pack())
    sent = await admin.click(last_message(sent), str(question.ref))
    card = last_message(sent)
    assert "Принятый вопрос" in card.text
    sent = await admin.click(card, "Reassign")
    assert "Reassign" in last_message(sent).text


async def test_another_button_leaves_a_half_filled_form(
    admin: BotClient, resident: BotClient, session: AsyncSession, demo: int
) -> None:
    first = await add_question(session, demo, "Первый вопрос", minutes_ago=20)
    second = await add_question(session, demo, "Второй вопрос", minutes_ago=10)
    sent = await admin.press(ModCb(action=ModAction.REJECT, id=first.id).pack())
    assert "reason" in last_message(sent).text
    # the moderator changes their mind and opens another question instead
    sent = await admin.press(ModCb(action=ModAction.OPEN, id=second.id).pack())
    sent = await admin.click(last_message(sent), "Accept")
    await admin.send("этот текст не причина отказа")
    assert (await _reload(session, first.id)).status == QuestionStatus.SUBMITTED
    assert await _news(session, RESIDENT_ID) == []
