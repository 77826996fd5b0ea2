"""A photo with a question: one, optional, kept as Telegram's file id; shown to moderators and
the department, never exported; every other kind of attachment gets a clear answer and the form
keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.methods import SendPhoto
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import (
    Department,
    DepartmentMember,
    DepartmentQueue,
    Question,
    QuestionStatus,
    User,
)
from models.exports import question_table
from models.stats import Scope, ScopeKind
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages
from tests.test_questions_form import (
    ANON,
    SEND,
    SKIP,
    add_meeting,
    all_questions,
    go_to,
    markup_edit,
)

TEXT = "The street lights on Tole bi 12 have been off for a month, it is dark at night."


async def test_a_photo_with_the_question_as_its_caption(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    prompt = await go_to(client, session, "text", "en")
    assert "You may add one photo" in prompt.text
    sent = await client.send_content("photo", caption=TEXT, file_id="lamp")
    shown = [m.text for m in messages(sent)]
    assert any("Photo received" in t for t in shown)
    assert "send the address" in last_message(sent).text  # the caption was the question
    sent = await client.click(last_message(sent), SKIP)
    sent = await client.click(last_message(sent), ANON)
    preview = last_message(sent)
    assert "A photo is attached." in preview.text and TEXT in preview.text
    await client.click(preview, SEND)
    (question,) = await all_questions(session)
    assert (question.text, question.photo_file_id) == (TEXT, "lamp")


async def test_a_photo_alone_then_the_text_and_a_second_photo_refused(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    sent = await client.send_content("photo", file_id="first")
    assert "Photo received" in last_message(sent).text
    assert "Now write the question itself as text." in last_message(sent).text
    sent = await client.send_content("photo", file_id="second")
    assert "Only one photo can go with a question" in last_message(sent).text
    sent = await client.send(TEXT)
    assert "send the address" in last_message(sent).text
    # an album at the address step: one answer for the whole album, the first photo kept
    sent = await client.send_content("photo", file_id="a1", media_group_id="album")
    assert "Only one photo can go with a question" in last_message(sent).text
    sent = await client.send_content("photo", file_id="a2", media_group_id="album")
    assert messages(sent) == []
    sent = await client.send("ул. Толе би, 12")
    sent = await client.click(last_message(sent), ANON)
    await client.click(last_message(sent), SEND)
    (question,) = await all_questions(session)
    assert question.photo_file_id == "first"
    assert question.address == "ул. Толе би, 12"


async def test_voice_video_file_and_sticker_get_a_clear_answer_and_nothing_is_lost(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    for kind in ("voice", "video", "document", "sticker"):
        sent = await client.send_content(kind)
        assert "Only text and one photo are accepted" in last_message(sent).text, kind
    # a photo whose caption is too long: the photo is kept, the text asked again
    sent = await client.send_content("photo", caption="x" * 2001, file_id="kept")
    answer = last_message(sent).text
    assert "Photo received" in answer and "too long" in answer and "characters 2001" in answer
    sent = await client.send(TEXT)
    assert "send the address" in last_message(sent).text
    sent = await client.click(last_message(sent), SKIP)
    sent = await client.click(last_message(sent), ANON)
    assert "A photo is attached." in last_message(sent).text
    await client.click(last_message(sent), SEND)
    (question,) = await all_questions(session)
    assert question.photo_file_id == "kept" and question.text == TEXT


async def test_the_photo_is_replaced_or_removed_from_the_preview(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    preview = await go_to(client, session, "preview", "en")
    assert "A photo is attached." not in preview.text
    sent = await client.click(preview, "Change something")
    sent = await client.click(markup_edit(sent), "📷 Photo")
    assert "Send one photo of the problem" in last_message(sent).text
    for kind in ("voice", "video", "document", "sticker"):
        sent = await client.send_content(kind)
        assert "Only a photo is accepted here" in last_message(sent).text, kind
    sent = await client.send("a photo of the lamp")
    assert "Only a photo is accepted here" in last_message(sent).text
    sent = await client.send_content("photo", file_id="one")
    assert "A photo is attached." in last_message(sent).text
    sent = await client.click(last_message(sent), "Change something")
    sent = await client.click(markup_edit(sent), "📷 Photo")
    assert "Send another photo to replace it" in last_message(sent).text
    sent = await client.send_content("photo", file_id="two")  # replaces the first
    sent = await client.click(last_message(sent), "Change something")
    sent = await client.click(markup_edit(sent), "📷 Photo")
    sent = await client.click(last_message(sent), "Back to the preview")
    assert "A photo is attached." in last_message(sent).text
    await client.click(last_message(sent), SEND)
    (question,) = await all_questions(session)
    assert question.photo_file_id == "two"

    preview = await go_to(client, session, "preview", "en", text=TEXT + " Again.")
    sent = await client.click(preview, "Change something")
    sent = await client.click(markup_edit(sent), "📷 Photo")
    sent = await client.send_content("photo", file_id="three")
    sent = await client.click(last_message(sent), "Change something")
    sent = await client.click(markup_edit(sent), "📷 Photo")
    sent = await client.click(last_message(sent), "Remove the photo")
    assert "The photo is removed" in " ".join(m.text for m in messages(sent))
    assert "A photo is attached." not in last_message(sent).text
    await client.click(last_message(sent), SEND)
    session.expire_all()
    photos = {q.text: q.photo_file_id for q in await all_questions(session)}
    assert photos[TEXT + " Again."] is None and "two" in photos.values()


async def test_moderators_and_the_department_see_the_photo_exports_never(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    await add_meeting(session_pool)
    resident = make_client(user_id=6201, language_code="en")
    await onboard(resident, "en")
    await go_to(resident, session, "text", "en")
    sent = await resident.send_content("photo", caption=TEXT, file_id="yard")
    sent = await resident.click(last_message(sent), SKIP)
    sent = await resident.click(last_message(sent), ANON)
    await resident.click(last_message(sent), SEND)
    (question,) = await all_questions(session)
    question_id, ref = question.id, question.ref

    # a resident cannot open the moderators' photo button
    sent = await resident.press(f"mq:ph:{question_id}:0")
    assert not any(isinstance(s.method, SendPhoto) for s in sent)

    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.send("/moderate")
    sent = await admin.click(last_message(sent), ref or "")
    card = last_message(sent)
    assert "A photo is attached." in card.text
    sent = await admin.click(card, "📷 Photo")
    (photo,) = [s.method for s in sent if isinstance(s.method, SendPhoto)]
    assert photo.photo == "yard" and ref in (photo.caption or "")

    # the department it is routed to
    department = (
        await session.execute(select(Department).where(Department.code == "УЭиВ"))
    ).scalar_one()
    official = User(tg_id=6202, locale="en")
    session.add(official)
    await session.flush()
    session.add(DepartmentMember(department_id=department.id, user_id=official.id))
    stored = await session.get(Question, question_id)
    assert stored is not None
    stored.status = QuestionStatus.ACCEPTED
    stored.department_id = department.id
    stored.department_queue = DepartmentQueue.NEW
    await session.commit()
    member = make_client(user_id=6202, language_code="en")
    sent = await member.press(f"dq:{question_id}:v")
    assert "A photo is attached." in last_message(sent).text
    sent = await member.click(last_message(sent), "📷 Photo")
    (photo,) = [s.method for s in sent if isinstance(s.method, SendPhoto)]
    assert photo.photo == "yard"
    # someone of no department cannot
    stranger = make_client(user_id=6203, language_code="en")
    await onboard(stranger, "en")
    sent = await stranger.press(f"dq:{question_id}:p")
    assert not any(isinstance(s.method, SendPhoto) for s in sent)
    assert alerts(sent)

    # exports carry no photo
    from bot.i18n import create_i18n

    table = await question_table(session, Scope(ScopeKind.ALL), create_i18n("en"), "en")
    assert "yard" not in repr(table.rows) and "photo" not in " ".join(table.headers).lower()

    # /forget drops it with the link to the person
    sent = await resident.send("/forget")
    await resident.click(last_message(sent), "Yes, delete my data")
    session.expire_all()
    assert (await session.get(Question, question_id)).photo_file_id is None  # type: ignore[union-attr]
