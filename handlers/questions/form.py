"""The question form's screens: the texts, each step's prompt, the preview, starting the form."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_datetime
from bot.keyboards.questions import (
    address_keyboard,
    cancel_keyboard,
    category_keyboard,
    consent_keyboard,
    preview_keyboard,
    publicity_keyboard,
)
from handlers.common import ask_district
from models.entities import Category, User
from models.questions import (
    TEXT_MAX,
    TEXT_MIN,
    SentQuestion,
    Target,
    categories,
    intake_deadline,
    question_target,
    questions_for_limit,
)
from models.settings import Settings
from models.text import truncate

EOTINISH_URL = "https://eotinish.kz"


class AskForm(StatesGroup):
    consent = State()
    category = State()
    text = State()
    address = State()
    publicity = State()
    preview = State()
    photo = State()  # from the preview: add, replace or remove the photo


# --- texts -------------------------------------------------------------------------------------


def disclaimer() -> str:
    return _(
        "ℹ️ A question sent here is not a formal appeal under the Administrative Procedural and "
        "Process Code of the Republic of Kazakhstan. For a formal appeal use eOtinish: {url}"
    ).format(url=EOTINISH_URL)


def target_text(target: Target, locale: str) -> str:
    """Which meeting a question sent now is for, in one or two sentences."""
    if target.closed is not None and target.meeting is not None:
        return _(
            "Questions for the meeting on {closed} are no longer accepted; yours will go to the "
            "meeting on {date}."
        ).format(
            closed=fmt_datetime(target.closed.starts_at, locale),
            date=fmt_datetime(target.meeting.starts_at, locale),
        )
    if target.closed is not None:
        return _(
            "Questions for the meeting on {closed} are no longer accepted; yours will be kept "
            "for the district's next meeting."
        ).format(closed=fmt_datetime(target.closed.starts_at, locale))
    if target.meeting is not None:
        return _(
            "Your question goes to the meeting on {date}; questions are accepted until {deadline}."
        ).format(
            date=fmt_datetime(target.meeting.starts_at, locale),
            deadline=fmt_datetime(intake_deadline(target.meeting), locale),
        )
    return _(
        "No meeting is scheduled in your district yet; your question will be kept for the next one."
    )


def text_rules() -> str:
    return (
        _(
            "Write your question in one message: what the problem is and where. "
            "From {min} to {max} characters."
        ).format(min=TEXT_MIN, max=TEXT_MAX)
        + "\n"
        + _("📷 You may add one photo: send it with the question as its caption, or on its own.")
    )


def name_of(user: User) -> str:
    return user.full_name or _("(no name)")


# --- helpers -----------------------------------------------------------------------------------


async def nonce_ok(state: FSMContext, nonce: int) -> bool:
    data = await state.get_data()
    return data.get("f") == nonce


def stale_text() -> str:
    return _(
        "This button belongs to a question form that is finished or at another step; "
        "nothing was changed. Use the latest message, or press «❓ Ask a question» again."
    )


async def prompt_category(
    message: Message, state: FSMContext, session: AsyncSession, locale: str, intro: str = ""
) -> None:
    data = await state.get_data()
    items = await categories(session)
    await state.set_state(AskForm.category)
    text = _("Choose the category of your question:")
    if intro:
        text = f"{intro}\n\n{text}"
    await message.answer(
        text, reply_markup=category_keyboard(items, locale, data["f"], data.get("category_id"))
    )


async def prompt_text(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(AskForm.text)
    text = text_rules()
    if data.get("editing") and data.get("text"):
        text += "\n\n" + _("Now it reads:\n<i>{text}</i>").format(
            text=html.quote(truncate(data["text"], 1500))
        )
    await message.answer(text, reply_markup=cancel_keyboard(data["f"]))


async def prompt_address(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(AskForm.address)
    await message.answer(
        _(
            "If the question is about a particular place, send the address as text "
            "(for example, «Tole bi 85, yard») or share a location with 📎 → Location. "
            "Otherwise press «Skip»."
        ),
        reply_markup=address_keyboard(data["f"]),
    )


async def prompt_publicity(message: Message, state: FSMContext, user: User) -> None:
    data = await state.get_data()
    await state.set_state(AskForm.publicity)
    await message.answer(
        _(
            "Show your name with the question? With your name, officials and other residents "
            "see it as «{name}». Anonymously, nobody sees who asked."
        ).format(name=html.quote(name_of(user))),
        reply_markup=publicity_keyboard(data["f"]),
    )


async def preview_text(data: dict[str, Any], session: AsyncSession, user: User, locale: str) -> str:
    category = await session.get(Category, data["category_id"])
    target = await question_target(session, data["district_id"])
    if data.get("address"):
        place = html.quote(data["address"])
    elif data.get("latitude") is not None:
        place = _("📍 location shared")
    else:
        place = _("not given")
    publicity = (
        _("with your name ({name})").format(name=html.quote(name_of(user)))
        if data.get("show_name")
        else _("anonymously")
    )
    return "\n".join(
        [
            _("<b>Your question: check it before sending</b>"),
            _("Category: {category}").format(
                category=html.quote(category.name(locale)) if category else "—"
            ),
            _("Question:"),
            f"<i>{html.quote(data['text'])}</i>",
            _("Address: {address}").format(address=place),
            *([_("📷 A photo is attached.")] if data.get("photo") else []),
            _("Published: {publicity}").format(publicity=publicity),
            "",
            target_text(target, locale),
            "",
            disclaimer(),
        ]
    )


async def show_preview(
    message: Message, state: FSMContext, session: AsyncSession, user: User, locale: str
) -> None:
    await state.update_data(editing=False)
    await state.set_state(AskForm.preview)
    data = await state.get_data()
    await message.answer(
        await preview_text(data, session, user, locale), reply_markup=preview_keyboard(data["f"])
    )


async def after_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    locale: str,
    next_step: str,
) -> None:
    """Go to the next step of the form, or back to the preview when editing one field."""
    data = await state.get_data()
    if data.get("editing"):
        await show_preview(message, state, session, user, locale)
    elif next_step == "text":
        await prompt_text(message, state)
    elif next_step == "address":
        await prompt_address(message, state)
    else:
        await prompt_publicity(message, state, user)


def limit_text(limit: int) -> str:
    return _(
        "You have already sent {limit} questions for this meeting, the most one person can. "
        "You can support other residents' questions instead, from «📅 Next meeting»."
    ).format(limit=limit)


def duplicate_text(question: SentQuestion) -> str:
    return _(
        "You have already sent this question ({ref}); it is in «🗂 My questions». "
        "Please write a different question."
    ).format(ref=html.quote(question.ref or f"#{question.id}"))


async def begin_form(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    locale: str,
) -> None:
    """Start the question form (or explain why it cannot start)."""
    if user.district_id is None:
        await ask_district(message, session, locale)
        return
    target = await question_target(session, user.district_id)
    meeting_id = target.meeting.id if target.meeting else None
    sent = await questions_for_limit(session, user.id, user.district_id, meeting_id)
    if sent >= settings.question_limit_per_meeting:
        await message.answer(limit_text(settings.question_limit_per_meeting))
        return
    await state.set_data(
        {
            "f": secrets.randbelow(1_000_000_000),
            "district_id": user.district_id,
            "meeting_id": meeting_id,  # the meeting whose questions "already asked?" compares
        }
    )
    intro = "\n\n".join(
        [_("<b>A question for the akim's meeting</b>"), target_text(target, locale)]
    )
    if user.consent_at is None:
        await state.set_state(AskForm.consent)
        data = await state.get_data()
        await message.answer(
            "\n\n".join(
                [
                    intro,
                    _(
                        "To take your question we store your Telegram name and the question "
                        "itself, and pass the question to the akimat. Once accepted, the "
                        "question is published as open data on the bot's website: its text, "
                        "category and the address or place you give, never your name. Do you "
                        "agree to the processing of your personal data for this purpose? You "
                        "can see and delete what is stored at any time with /mydata and /forget."
                    ),
                    disclaimer(),
                ]
            ),
            reply_markup=consent_keyboard(data["f"]),
        )
        return
    await prompt_category(message, state, session, locale, intro + "\n\n" + disclaimer())
