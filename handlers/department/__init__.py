"""The officials' side: joining a department, "our measures", reporting progress, residents'
disputes of a "done", and the question inbox. (The admin panel's departments section is in
``handlers.admin.departments``.)

Who may act (checked on the server for every change, never trusted from a button):

* measures: a member of one of the measure's responsible departments, or an admin
  (``models.permissions.can_update_measure``); cancelling and reopening are for admins only;
* questions: a member of the department the question is routed to, or an admin
  (``can_handle_question``);
* in a department's group chat the rule is the same for the person who presses the button or
  answers the prompt: being in the group gives the right to *see* the department's measures and
  inbox, never to change them (group participants who are not members get a polite refusal);
* binding a group (``/join``) and unbinding it (``/leave`` in the group): a Telegram administrator
  of that group (checked with ``getChatMember``) or an admin of the bot.

In groups the bot's prompts use ``ForceReply`` so that the answer reaches the bot even with
Telegram's privacy mode on.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import ReportMeasureCb
from bot.filters import GROUP_TYPES, AreaInput, CallbackPrefix, ChatType
from bot.keyboards.department import (
    CheckCb,
    FormCb,
    InboxCb,
    MeasureActCb,
    MeasuresCb,
    PickCb,
    QuestionCb,
)
from bot.menu import MenuItem
from handlers.department import disputes, inbox, join, measures, reports
from handlers.department.base import DisputeForm, QuestionForm, ReportForm

CALLBACKS = (
    PickCb, MeasuresCb, ReportMeasureCb, MeasureActCb, FormCb, CheckCb, InboxCb, QuestionCb,
)  # fmt: skip
MENU = (MenuItem.OUR_MEASURES,)
FORMS = (ReportForm, DisputeForm, QuestionForm)


def router() -> Router:
    """Private chats and the departments' group chats."""
    r = Router(name=__name__)
    r.message.filter(AreaInput(menu=MENU, forms=FORMS))
    r.callback_query.filter(CallbackPrefix(*CALLBACKS))
    # /cancel in a group (private chats have the common one): after the report forms, which
    # take any message as their answer, as they always have.
    group_cancel = Router(name=f"{__name__}.group_cancel")
    group_cancel.message.register(
        cancel_in_group, Command("cancel"), ChatType(*GROUP_TYPES), ~StateFilter(None)
    )
    r.include_routers(
        join.router(),
        measures.router(),
        reports.router(),
        group_cancel,
        disputes.router(),
        inbox.router(),
    )
    return r


async def cancel_in_group(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))
