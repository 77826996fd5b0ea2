"""The admin area (akimat staff): the panel, meetings, action-plan import, announcements,
moderation of residents' questions, statistics and exports, departments.

One gate: the ``staff`` router takes messages and buttons of admins only (``IsAdmin``: the
profile's role or ``ADMIN_IDS``, worked out per update by ``UpdateMiddleware``). To anyone
else ``/admin``, ``/moderate``, ``/stats`` and ``/export`` are unknown commands (the fallback
answers them), and an admin button pressed or forged by someone who is not (or no longer) an
admin gets a polite refusal from ``refusals``, with nothing changed; so does input to an admin
form of someone whose role was withdrawn meanwhile (the form is closed).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AdminCb
from bot.filters import CallbackPrefix, ChatType, IsAdmin
from bot.keyboards.admin import (
    AnnounceCb,
    ImportCb,
    MeetCb,
    MeetDistrictCb,
    MeetDocCb,
    MeetFieldCb,
    MeetFormCb,
    SpokenFormCb,
)
from bot.keyboards.department import DeptAdminCb
from bot.keyboards.moderation import ModAcceptCb, ModAgendaCb, ModCb, ModMergeCb, ModOralCb
from bot.keyboards.reports import ExportCb, StatsCb
from bot.replies import ADMIN_ONLY, refuse
from handlers.admin import (
    announcements,
    departments,
    meeting_form,
    meetings,
    moderation,
    oral,
    panel,
    plan_import,
    reports,
    spoken,
    stale,
    stats,
)
from handlers.department.base import ADMINS_ONLY

CALLBACKS: tuple[type[CallbackData], ...] = (
    AdminCb, MeetCb, MeetFieldCb, MeetDistrictCb, MeetFormCb, ImportCb, AnnounceCb,
    ModCb, ModAcceptCb, ModMergeCb, ModOralCb, ModAgendaCb, StatsCb, ExportCb, DeptAdminCb,
    MeetDocCb, SpokenFormCb,
)  # fmt: skip
FORMS = (
    meetings.MeetingForm, meetings.MeetingEdit, meetings.OutcomeForm, plan_import.ImportForm,
    announcements.AnnounceForm, moderation.ModForm, stats.ReportForm, departments.DepartmentForm,
    spoken.SpokenForm,
)  # fmt: skip


def router() -> Router:
    """Private chats: messages of admins, and input to the area's forms (to be refused if the
    sender is no longer an admin); buttons of the area's own factories only (any chat)."""
    r = Router(name=__name__)
    r.message.filter(ChatType("private"), or_f(IsAdmin(), StateFilter(*FORMS)))
    r.callback_query.filter(CallbackPrefix(*CALLBACKS))

    staff = Router(name=f"{__name__}.staff")
    staff.message.filter(IsAdmin())
    staff.callback_query.filter(IsAdmin())
    staff.include_routers(
        panel.router(),
        meetings.router(),
        meeting_form.router(),
        plan_import.router(),
        announcements.router(),
        reports.router(),
        spoken.router(),
        stale.router(),  # buttons of forms that are over: after the forms that use them
        moderation.router(),
        oral.router(),
        stats.router(),
        departments.router(),
    )

    refusals = Router(name=f"{__name__}.refusals")
    refusals.message.filter(StateFilter(*FORMS), ~IsAdmin())
    refusals.callback_query.filter(~IsAdmin())
    refusals.message.register(refuse_form_input)
    for factory in CALLBACKS:
        refusals.callback_query.register(refuse_button, factory.filter())

    r.include_routers(staff, refusals)
    return r


async def refuse_button(
    query: CallbackQuery, callback_data: CallbackData, callback_answer: CallbackAnswer
) -> None:
    """An admin button pressed by someone who is not (or no longer) an admin."""
    refuse(callback_answer, _(ADMINS_ONLY) if isinstance(callback_data, DeptAdminCb) else None)


async def refuse_form_input(message: Message, state: FSMContext) -> None:
    """Input to an admin form from someone who is no longer an admin: the form is closed."""
    form = await state.get_state()
    await state.clear()
    department = form is not None and form in departments.DepartmentForm
    await message.answer(_(ADMINS_ONLY if department else ADMIN_ONLY))
