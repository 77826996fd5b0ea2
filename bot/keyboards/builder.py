"""The inline keyboard builder every keyboard of the bot uses.

aiogram's ``InlineKeyboardBuilder.export()`` deep-copies every button (pydantic models) so that
a builder can be reused after ``as_markup()``; ours are built for one message and dropped, and
the copy was a measurable part of rendering a card or a list (``python -m bench``). This one
copies the rows only: the same buttons, in new lists.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder


class Keyboard(InlineKeyboardBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
