"""Asking a question: the entries, and the answers and buttons of each step of the form.

The form is an FSM: consent (first question only) → category → text → address or location
(optional) → with name or anonymous → preview (edit / send / cancel) → receipt. Each state has
a strict handler and a fallback that re-asks and keeps what was entered; nothing is stored
until "send". Form buttons carry the form's nonce, so a button of an older form is refused."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Content, PlainText
from bot.formatting import fmt_datetime
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.questions import (
    FormAction,
    QCategoryCb,
    QConsentCb,
    QFormCb,
    QSimilarCb,
    address_keyboard,
    cancel_keyboard,
    category_keyboard,
    consent_keyboard,
    edit_keyboard,
    preview_keyboard,
    publicity_keyboard,
)
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse
from handlers.common import send_main_menu
from handlers.questions import photo
from handlers.questions.form import (
    AskForm,
    after_step,
    begin_form,
    disclaimer,
    duplicate_text,
    limit_text,
    name_of,
    nonce_ok,
    prompt_address,
    prompt_category,
    prompt_publicity,
    prompt_text,
    show_preview,
    stale_text,
    target_text,
)
from handlers.questions.similar import show_similar, similar_button
from handlers.resident.shared import VALID_ID
from models.base import utcnow
from models.entities import Category, User
from models.questions import (
    ADDRESS_MAX,
    ADDRESS_MIN,
    TEXT_MAX,
    TEXT_MIN,
    attach_waiting_questions,
    categories,
    create_question,
    find_duplicate,
    question_target,
    questions_for_limit,
)
from models.settings import Settings
from models.text import TextRule, truncate
from models.translation import N_

QUESTION_TEXT = TextRule(minimum=TEXT_MIN, maximum=TEXT_MAX)
QUESTION_REPLIES = TextReplies(
    empty=N_("The message is empty. Please write your question as text."),
    too_short=N_(
        "That is too short to understand: {count} characters, at least {min} are needed. "
        "Please describe the problem and where it is."
    ),
    too_long=N_(
        "That is too long: {count} characters, at most {max} fit. Please shorten it; "
        "the main point and the place are enough."
    ),
)
ADDRESS = TextRule(minimum=ADDRESS_MIN, maximum=ADDRESS_MAX, one_line=True)
ADDRESS_REPLIES = TextReplies(
    too_long=N_(
        "An address should be from {min} to {max} characters. Send it again, share a "
        "location, or press «Skip»."
    )
)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(ask_question, Command("ask"), StateFilter(None))
    r.message.register(ask_question, MenuButton(MenuItem.ASK), StateFilter(None))
    r.callback_query.register(consent_given, StateFilter(AskForm.consent), QConsentCb.filter())
    r.callback_query.register(category_chosen, StateFilter(AskForm.category), QCategoryCb.filter())
    r.callback_query.register(
        address_skipped,
        StateFilter(AskForm.address),
        QFormCb.filter(F.action == FormAction.SKIP_ADDRESS),
    )
    r.callback_query.register(
        publicity_chosen,
        StateFilter(AskForm.publicity),
        QFormCb.filter(F.action.in_({FormAction.NAME, FormAction.ANONYMOUS})),
    )
    r.callback_query.register(
        preview_edit_menu,
        StateFilter(AskForm.preview),
        QFormCb.filter(F.action.in_({FormAction.EDIT, FormAction.BACK})),
    )
    r.callback_query.register(
        preview_edit_field, StateFilter(AskForm.preview), QFormCb.filter(F.action.in_(EDIT_FIELDS))
    )
    r.callback_query.register(
        send_question, StateFilter(AskForm.preview), QFormCb.filter(F.action == FormAction.SEND)
    )
    r.callback_query.register(
        photo.photo_removed,
        StateFilter(AskForm.photo),
        QFormCb.filter(F.action == FormAction.REMOVE_PHOTO),
    )
    r.callback_query.register(
        photo.photo_back, StateFilter(AskForm.photo), QFormCb.filter(F.action == FormAction.BACK)
    )
    r.callback_query.register(
        cancel_form_button, StateFilter(AskForm), QFormCb.filter(F.action == FormAction.CANCEL)
    )
    r.callback_query.register(similar_button, QSimilarCb.filter(VALID_ID))
    # a button of a finished form, or of another step than the one the form is at
    r.callback_query.register(stale_form_button, QFormCb.filter())
    r.callback_query.register(stale_form_button, QConsentCb.filter())
    r.callback_query.register(stale_form_button, QCategoryCb.filter())

    form = Router(name=f"{__name__}.form")  # what the resident sends while the form waits
    form.message.filter(StateFilter(AskForm))
    form.message.register(consent_fallback, StateFilter(AskForm.consent))
    form.message.register(photo_with_text, StateFilter(AskForm.text), Content("photo"))
    form.message.register(
        photo.photo_at_a_step,
        StateFilter(AskForm.category, AskForm.address, AskForm.publicity, AskForm.preview),
        Content("photo"),
    )
    form.message.register(photo.photo_replaced, StateFilter(AskForm.photo), Content("photo"))
    form.message.register(photo.photo_step_fallback, StateFilter(AskForm.photo))
    form.message.register(category_fallback, StateFilter(AskForm.category))
    form.message.register(text_entered, StateFilter(AskForm.text), PlainText())
    form.message.register(text_fallback, StateFilter(AskForm.text))
    form.message.register(address_entered, StateFilter(AskForm.address), PlainText())
    form.message.register(location_shared, StateFilter(AskForm.address), Content("location"))
    form.message.register(address_fallback, StateFilter(AskForm.address))
    form.message.register(publicity_fallback, StateFilter(AskForm.publicity))
    form.message.register(preview_fallback, StateFilter(AskForm.preview))
    r.include_router(form)
    return r


# --- entries -----------------------------------------------------------------------------------


async def ask_question(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    await begin_form(message, state, session, user, settings, current_locale())


# --- the form: callbacks -----------------------------------------------------------------------


async def consent_given(
    query: CallbackQuery,
    callback_data: QConsentCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    if not callback_data.agree:
        await state.clear()
        await query.message.edit_text(
            _(
                "Understood. Without your consent the bot cannot take questions, and nothing "
                "was stored. You can still browse the commitments and follow them."
            )
        )
        return
    user.consent_at = utcnow()
    # After /forget the profile is nameless until consent is given again.
    user.full_name = query.from_user.full_name[:300]
    user.username = query.from_user.username
    await session.commit()
    locale = current_locale()
    await query.message.edit_text(
        _("Thank you. Consent recorded on {date}.").format(
            date=fmt_datetime(user.consent_at, locale)
        )
    )
    await prompt_category(query.message, state, session, locale)


async def category_chosen(
    query: CallbackQuery,
    callback_data: QCategoryCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    category = await session.get(Category, callback_data.id)
    if (
        category is None
        or not await nonce_ok(state, callback_data.f)
        or not isinstance(query.message, Message)
    ):
        refuse(callback_answer, stale_text())
        return
    locale = current_locale()
    await state.update_data(category_id=category.id)
    await query.message.edit_text(
        _("Category: {category}").format(category=html.quote(category.name(locale)))
    )
    await after_step(query.message, state, session, user, locale, "text")


async def address_skipped(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    await state.update_data(address=None, latitude=None, longitude=None)
    await query.message.edit_text(_("Address: {address}").format(address=_("not given")))
    await after_step(query.message, state, session, user, current_locale(), "publicity")


async def publicity_chosen(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    show_name = callback_data.action is FormAction.NAME
    await state.update_data(show_name=show_name)
    await query.message.edit_text(
        _("Published: {publicity}").format(
            publicity=_("with your name ({name})").format(name=html.quote(name_of(user)))
            if show_name
            else _("anonymously")
        )
    )
    await show_preview(query.message, state, session, user, current_locale())


async def preview_edit_menu(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    markup = (
        edit_keyboard(callback_data.f)
        if callback_data.action is FormAction.EDIT
        else preview_keyboard(callback_data.f)
    )
    await query.message.edit_reply_markup(reply_markup=markup)


EDIT_FIELDS = {
    FormAction.EDIT_CATEGORY,
    FormAction.EDIT_TEXT,
    FormAction.EDIT_ADDRESS,
    FormAction.EDIT_PUBLICITY,
    FormAction.EDIT_PHOTO,
}


async def preview_edit_field(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    await state.update_data(editing=True)
    await query.message.edit_reply_markup(reply_markup=None)
    match callback_data.action:
        case FormAction.EDIT_CATEGORY:
            await prompt_category(query.message, state, session, current_locale())
        case FormAction.EDIT_TEXT:
            await prompt_text(query.message, state)
        case FormAction.EDIT_ADDRESS:
            await prompt_address(query.message, state)
        case FormAction.EDIT_PHOTO:
            await photo.prompt_photo(query.message, state)
        case _:
            await prompt_publicity(query.message, state, user)


async def send_question(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    complete = all(data.get(k) is not None for k in ("category_id", "text", "show_name"))
    category = await session.get(Category, data["category_id"]) if complete else None
    if (
        category is None
        or data.get("f") != callback_data.f
        or not isinstance(query.message, Message)
    ):
        refuse(callback_answer, stale_text())
        return
    locale = current_locale()
    district_id: int = data["district_id"]
    target = await question_target(session, district_id)
    meeting_id = target.meeting.id if target.meeting else None
    limit = settings.question_limit_per_meeting
    duplicate = await find_duplicate(session, user.id, data["text"])
    if duplicate is not None or (
        await questions_for_limit(session, user.id, district_id, meeting_id) >= limit
    ):
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        text = duplicate_text(duplicate) if duplicate is not None else limit_text(limit)
        await send_main_menu(query.message, session, user, is_admin, text)
        return
    if target.meeting is not None:
        # Questions kept while no meeting took them go to this one now (the admin area does
        # the same when it schedules a meeting).
        await attach_waiting_questions(session, target.meeting)
    question = await create_question(
        session,
        district_id=district_id,
        category_id=category.id,
        text=data["text"],
        meeting_id=meeting_id,
        author=user,
        show_name=bool(data["show_name"]),
        address=data.get("address"),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        photo_file_id=data.get("photo"),
    )
    await session.commit()
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    if target.meeting is not None and not target.deferred:
        queued = _("It is queued for the meeting on {date}.").format(
            date=fmt_datetime(target.meeting.starts_at, locale)
        )
    else:
        queued = target_text(target, locale)
    receipt = "\n".join(
        [
            _("✅ <b>Your question has been sent.</b>"),
            _("Reference number: <b>{ref}</b>").format(ref=html.quote(question.ref or "")),
            f"<i>{html.quote(truncate(question.text, 1000))}</i>",
            "",
            queued,
            _(
                "Moderators will check it before the meeting; the bot will tell you when its "
                "status changes. Follow it in «🗂 My questions»."
            ),
            "",
            disclaimer(),
        ]
    )
    await send_main_menu(query.message, session, user, is_admin, receipt)


async def cancel_form_button(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    await state.clear()
    await query.message.edit_text(_("Cancelled. Nothing was saved."))


async def stale_form_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of a finished form, or of another step than the one the form is at."""
    refuse(callback_answer, stale_text())


# --- the form: messages ------------------------------------------------------------------------


def _command_in_form(message: Message) -> bool:
    return bool(message.text and message.text.startswith("/"))


def _command_text() -> str:
    return _(
        "Commands wait until the question is finished; what you entered is kept. "
        "Answer the last question above, or send /cancel to stop."
    )


async def consent_fallback(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(
        _("Please answer with the buttons: do you agree to the processing of your data?"),
        reply_markup=consent_keyboard(data["f"]),
    )


async def category_fallback(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    items = await categories(session)
    await message.answer(
        _("Please choose the category with one of the buttons; you will write the text next."),
        reply_markup=category_keyboard(items, current_locale(), data["f"], data.get("category_id")),
    )


async def text_entered(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    await _accept_text(message, state, session, user, i18n, message.text)


async def _accept_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    raw: str | None,
    intro: str = "",
) -> None:
    """The question's text (typed, or a photo's caption): checked, then the close measures and
    questions, then the next step."""
    data = await state.get_data()
    text, problem = form_text(raw, QUESTION_TEXT, QUESTION_REPLIES)
    if problem is None:
        duplicate = await find_duplicate(session, user.id, text)
        if duplicate is not None:
            problem = duplicate_text(duplicate)
    if problem is not None:
        answer = f"{intro}\n\n{problem}" if intro else problem
        await message.answer(answer, reply_markup=cancel_keyboard(data["f"]))
        return
    if intro:
        await message.answer(intro)
    await state.update_data(text=text)
    await show_similar(message, state, session, user, i18n)
    await after_step(message, state, session, user, current_locale(), "address")


async def photo_with_text(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    """A photo at the text step: kept; its caption, if any, is the question's text."""
    if not await photo.keep_photo(message, state):
        return
    if message.caption:
        await _accept_text(
            message, state, session, user, i18n, message.caption, photo.received_text()
        )
        return
    data = await state.get_data()
    await message.answer(
        photo.received_text() + "\n\n" + _("Now write the question itself as text."),
        reply_markup=cancel_keyboard(data["f"]),
    )


async def text_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(photo.only_text_and_photo(), reply_markup=cancel_keyboard(data["f"]))


async def address_entered(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    data = await state.get_data()
    address, problem = form_text(message.text, ADDRESS, ADDRESS_REPLIES)
    if problem is not None:
        await message.answer(problem, reply_markup=address_keyboard(data["f"]))
        return
    await state.update_data(address=address, latitude=None, longitude=None)
    await after_step(message, state, session, user, current_locale(), "publicity")


async def location_shared(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    assert message.location is not None
    await state.update_data(
        address=None, latitude=message.location.latitude, longitude=message.location.longitude
    )
    await message.answer(_("📍 Location received."))
    await after_step(message, state, session, user, current_locale(), "publicity")


async def address_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(
        _("Please send the address as text or share a location (📎 → Location), or press «Skip»."),
        reply_markup=address_keyboard(data["f"]),
    )


async def publicity_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(
        _("Please choose with the buttons: with your name or anonymously."),
        reply_markup=publicity_keyboard(data["f"]),
    )


async def preview_fallback(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    await message.answer(
        _(
            "Your question is ready. Use the buttons under the preview: send, change something "
            "or cancel."
        )
    )
    await show_preview(message, state, session, user, current_locale())
