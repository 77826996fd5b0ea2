"""The admin panel's departments section: the list, a department's card, invitations, members
and group chats, creating a department and renaming it."""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.formatting import fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.department import (
    NAME_FIELDS,
    DeptAdminAct,
    DeptAdminCb,
    admin_chats_keyboard,
    admin_department_keyboard,
    admin_fields_keyboard,
    admin_list_keyboard,
    admin_members_keyboard,
)
from bot.replies import refuse, show
from handlers.department.base import NOT_FOUND, PER_PAGE, prompt, typed_text
from models import departments as deps
from models.departments import INVITE_PREFIX
from models.entities import Department, DepartmentChat, User
from models.settings import Settings
from models.text import TextRule
from models.translation import N_

FIELD_LABELS = (
    N_("Name (ru)"),
    N_("Name (kk)"),
    N_("Name (en)"),
    N_("Short (ru)"),
    N_("Short (kk)"),
    N_("Short (en)"),
)


class DepartmentForm(StatesGroup):
    code = State()
    name_ru = State()
    name_kk = State()
    name_en = State()
    field = State()


CODE = TextRule(minimum=2, maximum=100)
NAME = TextRule(minimum=2, maximum=300)
SHORT_NAME = TextRule(minimum=2, maximum=100)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(
        admin_departments, AdminCb.filter(F.section == AdminSection.DEPARTMENTS)
    )
    r.callback_query.register(admin_department_action, DeptAdminCb.filter())
    form = Router(name=f"{__name__}.form")
    form.message.filter(StateFilter(DepartmentForm))
    form.message.register(new_department_code, StateFilter(DepartmentForm.code))
    form.message.register(new_department_ru, StateFilter(DepartmentForm.name_ru))
    form.message.register(new_department_kk, StateFilter(DepartmentForm.name_kk))
    form.message.register(new_department_en, StateFilter(DepartmentForm.name_en))
    form.message.register(edit_department_field, StateFilter(DepartmentForm.field))
    r.include_router(form)
    return r


async def _admin_list(
    session: AsyncSession, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    overview = await deps.department_overview(session)
    page = clamp_page(page, len(overview), PER_PAGE)
    chunk = overview[page * PER_PAGE : (page + 1) * PER_PAGE]
    lines = [_("<b>Departments</b>"), _("👥 members · 💬 group chats"), ""]
    for item in chunk:
        lines.append(
            f"• <b>{html.quote(item.department.code)}</b> "
            f"{html.quote(item.department.short(locale))} · 👥 {item.members} · 💬 {item.chats}"
        )
    markup = admin_list_keyboard(
        [i.department for i in chunk], page, page_count(len(overview), PER_PAGE), locale
    )
    return "\n".join(lines), markup


async def _admin_department(
    session: AsyncSession, department: Department, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    members = await deps.list_members(session, department.id)
    chats = await deps.list_chats(session, department.id)
    invitations = (await deps.open_invitations(session)).get(department.id, 0)
    lines = [
        _("<b>Department {code}</b>").format(code=html.quote(department.code)),
        f"🇷🇺 {html.quote(department.name_ru)} ({html.quote(department.short_ru)})",
        f"🇰🇿 {html.quote(department.name_kk)} ({html.quote(department.short_kk)})",
        f"🇬🇧 {html.quote(department.name_en)} ({html.quote(department.short_en)})",
        "",
        _("<b>Members</b>: {count}").format(count=len(members)),
    ]
    for member in members:
        handle = f" @{member.username}" if member.username else ""
        lines.append(f"• {html.quote(member.full_name or '—')}{html.quote(handle)}")
    lines.append(_("<b>Group chats</b>: {count}").format(count=len(chats)))
    for chat in chats:
        lines.append(f"• {html.quote(chat.title or str(chat.chat_id))}")
    lines.append(_("Open invitations: {count}").format(count=invitations))
    markup = admin_department_keyboard(department, members=len(members), chats=len(chats))
    return "\n".join(lines), markup


async def admin_departments(
    query: CallbackQuery,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    text, markup = await _admin_list(session, 0, current_locale())
    await show(query, text, markup)


async def admin_department_action(
    query: CallbackQuery,
    callback_data: DeptAdminCb,
    bot: Bot,
    session: AsyncSession,
    user: User | None,
    settings: Settings,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not isinstance(query.message, Message):
        return
    locale = current_locale()
    act = callback_data.act
    if act is DeptAdminAct.LIST:
        text, markup = await _admin_list(session, callback_data.arg, locale)
        await show(query, text, markup)
        return
    if act is DeptAdminAct.NEW:
        await state.set_state(DepartmentForm.code)
        await prompt(
            query.message,
            _(
                "New department. Send its code as written in action plans, e.g. УЭиВ "
                "(/cancel to stop)."
            ),
        )
        return
    department = await deps.get_department(session, callback_data.dep)
    if department is None:
        refuse(callback_answer, _(NOT_FOUND))
        return
    match act:
        case DeptAdminAct.EDIT:
            await show(
                query,
                _("Which name of {code} do you want to change?").format(
                    code=html.quote(department.code)
                ),
                admin_fields_keyboard(department.id, [_(label) for label in FIELD_LABELS]),
            )
            return
        case DeptAdminAct.FIELD:
            if not 0 <= callback_data.arg < len(NAME_FIELDS):
                refuse(callback_answer, _(NOT_FOUND))
                return
            field = NAME_FIELDS[callback_data.arg]
            await state.set_state(DepartmentForm.field)
            await state.update_data(department_id=department.id, field=field)
            await prompt(
                query.message,
                _("Now: {value}\nSend the new text (/cancel to stop).").format(
                    value=html.quote(str(getattr(department, field)))
                ),
            )
            return
        case DeptAdminAct.INVITE:
            invitation = await deps.create_invitation(
                session,
                department.id,
                created_by_id=user.id if user else None,
                ttl_days=settings.invitation_ttl_days,
            )
            await session.commit()
            me = await bot.me()
            await query.message.answer(
                invitation_text(
                    department, invitation.token, me.username or "", invitation.expires_at, locale
                )
            )
            callback_answer.text = _("Invitation created.")
            return
        case DeptAdminAct.MEMBERS:
            members = await deps.list_members(session, department.id)
            await show(
                query,
                _("Tap a member to remove them from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_members_keyboard(department.id, members),
            )
            return
        case DeptAdminAct.DEL_MEMBER:
            if await deps.remove_member(session, department.id, callback_data.arg):
                await session.commit()
                callback_answer.text = _("Removed.")
            else:
                callback_answer.text = _("Already removed.")
            members = await deps.list_members(session, department.id)
            await show(
                query,
                _("Tap a member to remove them from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_members_keyboard(department.id, members),
            )
            return
        case DeptAdminAct.CHATS:
            chats = await deps.list_chats(session, department.id)
            await show(
                query,
                _("Tap a group chat to unbind it from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_chats_keyboard(department.id, chats),
            )
            return
        case DeptAdminAct.DEL_CHAT:
            chat = await session.get(DepartmentChat, callback_data.arg)
            if chat is not None and chat.department_id == department.id:
                await deps.remove_chat(session, department.id, chat.chat_id)
                await session.commit()
                callback_answer.text = _("Removed.")
            else:
                callback_answer.text = _("Already removed.")
            chats = await deps.list_chats(session, department.id)
            await show(
                query,
                _("Tap a group chat to unbind it from {code}.").format(
                    code=html.quote(department.code)
                ),
                admin_chats_keyboard(department.id, chats),
            )
            return
        case _:
            pass
    text, markup = await _admin_department(session, department, locale)
    await show(query, text, markup)


def invitation_text(
    department: Department, token: str, bot_username: str, expires_at: dt.datetime, locale: str
) -> str:
    link = f"https://t.me/{bot_username}?start={INVITE_PREFIX}{token}"
    return _(
        "🔗 <b>Invitation to {department}</b>\n\n"
        "For one official: send them this link, it makes them a member:\n{link}\n\n"
        "For the department's group chat: a group administrator adds the bot to the group "
        "and sends there:\n<code>/join {token}</code>\n\n"
        "Each invitation works once and is valid until {expires}."
    ).format(
        department=html.quote(department.name(locale)),
        link=html.quote(link),
        token=html.quote(token),
        expires=fmt_datetime(expires_at, locale),
    )


async def new_department_code(message: Message, state: FSMContext, session: AsyncSession) -> None:
    code, error = typed_text(message, CODE)
    if error is None and "\n" in code:
        error = _("The code must be one line.")
    if error is not None:
        await message.answer(error + "\n" + _("Send the code."))
        return
    if await deps.find_department(session, code) is not None:
        await message.answer(_("A department with this code exists already. Send another code."))
        return
    await state.update_data(code=code)
    await state.set_state(DepartmentForm.name_ru)
    await prompt(message, _("The full name in Russian:"))


async def _new_department_name(
    message: Message, state: FSMContext, session: AsyncSession, language: str
) -> None:
    """The department's full name in ``language`` (ru, kk, en: asked in this order)."""
    name, error = typed_text(message, NAME)
    if error is not None:
        await message.answer(error)
        return
    await state.update_data({f"name_{language}": name})
    if language == "ru":
        await state.set_state(DepartmentForm.name_kk)
        await prompt(message, _("The full name in Kazakh:"))
        return
    if language == "kk":
        await state.set_state(DepartmentForm.name_en)
        await prompt(message, _("The full name in English:"))
        return
    data = await state.get_data()
    await state.clear()
    department = await deps.create_department(
        session, str(data["code"]), {loc: str(data[f"name_{loc}"]) for loc in ("ru", "kk", "en")}
    )
    if department is None:
        await message.answer(_("A department with this code exists already. Nothing was saved."))
        return
    await session.commit()
    text, markup = await _admin_department(session, department, current_locale())
    await message.answer(_("Department created."))
    await message.answer(text, reply_markup=markup)


async def new_department_ru(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await _new_department_name(message, state, session, "ru")


async def new_department_kk(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await _new_department_name(message, state, session, "kk")


async def new_department_en(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await _new_department_name(message, state, session, "en")


async def edit_department_field(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    field = str(data.get("field", ""))
    value, error = typed_text(message, SHORT_NAME if field.startswith("short_") else NAME)
    if error is not None:
        await message.answer(error)
        return
    department = await deps.get_department(session, int(data.get("department_id", 0)))
    await state.clear()
    if department is None or field not in NAME_FIELDS:
        await message.answer(_(NOT_FOUND))
        return
    deps.set_department_name(department, field, value)
    await session.commit()
    text, markup = await _admin_department(session, department, current_locale())
    await message.answer(_("Saved."))
    await message.answer(text, reply_markup=markup)
