"""gettext catalogs: ``.po`` files are the source of truth and are compiled in memory at start.

Each locale folder may hold several catalogs (``locales/<lang>/LC_MESSAGES/*.po``, one per area
of the bot); they are merged into one translation per language, so there is no ``.mo`` file to
build or commit and no manual compile step.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n.context import get_i18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import inspect

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES = ("ru", "kk", "en")
LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}


def read_catalogs(locale: str, path: Path = LOCALES_DIR) -> list[tuple[Path, Catalog]]:
    folder = path / locale / "LC_MESSAGES"
    result = []
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as fh:
            result.append((po_path, read_po(fh, locale=locale)))
    return result


def merged_catalog(locale: str, path: Path = LOCALES_DIR) -> Catalog:
    merged = Catalog(locale=locale)
    for _po_path, catalog in read_catalogs(locale, path):
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                merged.add(message.id, message.string)
    return merged


def compile_translations(locale: str, path: Path = LOCALES_DIR) -> gettext.GNUTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, merged_catalog(locale, path))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class CatalogI18n(I18n):
    """aiogram's ``I18n`` that loads ``.po`` files directly."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return {loc: compile_translations(loc, self.path) for loc in SUPPORTED_LOCALES}

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # A subclass gets its own context variable; aiogram's ``gettext`` reads ``I18n``'s.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def create_i18n(default_locale: str = "ru", path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain="messages")


def guess_locale(language_code: str | None, default: str = "ru") -> str:
    """Map Telegram's ``language_code`` (``ru``, ``kk``, ``en-US``…) to a supported locale."""
    if not language_code:
        return default
    code = language_code.lower().replace("_", "-").split("-", 1)[0]
    if code in {"kk", "kz"}:
        return "kk"
    if code in SUPPORTED_LOCALES:
        return code
    return default


def update_locale(data: dict[str, Any], default: str) -> str:
    """The locale of an update: the stored profile's choice (``data["user"]``, loaded by the
    update middleware), else Telegram's hint, else ``default``. The i18n middleware resolves it
    once per update; handlers read it with :func:`current_locale`."""
    profile = data.get("user")
    stored = inspect(profile).dict.get("locale") if profile is not None else None
    if stored:  # read without IO, even from a profile a rollback expired
        return str(stored)
    tg_user: TgUser | None = data.get("event_from_user")
    return guess_locale(tg_user.language_code if tg_user else None, default)


def current_locale() -> str:
    """The locale of the update being handled (as :func:`update_locale` resolved it)."""
    return str(get_i18n().current_locale)


class ProfileI18nMiddleware(I18nMiddleware):
    """Sets the locale of each update (:func:`update_locale`) for ``gettext``."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return update_locale(data, self.i18n.default_locale)


def all_translations(i18n: I18n, msgid: str) -> frozenset[str]:
    """Every locale's rendering of a message: filters match a button in whatever language."""
    return frozenset(i18n.gettext(msgid, locale=loc) for loc in SUPPORTED_LOCALES)
