"""The language of a page (``?lang=ru|kk|en``, then Accept-Language, then Russian) and the
translated, locale-formatted pieces the templates use: the bot's own gettext catalogs, dates
with Babel in Asia/Almaty."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from babel.core import UnknownLocaleError, negotiate_locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from models.clock import ALMATY
from models.entities import OPEN_STATUSES
from models.statuses import MEASURE_LABELS, OVERDUE
from models.translation import Translator

LOCALES = ("ru", "kk", "en")
DEFAULT_LOCALE = "ru"
# What the browser may call Kazakh; Babel's own names for the three.
_ALIASES = {"kz": "kk"}


def accept_language(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (``q=0`` dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip().replace("-", "_").lower()
        if not tag or tag == "*":
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            primary = tag.split("_", 1)[0]
            weighted.append((-weight, index, _ALIASES.get(primary, tag)))
    return [tag for _weight, _index, tag in sorted(weighted)]


def negotiate(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in LOCALES:
        return asked
    try:
        found = negotiate_locale(
            accept_language(request.headers.get("Accept-Language")), LOCALES, sep="_"
        )
    except (UnknownLocaleError, ValueError):
        found = None
    if found is None:  # ``en_US`` and the like: their primary language
        for tag in accept_language(request.headers.get("Accept-Language")):
            if tag.split("_", 1)[0] in LOCALES:
                return tag.split("_", 1)[0]
    return found or DEFAULT_LOCALE


@dataclass
class Texts:
    """Translation and formatting in one locale, for the templates (``t``)."""

    i18n: Translator
    locale: str
    today: dt.date

    def _(self, message: str, plural: str | None = None, n: int = 1) -> str:
        return self.i18n.gettext(message, plural, n, locale=self.locale)

    def date(self, day: dt.date | None, fmt: str = "long") -> str:
        return format_date(day, format=fmt, locale=self.locale) if day is not None else ""

    def moment(self, moment: dt.datetime | None) -> str:
        """A UTC moment as the local date and time: ``23 июня 2022 г., 15:00``."""
        if moment is None:
            return ""
        local = moment.astimezone(ALMATY)
        time = format_time(local.time(), format="short", locale=self.locale)
        return f"{self.date(local.date())}, {time}"

    def day(self, moment: dt.datetime | None) -> str:
        return self.date(moment.astimezone(ALMATY).date(), "medium") if moment else ""

    def number(self, value: float | None) -> str:
        return format_decimal(value, locale=self.locale) if value is not None else "—"

    def percent(self, share: float | None) -> str:
        return format_percent(share, locale=self.locale) if share is not None else "—"

    def status(self, status: str) -> str:
        return self._(MEASURE_LABELS.get(status, status))

    def days_note(self, due: dt.date | None, status: str) -> str:
        """``30 days left`` / ``3 days overdue`` / ``due today``; empty for closed or undated."""
        if due is None or status not in (*OPEN_STATUSES, OVERDUE):
            return ""
        delta = (due - self.today).days
        if delta > 0:
            return self._("{n} day left", "{n} days left", delta).format(n=delta)
        if delta == 0:
            return self._("due today")
        return self._("{n} day overdue", "{n} days overdue", -delta).format(n=-delta)

    def url(self, path: str) -> str:
        """A link to another page in the same language."""
        separator = "&" if "?" in path else "?"
        return f"{path}{separator}lang={self.locale}"

    def tally(self, counts: Any) -> str:
        """``12 measures: 5 done, 4 in progress, 3 overdue`` (the bot's words)."""
        total = self._("{n} measure", "{n} measures", counts.total).format(n=counts.total)
        parts = [
            self._(message).format(n=getattr(counts, name))
            for name, message in (
                ("done", "{n} done"),
                ("in_progress", "{n} in progress"),
                ("planned", "{n} planned"),
                ("overdue", "{n} overdue"),
                ("cancelled", "{n} cancelled"),
            )
            if getattr(counts, name)
        ]
        if not parts:
            return total
        return self._("{total}: {parts}").format(total=total, parts=", ".join(parts))
