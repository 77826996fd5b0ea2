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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.filters.logic import _AndFilter, _OrFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n

from bot.menu import MenuButton, MenuItem, labels_for


def _is_pure(filter_object: FilterObject) -> bool:
    callback = filter_object.callback
    return filter_object.magic is not None or isinstance(callback, State | StatesGroup)


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
        return self.admits(query)

    def admits(self, query: CallbackQuery, data: dict[str, Any] | None = None) -> bool:
        button = query.data
        if button is None:
            return False
        return any((button.split(sep, 1)[0], sep) in self.heads for sep in self.separators)

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


def _callback_gate(handlers: list[HandlerObject]) -> CallbackPrefixGate | None:
    heads = [_handler_heads(handler) for handler in handlers]
    if any(head is None for head in heads):
        return None
    return CallbackPrefixGate(frozenset().union(*(h for h in heads if h is not None)))


def gate_callback_routers(router: Router) -> int:
    """Give each router whose every button handler has a ``CallbackData`` filter a
    :class:`CallbackPrefixGate` checked before them; returns how many routers were gated (0 the
    second time). A router with any other kind of button handler is left as it is."""
    return _gate_routers(router, "callback_query", CallbackPrefixGate, _callback_gate)


def _gate_routers(
    router: Router,
    event: str,
    kind: type[Filter],
    build: Callable[[list[HandlerObject]], Filter | None],
) -> int:
    """Put the gate ``build`` makes from each router's ``event`` handlers first among the
    router's own filters (before an admin check, say); routers gated already are skipped."""
    gated = 0
    for each in router.chain_tail:
        observer = each.observers[event]
        own = observer._handler.filters
        if each.sub_routers:
            continue  # a router's own filters also decide for its sub-routers
        if not observer.handlers or any(isinstance(f.callback, kind) for f in own or ()):
            continue
        gate = build(observer.handlers)
        if gate is None:
            continue
        if own is None:
            observer._handler.filters = [FilterObject(gate)]
        else:
            own.insert(0, FilterObject(gate))
        gated += 1
    return gated


# --- messages ------------------------------------------------------------------------------------


@dataclass
class _Bound:
    """What a message must have for a router to take it: one of these commands, states or menu
    labels (a union over the router's handlers: a necessary condition, never a sufficient one)."""

    prefixes: str = ""
    commands: set[str] = field(default_factory=set)
    folded_commands: set[str] = field(default_factory=set)  # ``ignore_case`` commands
    states: set[str | None] = field(default_factory=set)
    menu_items: set[MenuItem] = field(default_factory=set)


def _bind_command(bound: _Bound, command: Command) -> bool:
    if not all(isinstance(name, str) for name in command.commands):
        return False  # a pattern: any command may match
    names = {str(name) for name in command.commands}
    (bound.folded_commands if command.ignore_case else bound.commands).update(names)
    bound.prefixes += "".join(c for c in command.prefix if c not in bound.prefixes)
    return True


def _state_names(state: Any) -> set[str | None] | None:
    """The raw states a state filter admits, or None for any state."""
    if isinstance(state, State):
        return None if state.state == "*" else {state.state}
    if isinstance(state, StatesGroup):
        return set(type(state).__all_states_names__)
    if isinstance(state, type) and issubclass(state, StatesGroup):
        return set(state.__all_states_names__)
    if state is None or isinstance(state, str):
        return None if state == "*" else {state}
    return None


def _bind_states(bound: _Bound, states: tuple[Any, ...]) -> bool:
    admitted: set[str | None] = set()
    for state in states:
        names = _state_names(state)
        if names is None:
            return False
        admitted |= names
    bound.states |= admitted
    return True


def _bind(bound: _Bound, callback: Any) -> bool:
    """Add to ``bound`` what a message needs to pass ``callback``; False when it cannot say.
    A command or a menu label is preferred to a state (more selective)."""
    if isinstance(callback, Command):
        return _bind_command(bound, callback)
    if isinstance(callback, MenuButton):
        bound.menu_items.update(callback.items)
        return True
    if isinstance(callback, StateFilter):
        return _bind_states(bound, callback.states)
    if isinstance(callback, State | StatesGroup) or (
        isinstance(callback, type) and issubclass(callback, StatesGroup)
    ):
        return _bind_states(bound, (callback,))
    if isinstance(callback, _AndFilter):
        return _bind_handler(bound, [target.callback for target in callback.targets])
    if isinstance(callback, _OrFilter):
        trial = _Bound(**{k: type(v)(v) for k, v in vars(bound).items()})
        if not all(_bind(trial, target.callback) for target in callback.targets):
            return False
        vars(bound).update(vars(trial))
        return True
    return False


def _bind_handler(bound: _Bound, callbacks: list[Any]) -> bool:
    """One of the filters (all of which must pass) is enough to bound the handler."""
    ranked = sorted(callbacks, key=lambda c: isinstance(c, (StateFilter, State, type)))
    return any(_bind(bound, callback) for callback in ranked)


class MessageGate(Filter):
    """A router's own first message filter: could any of its handlers take this message? Its
    handlers' commands, states and menu labels are checked as three set lookups, instead of
    every filter of every router going through aiogram's filter machinery (about 100 checks for
    a search typed at the main menu, which only the last router handles)."""

    def __init__(self, bound: _Bound) -> None:
        self.bound = bound
        self._labels: dict[int, frozenset[str]] = {}

    async def __call__(self, message: Message, i18n: I18n, raw_state: str | None = None) -> bool:
        return self.check(message, i18n, raw_state)

    def admits(self, message: Message, data: dict[str, Any]) -> bool:
        return self.check(message, data["i18n"], data.get("raw_state"))

    def check(self, message: Message, i18n: I18n, raw_state: str | None) -> bool:
        bound = self.bound
        if raw_state in bound.states:
            return True
        text = message.text
        if not text and not (text := message.caption):
            return False
        if text[0] in bound.prefixes and len(text) > 1:
            word = text[1:].split(maxsplit=1)[0].partition("@")[0]
            if word in bound.commands or word.casefold() in bound.folded_commands:
                return True
        if bound.menu_items and message.text:
            labels = self._labels.get(id(i18n))
            if labels is None:
                labels = frozenset().union(*(labels_for(i18n, i) for i in bound.menu_items))
                self._labels[id(i18n)] = labels
            return message.text in labels
        return False


def _message_gate(handlers: list[HandlerObject]) -> MessageGate | None:
    bound = _Bound()
    for handler in handlers:
        if not _bind_handler(bound, [f.callback for f in handler.filters or ()]):
            return None
    return MessageGate(bound)


def gate_message_routers(router: Router) -> int:
    """Give each router whose every message handler has a command, a state or a menu label among
    its filters a :class:`MessageGate` checked before them; returns how many were gated (0 the
    second time). Run before :func:`inline_pure_filters`, which wraps the state filters."""
    return _gate_routers(router, "message", MessageGate, _message_gate)


# --- the dispatcher ------------------------------------------------------------------------------


def router_gate(router: Router, event: str) -> CallbackPrefixGate | MessageGate | None:
    """The gate :func:`gate_callback_routers` or :func:`gate_message_routers` gave ``router``."""
    for filter_object in router.observers[event]._handler.filters or ():
        if isinstance(filter_object.callback, (CallbackPrefixGate, MessageGate)):
            return filter_object.callback
    return None


class GatedDispatcher(Dispatcher):
    """A Dispatcher that asks each sub-router's gate directly, and offers a message or a button
    only to the routers whose gate admits it, in their order.

    aiogram offers an event to every router in turn, and each refuses through its own
    machinery (middlewares, root filters, the arguments each filter wants): about 30 µs a
    router, 190 µs of CPU for a card opened from the sixth router (``python -m bench``). The
    gates stay on the routers as their first filter, so the routing is the same with or without
    this class; only the cost of a refusal changes. Routers without a gate are always offered.
    """

    GATED_EVENTS = ("message", "callback_query")

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type not in self.GATED_EVENTS:
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        # As aiogram's Router._propagate_event, but the sub-routers are pre-selected.
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for router in self.sub_routers:
            gate = router_gate(router, update_type)
            if gate is not None and not gate.admits(event, kwargs):  # type: ignore[arg-type]
                continue
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response
