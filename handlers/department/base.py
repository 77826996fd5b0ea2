"""What the officials' area's modules share: limits, refusals, the forms' states, prompts that work
in groups, and who may see a department's lists."""

from __future__ import annotations

import datetime as dt

from aiogram import html
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import GROUP_TYPES
from bot.formatting import fmt_date
from bot.forms import TextReplies, form_text
from bot.replies import refuse, show
from models import departments as deps
from models.entities import OPEN_STATUSES, Department, Measure, User
from models.permissions import chat_department_ids, member_department_ids
from models.spoken import measure_number
from models.text import TextRule
from models.translation import N_

PER_PAGE = 8

NOT_ALLOWED = N_(
    "Sorry, only members of a responsible department or the akimat's staff can do this. "
    "Nothing was changed."
)
ADMINS_ONLY = N_("Sorry, only the akimat's staff can do this. Nothing was changed.")
NOT_FOUND = N_("This item no longer exists. Please open the list again.")

# What the area's prompts accept as typed text.
COMMENT = TextRule(minimum=3, maximum=2000)  # what was done; a note on progress
REASON = TextRule(minimum=3, maximum=1000)  # why a measure is cancelled, a question returned
ANSWER = TextRule(minimum=5, maximum=3000)  # the answer to a resident's question
TEXT_REPLIES = TextReplies(
    too_short=N_("That is too short. Please write at least {minimum} characters."),
    too_long=N_("That is too long: {length} characters, the limit is {limit}. Please shorten it."),
)


class ReportForm(StatesGroup):
    done_comment = State()
    done_photo = State()
    cancel_reason = State()
    percent = State()
    note = State()


class DisputeForm(StatesGroup):
    details = State()


class QuestionForm(StatesGroup):
    answer = State()
    reason = State()


def is_group(message: Message) -> bool:
    # group and supergroup ids are negative; the id also holds for a message we edited
    return message.chat.type in GROUP_TYPES or message.chat.id < 0


async def prompt(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Ask for input; in a group, force a reply so the answer reaches the bot."""
    if markup is None and is_group(message):
        await message.answer(text, reply_markup=ForceReply(selective=True))
    else:
        await message.answer(text, reply_markup=markup)


async def show_or_send(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool = True
) -> None:
    """The next screen in place of the pressed one, or (``edit=False``) below it."""
    message = query.message
    if edit or not isinstance(message, Message):
        await show(query, text, markup)
    else:
        await message.answer(text, reply_markup=markup)


def typed_text(
    message: Message, rule: TextRule, replies: TextReplies = TEXT_REPLIES
) -> tuple[str, str | None]:
    """The text answering one of the area's prompts (``bot.forms.form_text``), or the answer
    that says what is wrong: a photo or sticker instead of text, a command, a bad length."""
    if message.text is None:
        return "", _("Please send this as a text message.")
    if message.text.strip().startswith("/"):
        return "", _("That looks like a command. Please send text, or /cancel to stop.")
    return form_text(message.text, rule, replies)


async def may_view_department(
    session: AsyncSession, user: User | None, is_admin: bool, chat_id: int, department_id: int
) -> bool:
    """Admins, members, and the department's own group chats may see its lists."""
    if is_admin:
        return True
    if department_id in await member_department_ids(session, user):
        return True
    return chat_id < 0 and department_id in await chat_department_ids(session, chat_id)


async def viewable_department(
    query: CallbackQuery,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    department_id: int,
    callback_answer: CallbackAnswer,
) -> Department | None:
    """The department a list button names, if the caller may see it; else a polite refusal."""
    department = await deps.get_department(session, department_id)
    if department is None:
        refuse(callback_answer, _(NOT_FOUND))
        return None
    chat_id = query.message.chat.id if query.message else 0
    if not await may_view_department(session, user, is_admin, chat_id, department.id):
        refuse(callback_answer, _(NOT_ALLOWED))
        return None
    return department


def measure_title(measure: Measure) -> str:
    return measure_number(measure.problem.number, measure.position, measure.source)


def deadline_text(measure: Measure, today: dt.date, locale: str) -> str:
    text = html.quote(measure.deadline_text or "—")
    if measure.due_date is None:
        return text
    result = f"{text} ({fmt_date(measure.due_date, locale, 'medium')})"
    if measure.status in OPEN_STATUSES:
        days = (measure.due_date - today).days
        if days < 0:
            result += ", " + _("days overdue: {days}").format(days=-days)
        else:
            result += ", " + _("days left: {days}").format(days=days)
    return result


async def visible_departments(
    session: AsyncSession, message: Message, user: User | None
) -> list[Department]:
    if is_group(message):
        return await deps.chat_departments(session, message.chat.id)
    if user is None:
        return []
    return await deps.user_departments(session, user.id)
