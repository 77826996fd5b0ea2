"""Locale-aware formatting of dates, times and numbers (Babel), in Almaty time."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.numbers import format_decimal

from models.clock import ALMATY
from models.entities import District
from models.reference import district_placeholders


@functools.lru_cache(maxsize=8192)
def fmt_date(day: dt.date, locale: str, fmt: str = "long") -> str:
    # Kept: a card shows three or four dates, and Babel formats each from its pattern anew.
    return _format_date(day, format=fmt, locale=locale)


def fmt_datetime(moment: dt.datetime, locale: str, tz: ZoneInfo = ALMATY) -> str:
    """A UTC moment shown as local date and time, e.g. ``23 июня 2022 г., 15:00``."""
    local = moment.astimezone(tz)
    return f"{fmt_date(local.date(), locale)}, {local:%H:%M}"


def fmt_number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def district_args(district: District, locale: str) -> dict[str, str]:
    """HTML-escaped format arguments for a sentence with a district in it: ``{district}`` and
    its grammatical forms (``{district_gen}``…), one of which each translation uses."""
    return district_placeholders(district.code, locale, district.name(locale))
