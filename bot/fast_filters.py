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
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.filters.logic import _AndFilter, _OrFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery


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


class CallbackPrefixGate(Filter):
    """A router's own first callback filter: does the button's data start with one of the
    prefixes its handlers know? Without it a button press is unpacked and checked against every
    ``CallbackData`` filter of every router before the one that handles it (about 70 checks
    for a card opened from a notification)."""

    def __init__(self, heads: frozenset[tuple[str, str]]) -> None:
        self.heads = heads  # (prefix, separator) pairs
        self.separators = frozenset(separator for _prefix, separator in heads)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        if data is None:
            return False
        return any((data.split(sep, 1)[0], sep) in self.heads for sep in self.separators)

    def __str__(self) -> str:
        return f"CallbackPrefixGate({sorted(p for p, _s in self.heads)})"


def _heads(callback: Any) -> frozenset[tuple[str, str]] | None:
    """The (prefix, separator) pairs a filter requires, or None when it may pass other data:
    a ``CallbackData`` filter, an AND with one among its parts, an OR of such filters."""
    if isinstance(callback, CallbackQueryFilter):
        data = callback.callback_data
        return frozenset({(data.__prefix__, data.__separator__)})
    if isinstance(callback, _AndFilter):
        return _all_of([_heads(target.callback) for target in callback.targets])
    if isinstance(callback, _OrFilter):
        parts = [_heads(target.callback) for target in callback.targets]
        if not parts or any(part is None for part in parts):
            return None
        return frozenset().union(*(part for part in parts if part is not None))
    return None


def _all_of(parts: list[frozenset[tuple[str, str]] | None]) -> frozenset[tuple[str, str]] | None:
    """Filters that must all pass: any one that names prefixes bounds the data."""
    for part in parts:
        if part is not None:
            return part
    return None


def _handler_heads(handler: HandlerObject) -> frozenset[tuple[str, str]] | None:
    return _all_of([_heads(f.callback) for f in handler.filters or ()])


def gate_callback_routers(router: Router) -> int:
    """Give each router whose every button handler has a ``CallbackData`` filter a
    :class:`CallbackPrefixGate` checked before them; returns how many routers were gated (0 the
    second time). A router with any other kind of button handler is left as it is."""
    gated = 0
    for each in router.chain_tail:
        observer = each.callback_query
        own = observer._handler.filters
        if not observer.handlers or any(
            isinstance(f.callback, CallbackPrefixGate) for f in own or ()
        ):
            continue
        heads = [_handler_heads(handler) for handler in observer.handlers]
        if any(head is None for head in heads):
            continue
        gate = FilterObject(
            CallbackPrefixGate(frozenset().union(*(h for h in heads if h is not None)))
        )
        if own is None:
            observer._handler.filters = [gate]
        else:
            own.insert(0, gate)  # before the router's other filters (an admin check, say)
        gated += 1
    return gated
