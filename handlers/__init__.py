"""The router tree, built anew for each Dispatcher.

Each area is a package (or a module) whose ``router()`` makes its routers and registers its
handlers; :func:`get_routers` puts the areas in the order updates try them:

``common`` (first contact, settings, help, /cancel: first, so they work in any form);
``admin`` (akimat staff); ``department`` (officials); ``questions`` (residents' questions);
``resident`` (commitments, search, follows, inline: its plain-text search must come after every
other text handler); ``fallback`` answers whatever nobody took.
"""

from __future__ import annotations

from aiogram import Router

from handlers import admin, common, department, fallback, questions, resident


def get_routers() -> list[Router]:
    """New routers for one Dispatcher (``dp.include_routers(*get_routers())``)."""
    return [
        common.router(),
        admin.router(),
        department.router(),
        questions.router(),
        resident.router(),
        fallback.router(),
    ]
