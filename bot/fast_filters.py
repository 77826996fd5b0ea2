"""Evaluate pure synchronous filters inline instead of in a thread.

aiogram 3 runs every filter that is not a coroutine through ``asyncio.to_thread``. That
includes magic filters (``F.text``, ``F.chat.type == "private"``, ``CallbackData.filter()``
rules) and FSM states used as filters (``@router.message(AskForm.text)``): cheap attribute
checks that each cost a round trip to the thread pool. Measured with ``python -m bench``: 12
thread hops for opening a measure card and about 50 for a plain-text search (every text handler
of every router is tried before the search), which made thread hand-offs, not the database,
the largest single cost of an update on a busy machine.

:func:`inline_pure_filters` rewrites those filter objects of a Dispatcher's routers once, so that
they are called directly in the event loop. Nothing else changes: the same callables, the same
arguments, the same results and exceptions. Other synchronous callables (a plain function used
as a filter, a synchronous handler) keep aiogram's thread: they might block.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.fsm.state import State


def _is_pure(filter_object: FilterObject) -> bool:
    return filter_object.magic is not None or isinstance(filter_object.callback, State)


def _inline(filter_object: FilterObject) -> None:
    sync = filter_object.callback

    async def evaluate(*args: Any, **kwargs: Any) -> Any:
        return sync(*args, **kwargs)

    # ``params``/``varkw`` were read from the original signature and stay as they are.
    filter_object.callback = evaluate
    filter_object.awaitable = True


def _handlers(router: Router) -> list[HandlerObject]:
    found: list[HandlerObject] = []
    for observer in router.observers.values():
        found.extend(observer.handlers)
        own = getattr(observer, "_handler", None)  # the observer's own filters
        if isinstance(own, HandlerObject):
            found.append(own)
    return found


def inline_pure_filters(router: Router) -> int:
    """Rewrite the pure synchronous filters of ``router`` and its sub-routers; returns how many
    were rewritten (0 the second time: routers shared by several Dispatchers are done once)."""
    count = 0
    for each in router.chain_tail:
        for handler in _handlers(each):
            for filter_object in handler.filters or ():
                if not filter_object.awaitable and _is_pure(filter_object):
                    _inline(filter_object)
                    count += 1
    return count
