"""Routers, in the order updates try them.

``common`` (start, settings, help, /cancel) first; then the areas, each owning its commands,
menu buttons, callbacks and forms: ``admin`` (akimat staff), ``department`` (officials),
``questions`` (residents' questions), ``resident`` (commitments, search, follows, inline; its
plain-text search must come after every other text handler); ``fallback`` answers the rest.
"""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    common,
    department,
    fallback,
    moderation,
    questions,
    reports,
    resident,
)


def get_routers() -> list[Router]:
    routers = [
        common.router,
        admin.router,
        moderation.router,
        reports.router,
        department.router,
        questions.router,
        resident.router,
        fallback.router,
    ]
    # aiogram lets a router have one parent. The routers are module constants, and a process
    # may build more than one Dispatcher (the tests build one per test), so each new Dispatcher
    # takes them over from the previous one.
    for router in routers:
        router._parent_router = None
    return routers
