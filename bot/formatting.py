"""Locale-aware formatting of dates, times and numbers (Babel), in the configured time zone."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from babel.dates import format_date as _format_date
from babel.numbers import format_decimal

ALMATY = ZoneInfo("Asia/Almaty")


def local_now(tz: ZoneInfo = ALMATY) -> dt.datetime:
    return dt.datetime.now(tz)


def local_today(tz: ZoneInfo = ALMATY) -> dt.date:
    return local_now(tz).date()


def to_local(moment: dt.datetime, tz: ZoneInfo = ALMATY) -> dt.datetime:
    return moment.astimezone(tz)


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


def parse_local_datetime(text: str, tz: ZoneInfo = ALMATY) -> dt.datetime | None:
    """``23.06.2022 15:00`` (local wall time) → aware UTC; None when it is not such a moment."""
    cleaned = " ".join(text.replace(",", " ").split())
    for pattern in ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M", "%d.%m.%y %H:%M"):
        try:
            naive = dt.datetime.strptime(cleaned, pattern)  # noqa: DTZ007 - zone attached below
        except ValueError:
            continue
        return naive.replace(tzinfo=tz).astimezone(dt.UTC)
    return None
