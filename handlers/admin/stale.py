"""Buttons of the admin area's forms that are over."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.keyboards.admin import (
    AnnounceAction,
    AnnounceCb,
    MeetDistrictCb,
    MeetFormCb,
    SpokenFormCb,
)
from bot.replies import refuse


def router() -> Router:
    """After the modules whose forms use these buttons (``handlers.admin``)."""
    r = Router(name=__name__)
    r.callback_query.register(form_button_out_of_place, MeetFormCb.filter())
    r.callback_query.register(form_button_out_of_place, SpokenFormCb.filter())
    r.callback_query.register(form_button_out_of_place, MeetDistrictCb.filter(F.meeting == 0))
    r.callback_query.register(
        form_button_out_of_place, AnnounceCb.filter(F.action == AnnounceAction.AUDIENCE)
    )
    return r


async def form_button_out_of_place(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of a form that is over (saved, cancelled, or replaced by another)."""
    refuse(callback_answer, _("This form is closed. Open the admin panel to start again: /admin"))
