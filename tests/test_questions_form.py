"""The question form through the real Dispatcher: consent → category → text → address →
name or anonymous → preview → receipt, in ru, kk and en; every bad input; /cancel at each
step; stale buttons; two people at once; the per-meeting limit; reference numbers."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Callable

import pytest
import time_machine
from aiogram.methods import EditMessageReplyMarkup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import questions as qmodel
from models.base import utcnow
from models.entities import (
    Category,
    District,
    Meeting,
    MeetingStatus,
    Question,
    QuestionSource,
    QuestionStatus,
    User,
)
from models.settings import Settings
from models.text import fold
from tests.conftest import onboard
from tests.harness import BotClient, Sent, alerts, last_message, messages

ASK = {"ru": "❓ Задать вопрос", "kk": "❓ Сұрақ қою", "en": "❓ Ask a question"}
AGREE = "✅"
NAME = "👤"
ANON = "🕶"
SKIP = "⏭"
SEND = "📨"
EDIT = "✏️"
CANCEL = "✖️"
APOLOGY = ("Извините", "Кешіріңіз", "Sorry, something went wrong")
REF = re.compile(r"\b[A-Z]{2}-\d{4}\b")

QUESTION_TEXT = {
    "ru": "Во дворе дома на Толе би 85 третий месяц не работает уличное освещение.",
    "kk": "Төле би 85 үйінің ауласында үшінші ай көше жарығы жұмыс істемейді.",
    "en": "The street lights in the yard of Tole bi 85 have not worked for three months.",
}
EXPECT = {
    "ru": {
        "consent": "обработку ваших персональных данных",
        "category": "Выберите категорию",
        "text": "Напишите вопрос",
        "address": "отправьте адрес",
        "publicity": "Показывать ваше имя",
        "preview": "проверьте перед отправкой",
        "receipt": "Ваш вопрос отправлен",
        "official": "не является обращением",
        "cancelled": "Отменено. Ничего не сохранено.",
        "sticker": "Принимаются только текст и одно фото",
        "short": "Слишком коротко",
        "long": "Слишком длинно",
    },
    "kk": {
        "consent": "дербес деректеріңізді өңдеуге",
        "category": "санатын таңдаңыз",
        "text": "бір хабарламамен жазыңыз",
        "address": "мекенжайды мәтінмен",
        "publicity": "атыңызды көрсету",
        "preview": "жібермес бұрын тексеріңіз",
        "receipt": "Сұрағыңыз жіберілді",
        "official": "бойынша өтініш болып табылмайды",
        "cancelled": "Тоқтатылды. Ештеңе сақталған жоқ.",
        "sticker": "Тек мәтін мен бір фото қабылданады",
        "short": "тым қысқа",
        "long": "Тым ұзын",
    },
    "en": {
        "consent": "processing of your personal data",
        "category": "Choose the category",
        "text": "Write your question",
        "address": "send the address",
        "publicity": "Show your name",
        "preview": "check it before sending",
        "receipt": "Your question has been sent",
        "official": "not a formal appeal",
        "cancelled": "Cancelled. Nothing was saved.",
        "sticker": "Only text and one photo are accepted",
        "short": "too short",
        "long": "too long",
    },
}


# --- helpers shared by the questions tests -----------------------------------------------------


async def district_by_slug(session: AsyncSession, slug: str = "almaly") -> District:
    result = await session.execute(select(District).where(District.slug == slug))
    return result.scalar_one()


async def add_meeting(
    session_pool: async_sessionmaker[AsyncSession],
    *,
    slug: str = "almaly",
    days: float = 10,
    intake_days: float | None = None,
    status: MeetingStatus = MeetingStatus.SCHEDULED,
    place: str = "Дворец школьников, ул. Толе би 85",
    stream_url: str = "https://youtube.com/live/almaly",
) -> int:
    """A meeting ``days`` from now (intake closes ``intake_days`` from now, None: at the start)."""
    async with session_pool() as session:
        district = await district_by_slug(session, slug)
        now = utcnow()
        meeting = Meeting(
            district_id=district.id,
            starts_at=(now + dt.timedelta(days=days)).replace(microsecond=0),
            intake_closes_at=None
            if intake_days is None
            else (now + dt.timedelta(days=intake_days)).replace(microsecond=0),
            place=place,
            akim="Досаев Е. А.",
            stream_url=stream_url,
            status=status,
        )
        session.add(meeting)
        await session.commit()
        return meeting.id


async def profile(session: AsyncSession, tg_id: int) -> User:
    query = select(User).where(User.tg_id == tg_id).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one()


async def all_questions(session: AsyncSession) -> list[Question]:
    query = select(Question).order_by(Question.id).execution_options(populate_existing=True)
    return list((await session.execute(query)).scalars())


async def category_label(session: AsyncSession, locale: str, slug: str = "housing") -> str:
    category = (await session.execute(select(Category).where(Category.slug == slug))).scalar_one()
    return category.name(locale)


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in messages(sent)) + "\n" + "\n".join(alerts(sent))


def markup_edit(sent: list[Sent]) -> Sent:
    """The last keyboard the bot put under an existing message."""
    edits = [s for s in sent if isinstance(s.method, EditMessageReplyMarkup)]
    assert edits, "no keyboard was edited"
    return edits[-1]


def assert_no_apology(sent: list[Sent]) -> None:
    shown = texts(sent)
    assert not any(a in shown for a in APOLOGY), shown


async def go_to(
    client: BotClient,
    session: AsyncSession,
    step: str,
    locale: str = "ru",
    *,
    text: str | None = None,
    consent: bool = True,
) -> Sent:
    """Walk the form up to ``step`` (consent, category, text, address, publicity, preview);
    returns the bot's message that asks for it."""
    sent = await client.send(ASK[locale])
    assert_no_apology(sent)
    prompt = last_message(sent)
    if "✅" in " ".join(prompt.buttons) and any(b.startswith(AGREE) for b in prompt.buttons):
        if step == "consent":
            return prompt
        sent = await client.click(prompt, AGREE)
        prompt = last_message(sent)
    if step == "category":
        return prompt
    sent = await client.click(prompt, await category_label(session, locale))
    prompt = last_message(sent)
    if step == "text":
        return prompt
    sent = await client.send(text or QUESTION_TEXT[locale])
    prompt = last_message(sent)
    if step == "address":
        return prompt
    sent = await client.send("ул. Толе би, 85")
    prompt = last_message(sent)
    if step == "publicity":
        return prompt
    sent = await client.click(prompt, NAME)
    prompt = last_message(sent)
    assert step == "preview"
    return prompt


async def ask(
    client: BotClient, session: AsyncSession, text: str, locale: str = "ru", anonymous: bool = False
) -> list[Sent]:
    """A whole question; returns what the bot sent on "send"."""
    prompt = await go_to(client, session, "publicity", locale, text=text)
    sent = await client.click(prompt, ANON if anonymous else NAME)
    return await client.click(last_message(sent), SEND)


# --- the whole form ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_whole_form_in_each_language(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    locale: str,
) -> None:
    meeting_id = await add_meeting(session_pool, days=10, intake_days=8)
    client = make_client(user_id=5000 + len(locale), language_code=locale)
    await onboard(client, locale)
    expect = EXPECT[locale]

    sent = await client.send(ASK[locale])
    consent = last_message(sent)
    assert expect["consent"] in consent.text
    assert expect["official"] in consent.text and "https://eotinish.kz" in consent.text

    sent = await client.click(consent, AGREE)
    assert expect["category"] in last_message(sent).text
    assert len(last_message(sent).buttons) == 11  # 10 categories and cancel
    assert (await profile(session, client.user_id)).consent_at is not None

    sent = await client.click(last_message(sent), await category_label(session, locale))
    assert expect["text"] in last_message(sent).text

    sent = await client.send(QUESTION_TEXT[locale])
    assert expect["address"] in last_message(sent).text

    sent = await client.send("ул. Толе би, 85")
    assert expect["publicity"] in last_message(sent).text
    assert "Айгерим Сейткали" in last_message(sent).text

    sent = await client.click(last_message(sent), NAME)
    preview = last_message(sent)
    assert expect["preview"] in preview.text
    assert QUESTION_TEXT[locale] in preview.text
    assert "ул. Толе би, 85" in preview.text
    assert await category_label(session, locale) in preview.text
    assert expect["official"] in preview.text
    assert not await all_questions(session)  # nothing stored before "send"

    sent = await client.click(preview, SEND)
    assert_no_apology(sent)
    receipt = last_message(sent)
    assert expect["receipt"] in receipt.text
    assert "AL-0001" in receipt.text
    assert expect["official"] in receipt.text and "https://eotinish.kz" in receipt.text
    assert ASK[locale] in receipt.buttons  # the main menu comes back

    [question] = await all_questions(session)
    user = await profile(session, client.user_id)
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    assert question.ref == "AL-0001"
    assert question.meeting_id == meeting_id
    assert question.author_id == user.id
    assert question.author_name == "Айгерим Сейткали"
    assert question.show_name is True
    assert question.text == QUESTION_TEXT[locale]
    assert question.text_hash == hashlib.sha256(fold(QUESTION_TEXT[locale]).encode()).hexdigest()
    assert question.address == "ул. Толе би, 85"
    assert question.status == QuestionStatus.SUBMITTED
    assert question.source == QuestionSource.BOT
    category = await session.get(Category, question.category_id)
    assert category is not None and category.slug == "housing"
    # the receipt names the meeting (Babel date in the user's language, Almaty time)
    from bot.formatting import fmt_datetime

    assert fmt_datetime(meeting.starts_at, locale) in receipt.text


async def test_declining_consent_stores_nothing(client: BotClient, session: AsyncSession) -> None:
    await onboard(client, "en")
    sent = await client.send(ASK["en"])
    sent = await client.click(last_message(sent), "I do not agree")
    assert "nothing was stored" in last_message(sent).text
    assert (await profile(session, client.user_id)).consent_at is None
    assert not await all_questions(session)
    # the form is over: a category button would now be stale, text is not a question
    sent = await client.send(QUESTION_TEXT["en"])
    assert "Choose the category" not in texts(sent)

    # asked again next time; once given, it is not asked before later questions
    await ask(client, session, "The playground on Abay street has broken swings.", "en")
    assert (await profile(session, client.user_id)).consent_at is not None
    sent = await client.send(ASK["en"])
    assert "Choose the category" in last_message(sent).text
    assert "processing of your personal data" not in last_message(sent).text


async def test_user_without_district_is_asked_to_choose_one(
    client: BotClient, session: AsyncSession
) -> None:
    sent = await client.send("/start")
    await client.click(last_message(sent), "English")  # language only, no district yet
    sent = await client.send(ASK["en"])
    assert "Choose your district" in last_message(sent).text
    assert len(last_message(sent).buttons) == 8
    sent = await client.send("📅 Next meeting")
    assert "Choose your district" in last_message(sent).text


# --- bad input ---------------------------------------------------------------------------------


async def test_bad_input_at_the_text_step_keeps_the_form(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    for kind in ("sticker", "voice", "document"):
        sent = await client.send_content(kind)
        assert "Only text and one photo are accepted" in last_message(sent).text, kind
    sent = await client.send("   ")
    assert "The message is empty" in last_message(sent).text
    sent = await client.send("Fix the road")
    assert "too short" in last_message(sent).text and "characters 12" in last_message(sent).text
    sent = await client.send("a" * 14)
    assert "too short" in last_message(sent).text
    sent = await client.send("x" * 2001)
    assert "too long" in last_message(sent).text and "characters 2001" in last_message(sent).text
    sent = await client.send("/forget")
    assert "Commands wait until the question is finished" in last_message(sent).text
    sent = await client.send("/nosuchcommand")
    assert "Commands wait" in last_message(sent).text
    # exactly the limits are fine, and the category chosen before is kept
    sent = await client.send("y" * 2000)
    assert "send the address" in last_message(sent).text
    sent = await client.click(last_message(sent), SKIP)
    sent = await client.click(last_message(sent), ANON)
    preview = last_message(sent)
    assert "Category: Housing relations" in preview.text
    assert "y" * 2000 in preview.text
    assert not await all_questions(session)


async def test_bad_input_at_the_button_steps(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    prompt = await go_to(client, session, "consent", "en")
    sent = await client.send("yes")
    assert "Please answer with the buttons" in last_message(sent).text
    sent = await client.click(last_message(sent), AGREE)  # the re-sent keyboard works

    sent = await client.send_content("sticker")
    assert "Please choose the category" in last_message(sent).text
    sent = await client.send("Roads")
    reask = last_message(sent)
    assert "Please choose the category" in reask.text
    sent = await client.click(reask, "Road repair")
    sent = await client.send(QUESTION_TEXT["en"])

    # address: a sticker or a too long address is refused; a location is taken
    sent = await client.send_content("voice")
    assert "send the address as text or share a location" in last_message(sent).text
    sent = await client.send("z" * 301)
    assert "Address length in characters: 3–300" in last_message(sent).text
    sent = await client.send_content("location")
    assert "Location received" in texts(sent)
    assert "Show your name" in last_message(sent).text

    sent = await client.send("anonymous please")
    assert "with your name or anonymously" in last_message(sent).text
    sent = await client.click(last_message(sent), ANON)
    preview = last_message(sent)
    assert "location shared" in preview.text and "anonymously" in preview.text

    sent = await client.send("send it")
    assert "Your question is ready" in texts(sent)
    sent = await client.click(last_message(sent), SEND)
    [question] = await all_questions(session)
    assert question.latitude == pytest.approx(43.25) and question.longitude == pytest.approx(76.95)
    assert question.address is None
    assert question.show_name is False and question.author_name is None
    category = await session.get(Category, question.category_id)
    assert category is not None and category.slug == "roads"
    assert prompt.text  # the consent prompt was shown


async def test_cancel_at_each_step(client: BotClient, session: AsyncSession) -> None:
    await onboard(client, "ru")
    for step in ("consent", "category", "text", "address", "publicity", "preview"):
        await go_to(client, session, step, "ru")
        sent = await client.send("/cancel")
        assert EXPECT["ru"]["cancelled"] in last_message(sent).text, step
        assert ASK["ru"] in last_message(sent).buttons
        assert not await all_questions(session)
        if step == "consent":
            assert (await profile(session, client.user_id)).consent_at is None
        # the form is really over: /cancel again has nothing to cancel
        sent = await client.send("/cancel")
        assert "Отменять нечего" in last_message(sent).text, step


async def test_cancel_button_and_menu_button_inside_the_form(
    client: BotClient, session: AsyncSession
) -> None:
    await onboard(client, "en")
    prompt = await go_to(client, session, "text", "en")
    sent = await client.send("📋 Commitments")
    assert "middle of filling in a form" in last_message(sent).text
    sent = await client.send("📅 Next meeting")
    assert "middle of filling in a form" in last_message(sent).text
    sent = await client.send(QUESTION_TEXT["en"])  # the form went on where it was
    assert "send the address" in last_message(sent).text
    sent = await client.click(last_message(sent), CANCEL)
    assert "Cancelled. Nothing was saved." in last_message(sent).text
    assert not await all_questions(session)
    sent = await client.click(prompt, CANCEL)  # the old form's cancel: stale
    assert "finished or at another step" in alerts(sent)[0]


async def test_stale_buttons_are_refused_politely(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    category_prompt = await go_to(client, session, "category", "en")
    sent = await client.click(category_prompt, "Housing")
    sent = await client.send(QUESTION_TEXT["en"])
    sent = await client.click(last_message(sent), SKIP)
    sent = await client.click(last_message(sent), NAME)
    preview = last_message(sent)

    # a button of an earlier step while the form is at the preview
    sent = await client.click(category_prompt, "Road repair")
    assert "finished or at another step" in alerts(sent)[0]
    sent = await client.click(preview, SEND)
    assert "AL-0001" in last_message(sent).text
    # the same send button again, and buttons of the finished form
    sent = await client.click(preview, SEND)
    assert "finished or at another step" in alerts(sent)[0]
    sent = await client.click(category_prompt, "Road repair")
    assert "finished or at another step" in alerts(sent)[0]
    assert len(await all_questions(session)) == 1

    # a new form at the category step refuses the old form's category buttons (another nonce)
    new_prompt = await go_to(client, session, "category", "en")
    sent = await client.click(category_prompt, "Road repair")
    assert "finished or at another step" in alerts(sent)[0]
    sent = await client.click(new_prompt, "Land relations")
    assert "Write your question" in last_message(sent).text

    # forged data: unknown category, garbage
    for data in ("qa:99999:1", "qf:nope:1", "qc:maybe:1", "qa:abc:def"):
        sent = await client.press(data)
        assert alerts(sent), data
    assert len(await all_questions(session)) == 1


async def test_edit_each_field_from_the_preview(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    preview = await go_to(client, session, "preview", "en")

    sent = await client.click(preview, EDIT)
    edit_menu = markup_edit(sent)
    assert "📝 Text" in edit_menu.buttons
    sent = await client.click(edit_menu, "Back to the preview")
    assert SEND in " ".join(markup_edit(sent).buttons)

    sent = await client.click(markup_edit(sent), EDIT)
    sent = await client.click(markup_edit(sent), "Category")
    sent = await client.click(last_message(sent), "Law and order")
    preview = last_message(sent)
    assert "Category: Law and order" in preview.text
    assert QUESTION_TEXT["en"] in preview.text  # the rest is kept

    sent = await client.click(preview, EDIT)
    sent = await client.click(markup_edit(sent), "Text")
    assert QUESTION_TEXT["en"] in last_message(sent).text  # shows what it says now
    sent = await client.send("short")
    assert "too short" in last_message(sent).text
    sent = await client.send("Please install a traffic light at Abay and Baitursynov.")
    preview = last_message(sent)
    assert "traffic light" in preview.text and "Law and order" in preview.text

    sent = await client.click(preview, EDIT)
    sent = await client.click(markup_edit(sent), "Address")
    sent = await client.send("Abay ave / Baitursynov st")
    preview = last_message(sent)
    assert "Abay ave / Baitursynov st" in preview.text

    sent = await client.click(preview, EDIT)
    sent = await client.click(markup_edit(sent), "Name or anonymous")
    sent = await client.click(last_message(sent), ANON)
    preview = last_message(sent)
    assert "Published: anonymously" in preview.text

    sent = await client.click(preview, SEND)
    [question] = await all_questions(session)
    assert question.text == "Please install a traffic light at Abay and Baitursynov."
    assert question.address == "Abay ave / Baitursynov st"
    assert question.show_name is False and question.author_name is None
    category = await session.get(Category, question.category_id)
    assert category is not None and category.slug == "public_order"


async def test_same_text_twice_is_refused(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await ask(client, session, "The bus stop on Tole bi needs a roof, please!", "en")
    await go_to(client, session, "text", "en")
    sent = await client.send("the BUS stop on Tole bi needs a roof please")  # case, punctuation
    assert "You have already sent this question (AL-0001)" in last_message(sent).text
    sent = await client.send("The bus stop on Zheltoksan needs a bench.")  # the form goes on
    assert "send the address" in last_message(sent).text

    # a rejected question may be asked again
    question = (await all_questions(session))[0]
    question.status = QuestionStatus.REJECTED
    await session.commit()
    await client.send("/cancel")
    await ask(client, session, "The bus stop on Tole bi needs a roof, please!", "en")
    assert len(await all_questions(session)) == 2


async def test_limit_per_meeting(
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    settings.question_limit_per_meeting = 2
    meeting_id = await add_meeting(session_pool)
    other = await add_meeting(session_pool, slug="medeu")
    await onboard(client, "en")
    await ask(client, session, "First question about the lights in our yard.", "en")
    # the second form is started, then a question arrives from elsewhere (another device)
    preview = await go_to(
        client, session, "preview", "en", text="Second question about the park benches."
    )
    user = await profile(session, client.user_id)
    async with session_pool() as other_session:
        author = await other_session.get(User, user.id)
        district = await district_by_slug(other_session)
        await qmodel.create_question(
            other_session,
            district_id=district.id,
            category_id=1,
            text="A question sent a moment earlier from the same account.",
            meeting_id=meeting_id,
            author=author,
        )
        await other_session.commit()
    sent = await client.click(preview, SEND)
    assert "one person can for this meeting (questions: 2)" in last_message(sent).text
    assert len(await all_questions(session)) == 2

    # at the start of the form as well
    sent = await client.send(ASK["en"])
    assert "one person can for this meeting (questions: 2)" in last_message(sent).text
    assert "Choose the category" not in last_message(sent).text

    # a rejected question does not count; another meeting has its own limit
    questions = await all_questions(session)
    questions[0].status = QuestionStatus.REJECTED
    await session.commit()
    await ask(client, session, "Third question about a broken pipe in our yard.", "en")
    assert len(await all_questions(session)) == 3
    assert other != meeting_id


async def test_closed_intake_queues_for_the_next_meeting(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    closed = await add_meeting(session_pool, days=2, intake_days=-1)
    await onboard(client, "en")
    sent = await client.send(ASK["en"])
    assert "no longer accepted" in last_message(sent).text
    await client.send("/cancel")
    sent = await ask(client, session, "Question after the intake closed, about the lights.", "en")
    assert "no longer accepted" in last_message(sent).text
    assert "kept for the district's next meeting" in last_message(sent).text
    [question] = await all_questions(session)
    assert question.meeting_id is None

    # once the next meeting exists, the admin area attaches the waiting questions to it
    later = await add_meeting(session_pool, days=40)
    async with session_pool() as other:
        meeting = await other.get(Meeting, later)
        assert meeting is not None
        assert await qmodel.attach_waiting_questions(other, meeting) == 1
        await other.commit()
    await ask(client, session, "Another question, this one goes to the later meeting.", "en")
    questions = await all_questions(session)
    assert [q.meeting_id for q in questions] == [later, later]
    assert closed != later


async def test_no_meeting_scheduled(client: BotClient, session: AsyncSession) -> None:
    await onboard(client, "ru")
    sent = await ask(client, session, "Когда отремонтируют дорогу на улице Жибек жолы?")
    receipt = last_message(sent)
    assert "встреча пока не назначена" in receipt.text
    assert "AL-0001" in receipt.text
    [question] = await all_questions(session)
    assert question.meeting_id is None


async def test_html_looking_text_is_shown_literally(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    await add_meeting(session_pool)
    named = make_client(user_id=5300, first_name="<b>Ali</b>", last_name="& Co")
    await onboard(named, "en")
    prompt = await go_to(named, session, "publicity", "en")
    assert "<b>Ali</b> & Co" in prompt.text
    sent = await named.click(prompt, NAME)
    assert "<b>Ali</b> & Co" in last_message(sent).text
    await named.send("/cancel")

    client = make_client()
    await onboard(client, "en")
    text = "<b>Bold</b> & <script>alert(1)</script> in the yard of house 5 &amp; 7"
    prompt = await go_to(client, session, "address", "en", text=text)
    assert prompt.text
    sent = await client.send("<i>Abay</i> & Co")
    sent = await client.click(last_message(sent), NAME)
    preview = last_message(sent)
    assert text in preview.text and "<i>Abay</i> & Co" in preview.text
    sent = await client.click(preview, SEND)
    assert text in last_message(sent).text
    [question] = await all_questions(session)
    assert question.text == text and question.address == "<i>Abay</i> & Co"
    sent = await client.send("🗂 My questions")
    assert text in last_message(sent).text


async def test_two_people_fill_in_the_form_at_the_same_time(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    await add_meeting(session_pool)
    alice = make_client(user_id=6001, first_name="Алия", last_name=None, language_code="ru")
    bob = make_client(user_id=6002, first_name="Bob", last_name=None, language_code="en")
    await onboard(alice, "ru")
    await onboard(bob, "en")
    a = await go_to(alice, session, "category", "ru")
    b = await go_to(bob, session, "category", "en")
    a = last_message(await alice.click(a, "Жилищные"))
    b = last_message(await bob.click(b, "Road repair"))
    b = last_message(await bob.send("Bob's question: potholes on Abay avenue near the park."))
    a = last_message(await alice.send("Вопрос Алии: протекает крыша в доме на Толе би, 85."))
    a = last_message(await alice.click(a, SKIP))
    b = last_message(await bob.send("Abay avenue"))
    b = last_message(await bob.click(b, ANON))
    a = last_message(await alice.click(a, NAME))
    assert "Bob" not in a.text and "Алии" in a.text
    assert "Алии" not in b.text and "Bob's question" in b.text
    # one presses the other's button: the form state is per person, so it is refused
    sent = await alice.click(b, SEND)
    assert "анкете вопроса" in alerts(sent)[0]
    assert not await all_questions(session)
    await bob.click(b, SEND)
    await alice.click(a, SEND)
    questions = {q.author_name or "anon": q for q in await all_questions(session)}
    assert questions["Алия"].text.startswith("Вопрос Алии")
    assert questions["Алия"].address is None
    assert questions["anon"].text.startswith("Bob's question")
    assert questions["anon"].address == "Abay avenue"
    bob_user = await profile(session, 6002)
    assert questions["anon"].author_id == bob_user.id
    assert len(questions) == 2


# --- reference numbers -------------------------------------------------------------------------


async def test_reference_numbers_are_per_district_and_unique(
    session_pool: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    async with session_pool() as work:
        almaly = await district_by_slug(work, "almaly")
        medeu = await district_by_slug(work, "medeu")
        refs = []
        for n in range(3):
            question = await qmodel.create_question(
                work, district_id=almaly.id, category_id=1, text=f"Almaly question {n}",
                meeting_id=None,
            )  # fmt: skip
            refs.append(question.ref)
        oral = await qmodel.create_question(
            work, district_id=medeu.id, category_id=1, text="Raised orally at the meeting",
            meeting_id=None, source=QuestionSource.ORAL, status=QuestionStatus.ACCEPTED,
        )  # fmt: skip
        await work.commit()
    assert refs == ["AL-0001", "AL-0002", "AL-0003"]
    assert oral.ref == "ME-0001" and oral.author_id is None and oral.source == "oral"
    for ref in refs:
        assert REF.fullmatch(ref or "")


async def test_reference_number_retries_when_taken(
    session_pool: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two questions picked the same number: the unique index refuses one, which retries."""
    async with session_pool() as work:
        almaly = await district_by_slug(work, "almaly")
        await qmodel.create_question(
            work, district_id=almaly.id, category_id=1, text="First", meeting_id=None
        )
        await work.commit()
    real = qmodel._next_ref_number
    calls: list[int] = []

    async def stale_first(session: AsyncSession, code: str) -> int:
        calls.append(1)
        return 1 if len(calls) == 1 else await real(session, code)  # AL-0001 is taken

    monkeypatch.setattr(qmodel, "_next_ref_number", stale_first)
    async with session_pool() as work:
        question = await qmodel.create_question(
            work, district_id=almaly.id, category_id=1, text="Second", meeting_id=None
        )
        await work.commit()
    assert question.ref == "AL-0002" and len(calls) == 2


async def test_reference_numbers_under_concurrency(
    session_pool: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    """Eight questions sent at once: every one gets its own number (on SQLite the writers wait
    for each other; on PostgreSQL they race and the unique index makes the loser retry)."""
    almaly_id = (await district_by_slug(session, "almaly")).id

    async def one(n: int) -> str:
        async with session_pool() as work:
            question = await qmodel.create_question(
                work, district_id=almaly_id, category_id=1, text=f"Concurrent {n}",
                meeting_id=None,
            )  # fmt: skip
            await work.commit()
            return question.ref or ""

    refs = await asyncio.gather(*(one(n) for n in range(8)))
    assert sorted(refs) == [f"AL-{n:04d}" for n in range(1, 9)]
    count = (await session.execute(select(func.count(Question.id)))).scalar_one()
    assert count == 8


async def test_intake_closes_while_time_passes(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    """The same meeting takes questions until its deadline; after it they wait for the next."""
    meeting_id = await add_meeting(session_pool, days=5, intake_days=3)
    await onboard(client, "en")
    await ask(client, session, "Asked in time: the lights in the yard are broken.", "en")
    with time_machine.travel(utcnow() + dt.timedelta(days=4), tick=True):
        sent = await client.send("📅 Next meeting")
        assert "no longer accepted" in last_message(sent).text
        sent = await ask(client, session, "Asked too late: the bench in the park is broken.", "en")
        assert "kept for the district's next meeting" in last_message(sent).text
    with time_machine.travel(utcnow() + dt.timedelta(days=6), tick=True):
        sent = await client.send("📅 Next meeting")
        assert "No meeting of the akim" in last_message(sent).text
    first, late = await all_questions(session)
    assert first.meeting_id == meeting_id and late.meeting_id is None
    assert (first.ref, late.ref) == ("AL-0001", "AL-0002")
    # a question sent once the next meeting is scheduled takes the waiting one along
    later = await add_meeting(session_pool, days=30)
    with time_machine.travel(utcnow() + dt.timedelta(days=4), tick=True):
        await ask(client, session, "Asked for the next meeting: potholes on our street.", "en")
    first, late, new = await all_questions(session)
    assert (first.meeting_id, late.meeting_id, new.meeting_id) == (meeting_id, later, later)
