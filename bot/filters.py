"""Filters of the router tree, all coroutines.

aiogram calls a filter that is not a coroutine through ``asyncio.to_thread`` (a thread hand-off
per check): that includes magic filters used directly (``F.text``, ``F.chat.type == ...``) and
FSM states used as filters (``AskForm.text``). These classes do the same checks in the event
loop; states are checked with aiogram's ``StateFilter``, commands with ``Command``, buttons with
``CallbackData.filter()``, which are coroutines already. ``MenuButton`` lives in ``bot.menu``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n

from bot.menu import MenuItem, labels_for

GROUP_TYPES = ("group", "supergroup")

ContentKind = Literal["text", "photo", "document", "location"]


class ChatType(Filter):
    """The message was sent in a chat of one of these types (``private``, ``group``…)."""

    __slots__ = ("types",)

    def __init__(self, *types: str) -> None:
        self.types = frozenset(types)

    async def __call__(self, message: Message) -> bool:
        return message.chat.type in self.types


class Content(Filter):
    """The message carries this kind of content (a text, a photo, a document, a location)."""

    __slots__ = ("kind",)

    def __init__(self, kind: ContentKind) -> None:
        self.kind = kind

    async def __call__(self, message: Message) -> bool:
        return bool(getattr(message, self.kind))


class PlainText(Filter):
    """A text message that is not a command (does not start with ``/``)."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        return bool(text and not text.startswith("/"))


class CommandLike(Filter):
    """A text message that starts with ``/``: a command, known or not."""

    async def __call__(self, message: Message) -> bool:
        text = message.text
        return text is not None and text.startswith("/")


class IsAdmin(Filter):
    """The caller is akimat staff (``is_admin``, worked out per update by ``UpdateMiddleware``)."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


class CallbackPrefix(Filter):
    """The button's data has the prefix of one of these ``CallbackData`` factories.

    A router's own filter: a button of another area skips all of the router's handlers (and
    its sub-routers) with one set lookup, instead of each handler's factory unpacking it. The
    handlers' own ``Factory.filter()`` still parses and checks the data."""

    __slots__ = ("factories", "prefixes", "separators")

    def __init__(self, *factories: type[CallbackData]) -> None:
        self.factories = factories
        self.prefixes = frozenset(f.__prefix__ for f in factories)
        self.separators = tuple({f.__separator__ for f in factories})

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        if data is None:
            return False
        return any(data.split(sep, 1)[0] in self.prefixes for sep in self.separators)


class AreaInput(Filter):
    """A message one area's handlers may take: a command (in a text or a caption), the label of
    one of its main-menu buttons (in any language), or input to one of its forms.

    An area's router's own filter: any other message (a search typed at the main menu, the
    answer to another area's form) skips all of the area's handlers with one check. Every
    message handler of the area has a ``Command``, a ``MenuButton`` of these items or a state of
    these forms among its filters (``tests/test_hot_path.py`` checks it)."""

    __slots__ = ("_labels", "forms", "menu")

    def __init__(
        self, *, menu: Iterable[MenuItem] = (), forms: Iterable[type[StatesGroup]] = ()
    ) -> None:
        self.menu = tuple(menu)
        self.forms = tuple(forms)
        self._labels: dict[int, frozenset[str]] = {}  # by catalog (``id(i18n)``)

    async def __call__(self, message: Message, i18n: I18n, raw_state: str | None = None) -> bool:
        if raw_state is not None and any(raw_state in form for form in self.forms):
            return True
        text = message.text or message.caption
        if not text:
            return False
        if text.startswith("/"):
            return True
        return message.text is not None and message.text in self.labels(i18n)

    def labels(self, i18n: I18n) -> frozenset[str]:
        labels = self._labels.get(id(i18n))
        if labels is None:
            labels = frozenset().union(*(labels_for(i18n, item) for item in self.menu))
            self._labels[id(i18n)] = labels
        return labels
