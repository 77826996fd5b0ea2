"""What the resident area's modules share: id bounds, card navigation, moved pages."""

from __future__ import annotations

from aiogram import F
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.keyboards.resident import CardNav, Src
from models.translation import N_

# Ids are 32-bit in both databases: a forged larger one is a stale button (the fallback answers
# it), not a database error. Page numbers carried along for "back" are kept small.
MAX_ID = 2**31 - 1
MAX_PAGE = 9999
VALID_ID = (F.id > 0) & (F.id <= MAX_ID)

MEASURE_GONE = N_("This commitment no longer exists. Please open the list again.")


def card_nav(src: Src, page: int, dp: int) -> CardNav:
    return CardNav(src, min(max(page, 0), MAX_PAGE), min(max(dp, 0), MAX_PAGE))


def page_moved(callback_answer: CallbackAnswer, asked: int, shown: int) -> None:
    if asked != shown:
        callback_answer.text = _("That page no longer exists; here is page {page}.").format(
            page=shown + 1
        )
