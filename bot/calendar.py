"""An "Add to calendar" file (iCalendar, RFC 5545) for a meeting, built with ``icalendar``.

The start is written in Asia/Almaty (``DTSTART;TZID=Asia/Almaty``) with the zone's VTIMEZONE
in the file, generated from ``zoneinfo``: calendar apps (Google, Apple, Outlook) then show the
meeting at the right moment wherever the phone is, as Almaty time, and Outlook, which does not
know IANA names by itself, reads the zone from the file. The zone's rules cover the years around
the meeting only (Almaty moved from UTC+6 to UTC+5 in March 2024), which keeps the file small.

``icalendar`` is imported on the first file, not when the bot starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DURATION = dt.timedelta(hours=2)  # meetings have no end time; two hours is what they take
PRODID = "-//Kezdesu//Akim meetings//EN"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    summary: str
    starts_at: dt.datetime  # aware
    location: str = ""
    url: str = ""
    description: str = ""


def event_ics(event: CalendarEvent, tz: ZoneInfo, stamp: dt.datetime) -> bytes:
    """One event as an ``.ics`` file."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    item = Event()
    start = event.starts_at.astimezone(tz)
    item.add("uid", event.uid)
    item.add("dtstamp", stamp.astimezone(dt.UTC))
    item.add("dtstart", start)
    item.add("dtend", start + DURATION)
    item.add("summary", event.summary)
    if event.location:
        item.add("location", event.location)
    if event.url:
        item.add("url", event.url)
    if event.description:
        item.add("description", event.description)
    calendar.add_component(item)
    calendar.add_missing_timezones(
        first_date=(start - dt.timedelta(days=366)).date(),
        last_date=(start + dt.timedelta(days=366)).date(),
    )
    return bytes(calendar.to_ical())
