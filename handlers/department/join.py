"""Joining and leaving a department: an official by an invitation link or /join, a group chat by
/join in the group; /leave."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import GROUP_TYPES, ChatType
from bot.i18n import current_locale
from bot.keyboards.department import PickCb, Purpose, leave_keyboard
from bot.replies import refuse
from handlers.common import ask_district, send_main_menu
from models import departments as deps
from models.departments import INVITE_PREFIX, InviteOutcome
from models.entities import Department, User


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(
        join_by_link,
        ChatType("private"),
        CommandStart(deep_link=True, magic=F.args.startswith(INVITE_PREFIX)),
    )
    r.message.register(join_private, ChatType("private"), Command("join"))
    r.message.register(join_group, ChatType(*GROUP_TYPES), Command("join"))
    r.message.register(leave_private, ChatType("private"), Command("leave"))
    r.message.register(leave_group, ChatType(*GROUP_TYPES), Command("leave"))
    r.callback_query.register(leave_department, PickCb.filter(F.purpose == Purpose.LEAVE))
    return r


def _outcome_text(outcome: InviteOutcome, department: Department | None, locale: str) -> str:
    name = html.quote(department.name(locale)) if department else ""
    match outcome:
        case InviteOutcome.ALREADY:
            return _("You are already in {department}.").format(department=name)
        case InviteOutcome.EXPIRED:
            return _("This invitation has expired. Please ask the akimat for a new one.")
        case InviteOutcome.USED:
            return _(
                "This invitation has already been used: each one works once. "
                "Please ask the akimat for a new one."
            )
        case _:
            return _(
                "This invitation is not valid. Check that it was copied in full, "
                "or ask the akimat for a new one."
            )


async def _join_person(
    message: Message,
    token: str,
    session: AsyncSession,
    user: User,
    is_admin: bool,
) -> None:
    outcome, department = await deps.redeem_for_user(session, token, user)
    locale = current_locale()
    if outcome is not InviteOutcome.JOINED or department is None:
        await message.answer(_outcome_text(outcome, department, locale))
        return
    if user.locale is None:  # joined before choosing a language: keep the one shown now
        user.locale = locale
    await session.commit()
    await send_main_menu(
        message,
        session,
        user,
        is_admin,
        _(
            "Welcome! You are now a member of <b>{department}</b>.\n\n"
            "«🏢 Our measures» in the menu lists what your department is responsible for, "
            "with the overdue ones first; there you report progress and answer residents' "
            "questions. /leave leaves the department."
        ).format(department=html.quote(department.name(locale))),
    )
    if user.district_id is None:
        await ask_district(message, session, locale)


async def join_by_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
) -> None:
    """``/start i<token>``: the deep link of an invitation opened in a private chat."""
    await _join_person(message, command.args or "", session, user, is_admin)


async def join_private(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
) -> None:
    if not command.args:
        await message.answer(
            _("Open the invitation link you received, or send /join followed by its code.")
        )
        return
    await _join_person(message, command.args, session, user, is_admin)


async def _is_group_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError:
        return False
    return member.status in (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR)


async def join_group(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    user: User | None,
) -> None:
    """``/join <token>`` in a group, by a group administrator: the group becomes a chat of the
    department (notifications arrive there; /measures and /inbox work there)."""
    if user is None or message.from_user is None:
        await message.answer(
            _("Please send /join from your own account, not on behalf of the group.")
        )
        return
    if not command.args:
        await message.answer(_("Send /join followed by the invitation code from the akimat."))
        return
    if not await _is_group_admin(bot, message.chat.id, message.from_user.id):
        await message.answer(_("Only an administrator of this group can bind it to a department."))
        return
    locale = current_locale()
    outcome, department = await deps.redeem_for_chat(
        session,
        command.args,
        chat_id=message.chat.id,
        title=message.chat.title or "",
        locale=locale,
        user=user,
    )
    if outcome is InviteOutcome.ALREADY and department is not None:
        await message.answer(
            _("This group is already a chat of {department}.").format(
                department=html.quote(department.name(locale))
            )
        )
        return
    if outcome is not InviteOutcome.JOINED or department is None:
        await message.answer(_outcome_text(outcome, department, locale))
        return
    await session.commit()
    await message.answer(
        _(
            "This group is now a chat of <b>{department}</b>. Reminders and residents' "
            "disputes will come here. /measures shows the department's measures, /inbox the "
            "residents' questions. Only members of the department can change anything."
        ).format(department=html.quote(department.name(locale)))
    )


async def leave_private(message: Message, session: AsyncSession, user: User) -> None:
    mine = await deps.user_departments(session, user.id)
    if not mine:
        await message.answer(_("You are not a member of any department."))
        return
    await message.answer(
        _("Which department do you want to leave?"),
        reply_markup=leave_keyboard(mine, current_locale()),
    )


async def leave_department(
    query: CallbackQuery,
    callback_data: PickCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    department = await deps.get_department(session, callback_data.dep)
    if (
        user is None
        or department is None
        or not await deps.remove_member(session, department.id, user.id)
    ):
        refuse(callback_answer, _("You are not a member of this department."))
        return
    await session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("You have left {department}.").format(
                department=html.quote(department.name(current_locale()))
            )
        )
        if query.message.chat.type == "private":
            await send_main_menu(query.message, session, user, is_admin, _("Main menu:"))


async def leave_group(message: Message, bot: Bot, session: AsyncSession, is_admin: bool) -> None:
    """Unbind the group from its departments: a group administrator or an admin."""
    bound = await deps.chat_departments(session, message.chat.id)
    if not bound:
        await message.answer(_("This group is not a chat of any department."))
        return
    if message.from_user is None or not (
        is_admin or await _is_group_admin(bot, message.chat.id, message.from_user.id)
    ):
        await message.answer(
            _("Only an administrator of this group can unbind it from the department.")
        )
        return
    for department in bound:
        await deps.remove_chat(session, department.id, message.chat.id)
    await session.commit()
    names = ", ".join(html.quote(d.short(current_locale())) for d in bound)
    await message.answer(
        _("This group is no longer a chat of {departments}.").format(departments=names)
    )
