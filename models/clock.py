"""The time zone of the akimat (Asia/Almaty) and the local calendar. Times are stored in UTC and
shown and entered in Almaty time; ``zoneinfo`` (with ``tzdata``) does the arithmetic, so the
move from UTC+6 to UTC+5 on 1 March 2024 is right on both sides of it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")


def local_now(tz: ZoneInfo = ALMATY) -> dt.datetime:
    return dt.datetime.now(tz)


def local_today(tz: ZoneInfo = ALMATY) -> dt.date:
    return local_now(tz).date()


def to_local(moment: dt.datetime, tz: ZoneInfo = ALMATY) -> dt.datetime:
    return moment.astimezone(tz)


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
