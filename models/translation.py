"""What the data layer needs of translation, without depending on the bot's i18n: ``N_`` marks
a message for the catalogs (translated where it is shown), and :class:`Translator` is whatever
translates it (aiogram's ``I18n`` is one)."""

from __future__ import annotations

from typing import Protocol


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (translate at use time)."""
    return message


class Translator(Protocol):
    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...
