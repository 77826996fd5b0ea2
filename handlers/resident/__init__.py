"""The resident area: browsing commitments (district → meetings → plan → card), the card with
its history, proof and follow buttons, /following, search (/find and plain text) and inline
mode. The card is also what ``OpenMeasureCb`` ("open the card") and ``/start m<id>`` open;
``/start d<slug>`` and ``/start mt<id>`` open a district and a meeting (``links``).

Navigation edits the message in place; a card opened from a notification, a reminder or a deep
link arrives as a new message. Stale or forged buttons (a measure that no longer exists, a page
out of range) get a polite answer and change nothing.
"""

from __future__ import annotations

from aiogram import Router

from bot.callbacks import OpenMeasureCb
from bot.filters import CallbackPrefix, ChatType
from bot.keyboards.resident import (
    CardCb,
    CardFollowCb,
    DistrictFollowCb,
    DistrictPageCb,
    DistrictsCb,
    FollowingCb,
    HistoryCb,
    MeetingCb,
    OverviewCb,
    ProofCb,
    SearchCb,
    UnfollowCb,
)
from handlers.resident import browse, card, follows, inline, links, search

CALLBACKS = (
    DistrictsCb, OverviewCb, DistrictPageCb, MeetingCb, CardCb, OpenMeasureCb, HistoryCb,
    ProofCb, CardFollowCb, DistrictFollowCb, FollowingCb, UnfollowCb, SearchCb,
)  # fmt: skip


def router() -> Router:
    """Private chats. The card first (the button of every notification opens it), the search
    last of those taking text, as it takes any text typed at the main menu; the deep links to a
    district or a meeting after it (only a ``/start`` with their payload reaches them)."""
    r = Router(name=__name__)
    r.message.filter(ChatType("private"))
    r.callback_query.filter(CallbackPrefix(*CALLBACKS))
    r.include_routers(
        card.router(),
        browse.router(),
        follows.router(),
        search.router(),
        links.router(),
        inline.router(),
    )
    return r
