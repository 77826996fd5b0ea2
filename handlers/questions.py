"""Residents' questions: the next meeting, the question form, "my questions", supporting
others' questions, and personal data (/mydata, /forget).

The form is an FSM: consent (first question only) → category → text → address or location
(optional) → with name or anonymous → preview (edit / send / cancel) → receipt. Each state has
a strict handler and a fallback that re-asks and keeps what was entered; nothing is stored
until "send". Form buttons carry the form's nonce, so a button of an older form is refused.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import LANGUAGE_NAMES
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.questions import (
    FormAction,
    NextAction,
    PrivacyAction,
    QCategoryCb,
    QConsentCb,
    QFormCb,
    QMyCb,
    QNextCb,
    QPrivacyCb,
    QSupportCb,
    SupportAction,
    address_keyboard,
    cancel_keyboard,
    category_keyboard,
    consent_keyboard,
    edit_keyboard,
    forget_keyboard,
    my_questions_keyboard,
    next_meeting_keyboard,
    preview_keyboard,
    publicity_keyboard,
    support_keyboard,
)
from bot.labels import question_label
from bot.menu import MenuButton, MenuItem
from handlers.common import ask_district, send_main_menu
from models.base import utcnow
from models.clock import to_local
from models.entities import Category, District, Meeting, Question, QuestionStatus, User
from models.follows import follow, is_following
from models.privacy import forget_user, personal_data
from models.questions import (
    ADDRESS_MAX,
    ADDRESS_MIN,
    TEXT_MAX,
    TEXT_MIN,
    SentQuestion,
    SupportResult,
    Target,
    attach_waiting_questions,
    can_support,
    categories,
    categories_by_id,
    count_public,
    count_user_questions,
    create_question,
    find_duplicate,
    intake_deadline,
    meetings_by_id,
    next_meeting,
    question_target,
    questions_for_limit,
    ranked_questions,
    support,
    supported_ids,
    unsupport,
    user_questions,
)
from models.settings import Settings
from models.text import truncate

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

MY_PER_PAGE = 5
# (question text, answer, reject reason) lengths on a "my questions" page, longest first.
MY_TRUNCATION = ((300, 600, 300), (200, 350, 150), (120, 200, 100))
PAGE_BUDGET = 3900  # characters of HTML; what the user sees is never longer
SUPPORT_PER_PAGE = 5
EOTINISH_URL = "https://eotinish.kz"


class AskForm(StatesGroup):
    consent = State()
    category = State()
    text = State()
    address = State()
    publicity = State()
    preview = State()


class ForgetForm(StatesGroup):
    confirm = State()


# --- texts -------------------------------------------------------------------------------------


def disclaimer() -> str:
    return _(
        "ℹ️ A question sent here is not an official appeal under the Law of the Republic of "
        "Kazakhstan on the procedure for considering appeals. For a formal appeal use eOtinish: "
        "{url}"
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
    return _(
        "Write your question in one message: what the problem is and where. "
        "From {min} to {max} characters."
    ).format(min=TEXT_MIN, max=TEXT_MAX)


def _name_of(user: User) -> str:
    return user.full_name or _("(no name)")


def _now_locale(i18n: I18n) -> str:
    return str(i18n.current_locale)


# --- helpers -----------------------------------------------------------------------------------


async def _nonce_ok(state: FSMContext, nonce: int) -> bool:
    data = await state.get_data()
    return data.get("f") == nonce


def _stale_text() -> str:
    return _(
        "This button belongs to a question form that is finished or at another step; "
        "nothing was changed. Use the latest message, or press «❓ Ask a question» again."
    )


async def _prompt_category(
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


async def _prompt_text(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(AskForm.text)
    text = text_rules()
    if data.get("editing") and data.get("text"):
        text += "\n\n" + _("Now it reads:\n<i>{text}</i>").format(
            text=html.quote(truncate(data["text"], 1500))
        )
    await message.answer(text, reply_markup=cancel_keyboard(data["f"]))


async def _prompt_address(message: Message, state: FSMContext) -> None:
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


async def _prompt_publicity(message: Message, state: FSMContext, user: User) -> None:
    data = await state.get_data()
    await state.set_state(AskForm.publicity)
    await message.answer(
        _(
            "Show your name with the question? With your name, officials and other residents "
            "see it as «{name}». Anonymously, nobody sees who asked."
        ).format(name=html.quote(_name_of(user))),
        reply_markup=publicity_keyboard(data["f"]),
    )


async def _preview_text(
    data: dict[str, Any], session: AsyncSession, user: User, locale: str
) -> str:
    category = await session.get(Category, data["category_id"])
    target = await question_target(session, data["district_id"])
    if data.get("address"):
        place = html.quote(data["address"])
    elif data.get("latitude") is not None:
        place = _("📍 location shared")
    else:
        place = _("not given")
    publicity = (
        _("with your name ({name})").format(name=html.quote(_name_of(user)))
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
            _("Published: {publicity}").format(publicity=publicity),
            "",
            target_text(target, locale),
            "",
            disclaimer(),
        ]
    )


async def _show_preview(
    message: Message, state: FSMContext, session: AsyncSession, user: User, locale: str
) -> None:
    await state.update_data(editing=False)
    await state.set_state(AskForm.preview)
    data = await state.get_data()
    await message.answer(
        await _preview_text(data, session, user, locale), reply_markup=preview_keyboard(data["f"])
    )


async def _after_step(
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
        await _show_preview(message, state, session, user, locale)
    elif next_step == "text":
        await _prompt_text(message, state)
    elif next_step == "address":
        await _prompt_address(message, state)
    else:
        await _prompt_publicity(message, state, user)


def _limit_text(limit: int) -> str:
    return _(
        "You have already sent {limit} questions for this meeting, the most one person can. "
        "You can support other residents' questions instead, from «📅 Next meeting»."
    ).format(limit=limit)


def _duplicate_text(question: SentQuestion) -> str:
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
        await message.answer(_limit_text(settings.question_limit_per_meeting))
        return
    await state.set_data({"f": secrets.randbelow(1_000_000_000), "district_id": user.district_id})
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
                        "itself, and pass the question to the akimat. Do you agree to the "
                        "processing of your personal data for this purpose? You can see and "
                        "delete what is stored at any time with /mydata and /forget."
                    ),
                    disclaimer(),
                ]
            ),
            reply_markup=consent_keyboard(data["f"]),
        )
        return
    await _prompt_category(message, state, session, locale, intro + "\n\n" + disclaimer())


# --- entries -----------------------------------------------------------------------------------


@router.message(Command("ask"), StateFilter(None))
@router.message(MenuButton(MenuItem.ASK), StateFilter(None))
async def ask_question(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    await begin_form(message, state, session, user, settings, _now_locale(i18n))


async def _next_meeting_card(
    session: AsyncSession, user: User, district: District, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    meeting = await next_meeting(session, district.id)
    following = await is_following(session, user.id, district_id=district.id)
    if meeting is None:
        text = _(
            "📅 No meeting of the akim with residents of {district} is scheduled yet. "
            "You can still send a question: it will be kept for the next meeting."
        ).format(district=html.quote(district.name(locale)))
        if not following:
            text += "\n\n" + _("Follow the district and the bot will tell you when one is set.")
        else:
            text += "\n\n" + _("You follow the district: the bot will tell you when one is set.")
        markup = next_meeting_keyboard(
            district.id, meeting_id=None, public_questions=0, following=following, can_ask=True
        )
        return text, markup
    lines = [
        _("📅 <b>Next meeting with residents of {district}</b>").format(
            district=html.quote(district.name(locale))
        ),
        _("When: {date}").format(date=fmt_datetime(meeting.starts_at, locale)),
    ]
    if meeting.place:
        lines.append(_("Where: {place}").format(place=html.quote(meeting.place)))
    if meeting.akim:
        lines.append(_("Akim: {akim}").format(akim=html.quote(meeting.akim)))
    if meeting.stream_url:
        lines.append(_("Livestream: {url}").format(url=html.quote(meeting.stream_url)))
    deadline = intake_deadline(meeting)
    if deadline > utcnow():
        lines.append(
            _("Questions are accepted until {deadline}.").format(
                deadline=fmt_datetime(deadline, locale)
            )
        )
    else:
        lines.append(
            _(
                "Questions for this meeting are no longer accepted; new ones are kept for the "
                "next meeting."
            )
        )
    public = await count_public(session, meeting.id)
    markup = next_meeting_keyboard(
        district.id,
        meeting_id=meeting.id,
        public_questions=public,
        following=following,
        can_ask=True,
    )
    return "\n".join(lines), markup


@router.message(MenuButton(MenuItem.NEXT_MEETING), StateFilter(None))
async def show_next_meeting(
    message: Message, session: AsyncSession, user: User, i18n: I18n
) -> None:
    locale = _now_locale(i18n)
    district = await session.get(District, user.district_id) if user.district_id else None
    if district is None:
        await ask_district(message, session, locale)
        return
    text, markup = await _next_meeting_card(session, user, district, locale)
    await message.answer(text, reply_markup=markup)


@router.callback_query(QNextCb.filter(F.action == NextAction.FOLLOW))
async def follow_district(
    query: CallbackQuery,
    callback_data: QNextCb,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    district = await session.get(District, callback_data.district)
    if district is None:
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    await follow(session, user.id, district_id=district.id)
    await session.commit()
    locale = _now_locale(i18n)
    callback_answer.text = _(
        "You follow {district}: the bot will tell you when a meeting is scheduled."
    ).format(district=district.short(locale))
    if isinstance(query.message, Message):
        text, markup = await _next_meeting_card(session, user, district, locale)
        await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(QNextCb.filter(F.action == NextAction.ASK))
async def ask_from_card(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if await state.get_state() is not None:
        callback_answer.text = _(
            "You are in the middle of filling in a form. Finish it, or send /cancel first."
        )
        callback_answer.show_alert = True
        return
    if isinstance(query.message, Message):
        await begin_form(query.message, state, session, user, settings, _now_locale(i18n))


# --- my questions ------------------------------------------------------------------------------


async def _my_questions_page(
    session: AsyncSession, user: User, page: int, i18n: I18n, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await count_user_questions(session, user.id)
    page = clamp_page(page, total, MY_PER_PAGE)
    items = await user_questions(session, user.id, offset=page * MY_PER_PAGE, limit=MY_PER_PAGE)
    if not items:
        return (
            _(
                "You have not sent any questions yet. Press «❓ Ask a question» to send one "
                "before the next meeting."
            ),
            None,
        )
    cats = await categories_by_id(session, {q.category_id for q in items})
    meetings = await meetings_by_id(
        session, {q.meeting_id for q in items if q.meeting_id is not None}
    )
    header = _("🗂 <b>My questions</b> ({count})").format(count=total)
    # Long texts, answers and reasons are cut shorter until the page fits one message.
    for text_max, answer_max, reason_max in MY_TRUNCATION:
        blocks = [header]
        for question in items:
            category = cats.get(question.category_id)
            head = " · ".join(
                [
                    f"<b>{html.quote(question.ref or f'#{question.id}')}</b>",
                    fmt_date(to_local(question.created_at).date(), locale, "medium"),
                    html.quote(category.short(locale)) if category else "—",
                ]
            )
            lines = [
                head,
                _("Status: {status}").format(status=question_label(i18n, question.status, locale)),
                f"<i>{html.quote(truncate(question.text, text_max))}</i>",
            ]
            meeting = meetings.get(question.meeting_id or 0)
            if meeting is not None:
                lines.append(
                    _("Meeting: {date}").format(date=fmt_datetime(meeting.starts_at, locale))
                )
            else:
                lines.append(_("Meeting: the district's next meeting"))
            if question.supporters:
                lines.append(_("Supported by: {count}").format(count=question.supporters))
            if question.status == QuestionStatus.REJECTED and question.reject_reason:
                lines.append(
                    _("Reason: {reason}").format(
                        reason=html.quote(truncate(question.reject_reason, reason_max))
                    )
                )
            if question.answer:
                lines.append(
                    _("Answer: {answer}").format(
                        answer=html.quote(truncate(question.answer, answer_max))
                    )
                )
            blocks.append("\n".join(lines))
        text = "\n\n".join(blocks)
        if len(text) <= PAGE_BUDGET:
            break
    markup = my_questions_keyboard(page, page_count(total, MY_PER_PAGE))
    return text, markup


@router.message(Command("myquestions"), StateFilter(None))
@router.message(MenuButton(MenuItem.MY_QUESTIONS), StateFilter(None))
async def show_my_questions(
    message: Message, session: AsyncSession, user: User, i18n: I18n
) -> None:
    text, markup = await _my_questions_page(session, user, 0, i18n, _now_locale(i18n))
    await message.answer(text, reply_markup=markup)


@router.callback_query(QMyCb.filter())
async def page_my_questions(
    query: CallbackQuery, callback_data: QMyCb, session: AsyncSession, user: User, i18n: I18n
) -> None:
    if not isinstance(query.message, Message):
        return
    text, markup = await _my_questions_page(
        session, user, callback_data.page, i18n, _now_locale(i18n)
    )
    await query.message.edit_text(text, reply_markup=markup)


# --- supporting others' questions --------------------------------------------------------------


async def _support_page(
    session: AsyncSession, user: User, meeting: Meeting, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await count_public(session, meeting.id)
    page = clamp_page(page, total, SUPPORT_PER_PAGE)
    items = await ranked_questions(
        session, meeting.id, offset=page * SUPPORT_PER_PAGE, limit=SUPPORT_PER_PAGE
    )
    lines = [
        _("👍 <b>Residents' questions for the meeting on {date}</b>").format(
            date=fmt_datetime(meeting.starts_at, locale)
        ),
        _(
            "Support the questions that matter to you: one tap on its number, "
            "tap again to withdraw. The most supported go first."
        ),
    ]
    if not items:
        lines.append("")
        lines.append(_("No questions have been accepted for this meeting yet."))
        return "\n".join(lines), None
    cats = await categories_by_id(session, {q.category_id for q in items})
    numbered = list(enumerate(items, start=page * SUPPORT_PER_PAGE + 1))
    for number, question in numbered:
        category = cats.get(question.category_id)
        lines.append("")
        lines.append(
            f"<b>{number}.</b> "
            + html.quote(category.short(locale) if category else "—")
            + f" · 👍 {question.supporters}"
        )
        lines.append(html.quote(truncate(question.text, 500)))
        if question.show_name and question.author_name:
            lines.append(
                _("Asked by {name}").format(name=html.quote(truncate(question.author_name, 60)))
            )
        if question.author_id == user.id:
            lines.append(_("(your question)"))
    mine = await supported_ids(session, user.id, [q.id for q in items])
    markup = support_keyboard(
        meeting.id, page, page_count(total, SUPPORT_PER_PAGE), numbered, mine, user.id
    )
    return "\n".join(lines), markup


@router.callback_query(QSupportCb.filter(F.action == SupportAction.LIST))
async def list_supportable(
    query: CallbackQuery,
    callback_data: QSupportCb,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    text, markup = await _support_page(
        session, user, meeting, callback_data.page, _now_locale(i18n)
    )
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(QSupportCb.filter(F.action == SupportAction.TOGGLE))
async def toggle_support(
    query: CallbackQuery,
    callback_data: QSupportCb,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    question = await session.get(Question, callback_data.q)
    meeting = await session.get(Meeting, callback_data.meeting)
    if question is None or meeting is None or question.meeting_id != meeting.id:
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    refusal = can_support(question, user)
    if refusal is SupportResult.OWN:
        callback_answer.text = _("You cannot support your own question.")
        callback_answer.show_alert = True
        return
    if refusal is not None:
        callback_answer.text = _(
            "Only residents of the district can support questions that moderators accepted "
            "for its meeting. Your district is set in ⚙️ Settings."
        )
        callback_answer.show_alert = True
        return
    already = question.id in await supported_ids(session, user.id, [question.id])
    result = await unsupport(session, question, user) if already else None
    if result is None:
        result = await support(session, question, user, i18n)
    await session.commit()
    if result is SupportResult.REMOVED:
        callback_answer.text = _("Support withdrawn.")
    else:
        callback_answer.text = _("Thank you: you support this question.")
    if isinstance(query.message, Message):
        text, markup = await _support_page(
            session, user, meeting, callback_data.page, _now_locale(i18n)
        )
        await query.message.edit_text(text, reply_markup=markup)


# --- personal data -----------------------------------------------------------------------------


@router.message(Command("mydata"))
async def show_my_data(message: Message, session: AsyncSession, user: User, i18n: I18n) -> None:
    locale = _now_locale(i18n)
    data = await personal_data(session, user)
    none = _("not stored")
    lines = [
        _("<b>What the bot stores about you</b>"),
        _("Telegram id: {id}").format(id=user.tg_id),
        _("Name: {name}").format(name=html.quote(data.full_name) if data.full_name else none),
        _("Username: {username}").format(
            username=html.quote(f"@{data.username}") if data.username else none
        ),
        _("Language: {language}").format(
            language=LANGUAGE_NAMES.get(data.locale, data.locale) if data.locale else none
        ),
        _("District: {district}").format(
            district=html.quote(data.district.name(locale)) if data.district else none
        ),
        _("Consent to the processing of personal data: {consent}").format(
            consent=fmt_datetime(data.consent_at, locale) if data.consent_at else _("not given")
        ),
        _("With the bot since: {date}").format(
            date=fmt_date(to_local(data.created_at).date(), locale)
        ),
        _("Questions sent: {count} (with your name shown: {named})").format(
            count=data.questions, named=data.named_questions
        ),
        _("Follows: {count}").format(count=data.follows),
        _("Questions you support: {count}").format(count=data.supports),
    ]
    if data.departments:
        lines.append(
            _("Member of: {departments}").format(
                departments=html.quote(", ".join(d.short(locale) for d in data.departments))
            )
        )
    lines.append("")
    lines.append(
        _(
            "Officials see your name only on questions you chose to send with your name. "
            "Send /forget to delete your personal data."
        )
    )
    await message.answer("\n".join(lines))


@router.message(Command("forget"), StateFilter(None))
async def ask_forget(message: Message, state: FSMContext) -> None:
    await state.set_state(ForgetForm.confirm)
    await message.answer(
        _(
            "<b>Delete your personal data?</b>\n"
            "Your name, username, district, consent, follows and supports will be deleted. "
            "Your questions stay for the statistics, but without any link to you: you will no "
            "longer see them in «🗂 My questions» or get news about them. "
            "This cannot be undone."
        ),
        reply_markup=forget_keyboard(),
    )


@router.callback_query(ForgetForm.confirm, QPrivacyCb.filter(F.action == PrivacyAction.CONFIRM))
async def confirm_forget(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    result = await forget_user(session, user)
    await session.commit()
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _(
                "Your personal data has been deleted: {follows} follows and {supports} supports "
                "removed, {questions} questions anonymised. Send /start to start over."
            ).format(follows=result.follows, supports=result.supports, questions=result.questions)
        )


@router.callback_query(ForgetForm.confirm, QPrivacyCb.filter(F.action == PrivacyAction.KEEP))
async def keep_data(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was deleted."))


@router.callback_query(QPrivacyCb.filter())
async def stale_privacy_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _(
        "This confirmation is out of date; nothing was deleted. Send /forget again."
    )
    callback_answer.show_alert = True


@router.message(ForgetForm.confirm)
async def forget_fallback(message: Message) -> None:
    await message.answer(
        _("Please answer with the buttons above: delete your data or keep it. /cancel stops.")
    )


# --- the form: callbacks -----------------------------------------------------------------------


@router.callback_query(AskForm.consent, QConsentCb.filter())
async def consent_given(
    query: CallbackQuery,
    callback_data: QConsentCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
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
    locale = _now_locale(i18n)
    await query.message.edit_text(
        _("Thank you. Consent recorded on {date}.").format(
            date=fmt_datetime(user.consent_at, locale)
        )
    )
    await _prompt_category(query.message, state, session, locale)


@router.callback_query(AskForm.category, QCategoryCb.filter())
async def category_chosen(
    query: CallbackQuery,
    callback_data: QCategoryCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    category = await session.get(Category, callback_data.id)
    if (
        category is None
        or not await _nonce_ok(state, callback_data.f)
        or not isinstance(query.message, Message)
    ):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    locale = _now_locale(i18n)
    await state.update_data(category_id=category.id)
    await query.message.edit_text(
        _("Category: {category}").format(category=html.quote(category.name(locale)))
    )
    await _after_step(query.message, state, session, user, locale, "text")


@router.callback_query(AskForm.address, QFormCb.filter(F.action == FormAction.SKIP_ADDRESS))
async def address_skipped(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    await state.update_data(address=None, latitude=None, longitude=None)
    await query.message.edit_text(_("Address: {address}").format(address=_("not given")))
    await _after_step(query.message, state, session, user, _now_locale(i18n), "publicity")


@router.callback_query(
    AskForm.publicity, QFormCb.filter(F.action.in_({FormAction.NAME, FormAction.ANONYMOUS}))
)
async def publicity_chosen(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    show_name = callback_data.action is FormAction.NAME
    await state.update_data(show_name=show_name)
    await query.message.edit_text(
        _("Published: {publicity}").format(
            publicity=_("with your name ({name})").format(name=html.quote(_name_of(user)))
            if show_name
            else _("anonymously")
        )
    )
    await _show_preview(query.message, state, session, user, _now_locale(i18n))


@router.callback_query(
    AskForm.preview, QFormCb.filter(F.action.in_({FormAction.EDIT, FormAction.BACK}))
)
async def preview_edit_menu(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
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
}


@router.callback_query(AskForm.preview, QFormCb.filter(F.action.in_(EDIT_FIELDS)))
async def preview_edit_field(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    await state.update_data(editing=True)
    await query.message.edit_reply_markup(reply_markup=None)
    match callback_data.action:
        case FormAction.EDIT_CATEGORY:
            await _prompt_category(query.message, state, session, _now_locale(i18n))
        case FormAction.EDIT_TEXT:
            await _prompt_text(query.message, state)
        case FormAction.EDIT_ADDRESS:
            await _prompt_address(query.message, state)
        case _:
            await _prompt_publicity(query.message, state, user)


@router.callback_query(AskForm.preview, QFormCb.filter(F.action == FormAction.SEND))
async def send_question(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    settings: Settings,
    i18n: I18n,
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
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    locale = _now_locale(i18n)
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
        text = _duplicate_text(duplicate) if duplicate is not None else _limit_text(limit)
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


@router.callback_query(StateFilter(AskForm), QFormCb.filter(F.action == FormAction.CANCEL))
async def cancel_form_button(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not await _nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        callback_answer.text = _stale_text()
        callback_answer.show_alert = True
        return
    await state.clear()
    await query.message.edit_text(_("Cancelled. Nothing was saved."))


@router.callback_query(QFormCb.filter())
@router.callback_query(QConsentCb.filter())
@router.callback_query(QCategoryCb.filter())
async def stale_form_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of a finished form, or of another step than the one the form is at."""
    callback_answer.text = _stale_text()
    callback_answer.show_alert = True


# --- the form: messages ------------------------------------------------------------------------

NOT_A_COMMAND = F.text & ~F.text.startswith("/")


def _command_in_form(message: Message) -> bool:
    return bool(message.text and message.text.startswith("/"))


def _command_text() -> str:
    return _(
        "Commands wait until the question is finished; what you entered is kept. "
        "Answer the last question above, or send /cancel to stop."
    )


@router.message(AskForm.consent)
async def consent_fallback(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(
        _("Please answer with the buttons: do you agree to the processing of your data?"),
        reply_markup=consent_keyboard(data["f"]),
    )


@router.message(AskForm.category)
async def category_fallback(
    message: Message, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    items = await categories(session)
    await message.answer(
        _("Please choose the category with one of the buttons; you will write the text next."),
        reply_markup=category_keyboard(
            items, _now_locale(i18n), data["f"], data.get("category_id")
        ),
    )


@router.message(AskForm.text, NOT_A_COMMAND)
async def text_entered(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    data = await state.get_data()
    text = (message.text or "").strip()
    problem = None
    if not text:
        problem = _("The message is empty. Please write your question as text.")
    elif len(text) < TEXT_MIN:
        problem = _(
            "That is too short to understand: {count} characters, at least {min} are needed. "
            "Please describe the problem and where it is."
        ).format(count=len(text), min=TEXT_MIN)
    elif len(text) > TEXT_MAX:
        problem = _(
            "That is too long: {count} characters, at most {max} fit. Please shorten it; "
            "the main point and the place are enough."
        ).format(count=len(text), max=TEXT_MAX)
    else:
        duplicate = await find_duplicate(session, user.id, text)
        if duplicate is not None:
            problem = _duplicate_text(duplicate)
    if problem is not None:
        await message.answer(problem, reply_markup=cancel_keyboard(data["f"]))
        return
    await state.update_data(text=text)
    await _after_step(message, state, session, user, _now_locale(i18n), "address")


@router.message(AskForm.text)
async def text_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(
        _(
            "Please send your question as a text message: stickers, photos, voice messages "
            "and files cannot be accepted."
        ),
        reply_markup=cancel_keyboard(data["f"]),
    )


@router.message(AskForm.address, NOT_A_COMMAND)
async def address_entered(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    data = await state.get_data()
    address = " ".join((message.text or "").split())
    if not ADDRESS_MIN <= len(address) <= ADDRESS_MAX:
        await message.answer(
            _(
                "An address should be from {min} to {max} characters. Send it again, share a "
                "location, or press «Skip»."
            ).format(min=ADDRESS_MIN, max=ADDRESS_MAX),
            reply_markup=address_keyboard(data["f"]),
        )
        return
    await state.update_data(address=address, latitude=None, longitude=None)
    await _after_step(message, state, session, user, _now_locale(i18n), "publicity")


@router.message(AskForm.address, F.location)
async def location_shared(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    assert message.location is not None
    await state.update_data(
        address=None, latitude=message.location.latitude, longitude=message.location.longitude
    )
    await message.answer(_("📍 Location received."))
    await _after_step(message, state, session, user, _now_locale(i18n), "publicity")


@router.message(AskForm.address)
async def address_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(
        _("Please send the address as text or share a location (📎 → Location), or press «Skip»."),
        reply_markup=address_keyboard(data["f"]),
    )


@router.message(AskForm.publicity)
async def publicity_fallback(message: Message, state: FSMContext) -> None:
    if _command_in_form(message):
        await message.answer(_command_text())
        return
    data = await state.get_data()
    await message.answer(
        _("Please choose with the buttons: with your name or anonymously."),
        reply_markup=publicity_keyboard(data["f"]),
    )


@router.message(AskForm.preview)
async def preview_fallback(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
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
    await _show_preview(message, state, session, user, _now_locale(i18n))
