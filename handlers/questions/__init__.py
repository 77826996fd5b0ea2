"""Residents' questions: the question form, the next meeting, "my questions", supporting
others' questions, and personal data (/mydata, /forget)."""

from __future__ import annotations

from aiogram import Router

from bot.filters import AreaInput, CallbackPrefix, ChatType
from bot.keyboards.questions import (
    QCalendarCb,
    QCategoryCb,
    QConsentCb,
    QFormCb,
    QMyCb,
    QNextCb,
    QPrivacyCb,
    QSimilarCb,
    QSupportCb,
)
from bot.menu import MenuItem
from handlers.questions import ask, meeting, mine, privacy, support
from handlers.questions.form import AskForm
from handlers.questions.privacy import ForgetForm

CALLBACKS = (
    QConsentCb,
    QCategoryCb,
    QFormCb,
    QNextCb,
    QMyCb,
    QSupportCb,
    QPrivacyCb,
    QSimilarCb,
    QCalendarCb,
)
MENU = (MenuItem.ASK, MenuItem.NEXT_MEETING, MenuItem.MY_QUESTIONS)
FORMS = (AskForm, ForgetForm)


def router() -> Router:
    """Private chats. /mydata works in any state, so ``privacy`` comes before the form, whose
    steps take any message."""
    r = Router(name=__name__)
    r.message.filter(ChatType("private"), AreaInput(menu=MENU, forms=FORMS))
    r.callback_query.filter(CallbackPrefix(*CALLBACKS))
    r.include_routers(
        privacy.router(), ask.router(), meeting.router(), mine.router(), support.router()
    )
    return r
