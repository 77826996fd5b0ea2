"""Personal data: /mydata shows what is stored, /forget deletes it."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import LANGUAGE_NAMES, current_locale
from bot.keyboards.questions import PrivacyAction, QPrivacyCb, forget_keyboard
from bot.replies import refuse
from models.clock import to_local
from models.entities import User
from models.privacy import forget_user, personal_data


class ForgetForm(StatesGroup):
    confirm = State()


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_my_data, Command("mydata"))  # in any state: a form stays as it is
    r.message.register(ask_forget, Command("forget"), StateFilter(None))
    r.message.register(forget_fallback, StateFilter(ForgetForm.confirm))
    r.callback_query.register(
        confirm_forget,
        StateFilter(ForgetForm.confirm),
        QPrivacyCb.filter(F.action == PrivacyAction.CONFIRM),
    )
    r.callback_query.register(
        keep_data,
        StateFilter(ForgetForm.confirm),
        QPrivacyCb.filter(F.action == PrivacyAction.KEEP),
    )
    r.callback_query.register(stale_privacy_button, QPrivacyCb.filter())
    return r


async def show_my_data(message: Message, session: AsyncSession, user: User) -> None:
    locale = current_locale()
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


async def keep_data(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was deleted."))


async def stale_privacy_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    refuse(
        callback_answer,
        _("This confirmation is out of date; nothing was deleted. Send /forget again."),
    )


async def forget_fallback(message: Message) -> None:
    await message.answer(
        _("Please answer with the buttons above: delete your data or keep it. /cancel stops.")
    )
