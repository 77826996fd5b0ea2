"""First contact and the things every user has: /start, language, district, settings, help,
the main menu, /cancel, and main-menu buttons pressed in the middle of a form."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import DistrictCb, LangCb, Origin, SettingsAction, SettingsCb
from bot.filters import AreaInput, CallbackPrefix, ChatType
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, current_locale, guess_locale
from bot.keyboards.common import district_keyboard, language_keyboard, settings_keyboard
from bot.menu import MenuButton, MenuItem, main_menu
from bot.replies import refuse
from models.entities import User
from models.users import get_district, is_department_member, list_districts

CALLBACKS = (LangCb, DistrictCb, SettingsCb)
MENU = tuple(MenuItem)  # any main-menu button pressed in the middle of a form
FORMS = ()


def router() -> Router:
    """Private chats only; tried first, so /cancel, /help and the settings work in any form."""
    r = Router(name=__name__)
    r.message.filter(ChatType("private"), AreaInput(menu=MENU, forms=FORMS))
    r.callback_query.filter(CallbackPrefix(*CALLBACKS))
    r.message.register(start, CommandStart(magic=F.args.is_(None)))
    r.message.register(show_settings, Command("settings"), StateFilter(None))
    r.message.register(show_settings, MenuButton(MenuItem.SETTINGS), StateFilter(None))
    r.message.register(show_help, Command("help"))
    r.message.register(show_help, MenuButton(MenuItem.HELP), StateFilter(None))
    r.message.register(show_menu, Command("menu"), StateFilter(None))
    r.message.register(cancel, Command("cancel"))
    r.message.register(menu_button_inside_form, ~StateFilter(None), MenuButton())
    r.callback_query.register(choose_language, LangCb.filter(F.code.in_(SUPPORTED_LOCALES)))
    r.callback_query.register(choose_district, DistrictCb.filter())
    r.callback_query.register(settings_action, SettingsCb.filter())
    return r


async def send_main_menu(
    message: Message, session: AsyncSession, user: User, is_admin: bool, text: str
) -> None:
    official = await is_department_member(session, user.id)
    await message.answer(text, reply_markup=main_menu(official=official, admin=is_admin))


async def ask_district(message: Message, session: AsyncSession, locale: str) -> None:
    """Used by any flow that needs the user's district before they have chosen one."""
    districts = await list_districts(session)
    await message.answer(
        _("Choose your district. You can change it any time in settings."),
        reply_markup=district_keyboard(districts, Origin.START, locale),
    )


def welcome_text() -> str:
    return _(
        "<b>Kezdesu</b> keeps the promises made at the akim's meetings with residents visible.\n\n"
        "📋 <b>Commitments</b>: what was promised in your district, the deadline and how it "
        "is going.\n"
        "❓ <b>Ask a question</b> before the next meeting and follow it to an answer.\n"
        "🔔 <b>Follow</b> a commitment or a district to hear when something changes.\n\n"
        "You can also just type a word, for example a street name, to search."
    )


async def start(
    message: Message, session: AsyncSession, user: User, is_admin: bool, state: FSMContext
) -> None:
    await state.clear()
    if user.locale is None:
        tg_locale = guess_locale(message.from_user.language_code if message.from_user else None)
        await message.answer(
            _("Choose your language:"), reply_markup=language_keyboard(Origin.START, tg_locale)
        )
        return
    if user.district_id is None:
        await ask_district(message, session, current_locale())
        return
    await send_main_menu(message, session, user, is_admin, welcome_text())


async def choose_language(
    query: CallbackQuery,
    callback_data: LangCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    i18n: I18n,
) -> None:
    user.locale = callback_data.code
    await session.commit()
    with i18n.use_locale(user.locale):
        if not isinstance(query.message, Message):
            return
        if callback_data.origin is Origin.SETTINGS:
            await _show_settings(query.message, session, user, edit=True)
            await send_main_menu(
                query.message,
                session,
                user,
                is_admin,
                _("Language changed: {language}.").format(language=LANGUAGE_NAMES[user.locale]),
            )
            return
        districts = await list_districts(session)
        await query.message.edit_text(
            _("Choose your district. You can change it any time in settings."),
            reply_markup=district_keyboard(
                districts, Origin.START, current_locale(), user.district_id
            ),
        )


async def choose_district(
    query: CallbackQuery,
    callback_data: DistrictCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    district = await get_district(session, callback_data.id)
    if district is None:
        refuse(callback_answer, _("This district no longer exists. Please choose again."))
        return
    user.district_id = district.id
    await session.commit()
    if not isinstance(query.message, Message):
        return
    locale = current_locale()
    if callback_data.origin is Origin.SETTINGS:
        await _show_settings(query.message, session, user, edit=True)
        callback_answer.text = _("District changed: {district}.").format(
            district=district.name(locale)
        )
        return
    await query.message.edit_text(
        _("Your district: {district}.").format(district=html.quote(district.name(locale)))
    )
    await send_main_menu(query.message, session, user, is_admin, welcome_text())


async def _show_settings(
    message: Message, session: AsyncSession, user: User, *, edit: bool
) -> None:
    locale = current_locale()
    district = await get_district(session, user.district_id) if user.district_id else None
    text = _(
        "<b>Settings</b>\n"
        "Language: {language}\n"
        "District: {district}\n"
        "Notifications at night (22:00–08:00): {night}"
    ).format(
        language=LANGUAGE_NAMES.get(locale, locale),
        district=html.quote(district.name(locale)) if district else _("not chosen"),
        night=_("on") if user.night_pushes else _("off"),
    )
    text += "\n" + _(
        "Monthly summary of the commitments you follow that are overdue: {summary}"
    ).format(summary=_("on") if user.monthly_summary else _("off"))
    markup = settings_keyboard(user.night_pushes, user.monthly_summary)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def show_settings(message: Message, session: AsyncSession, user: User) -> None:
    await _show_settings(message, session, user, edit=False)


async def settings_action(
    query: CallbackQuery,
    callback_data: SettingsCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not isinstance(query.message, Message):
        return
    locale = current_locale()
    match callback_data.action:
        case SettingsAction.LANGUAGE:
            await query.message.edit_text(
                _("Choose your language:"),
                reply_markup=language_keyboard(Origin.SETTINGS, locale),
            )
        case SettingsAction.DISTRICT:
            districts = await list_districts(session)
            await query.message.edit_text(
                _("Choose your district:"),
                reply_markup=district_keyboard(
                    districts, Origin.SETTINGS, locale, user.district_id
                ),
            )
        case SettingsAction.NIGHT:
            user.night_pushes = not user.night_pushes
            await session.commit()
            await _show_settings(query.message, session, user, edit=True)
            callback_answer.text = _("Saved.")
        case SettingsAction.SUMMARY:
            user.monthly_summary = not user.monthly_summary
            await session.commit()
            await _show_settings(query.message, session, user, edit=True)
            callback_answer.text = _("Saved.")
        case SettingsAction.CLOSE:
            await query.message.edit_text(_("Settings saved."))


async def show_help(message: Message) -> None:
    await message.answer(
        _(
            "<b>How Kezdesu works</b>\n\n"
            "After every meeting of the akim of Almaty with a district's residents the akimat "
            "publishes an action plan: problems, the measures promised, deadlines and the "
            "responsible departments. Kezdesu shows that plan and keeps it up to date: the "
            "departments report progress here, and you can follow any commitment.\n\n"
            "/menu: the main menu\n"
            "/find <i>words</i>: search commitments (or just type the words)\n"
            "/following: what you follow\n"
            "/settings: language, district, notifications\n"
            "/mydata: what the bot stores about you; /forget: delete it\n"
            "/cancel: stop what you are filling in\n\n"
            "Questions sent through the bot are not formal appeals under the Administrative "
            "Procedural and Process Code of the Republic of Kazakhstan; for a formal appeal use "
            "eOtinish: https://eotinish.kz"
        )
    )


async def show_menu(message: Message, session: AsyncSession, user: User, is_admin: bool) -> None:
    await send_main_menu(message, session, user, is_admin, _("Main menu:"))


async def cancel(
    message: Message, state: FSMContext, session: AsyncSession, user: User, is_admin: bool
) -> None:
    if await state.get_state() is None:
        await send_main_menu(message, session, user, is_admin, _("There is nothing to cancel."))
        return
    await state.clear()
    await send_main_menu(message, session, user, is_admin, _("Cancelled. Nothing was saved."))


async def menu_button_inside_form(message: Message) -> None:
    """A main-menu button pressed while a form waits for input: keep the form and say so."""
    await message.answer(
        _(
            "You are in the middle of filling in a form; what you entered is kept. "
            "Answer the last question above to go on, or send /cancel to stop."
        )
    )
