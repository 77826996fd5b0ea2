"""Inline mode's views: what a shared commitment, meeting or district looks like in the chat it
is shared to, with a button that opens it in the bot (a deep link: ``/start m<id>``,
``/start mt<id>``, ``/start d<slug>``)."""

from __future__ import annotations

import datetime as dt

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.formatting import fmt_datetime
from bot.keyboards.resident import deadline_line, label, problem_line, tally_line
from models.commitments import MeasureRow, Tally
from models.entities import District, Meeting
from models.text import truncate


def start_link(username: str | None, payload: str) -> str:
    return f"https://t.me/{username}?start={payload}"


def open_button(text: str, link: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, url=link)]])


def compact_card(row: MeasureRow, locale: str, today: dt.date) -> str:
    """The message posted when a measure is shared through inline mode."""
    district = html.quote(row.district.name(locale)) if row.district else ""
    lines = [
        f"<b>{label(row.status, locale)}</b>",
        html.quote(truncate(row.text, 1500)),
        "",
        problem_line(row.problem_number, row.problem_title, row.source, 200),
        deadline_line(row.deadline_text, row.due_date, row.status, today, locale, 150),
    ]
    if district:
        lines.append(f"🏙 {district}")
    return "\n".join(lines)


def compact_description(row: MeasureRow, locale: str) -> str:
    parts = [row.district.short(locale) if row.district else "", row.deadline_text]
    return truncate(" · ".join(p for p in parts if p), 200)


def meeting_share(meeting: Meeting, district: District, locale: str) -> str:
    """A meeting shared through inline mode: when, where, the livestream."""
    lines = [
        _("📅 <b>The akim's meeting with residents: {district}</b>").format(
            district=html.quote(district.name(locale))
        ),
        _("When: {when}").format(when=fmt_datetime(meeting.starts_at, locale)),
    ]
    if meeting.place:
        lines.append(_("Where: {place}").format(place=html.quote(truncate(meeting.place, 500))))
    if meeting.stream_url:
        lines.append(_("Livestream: {url}").format(url=html.quote(meeting.stream_url)))
    lines.append(_("Ask a question and follow the district in the bot."))
    return "\n".join(lines)


def district_share(district: District, tally: Tally | None, locale: str) -> str:
    """A district shared through inline mode: its commitments in one line."""
    lines = [
        _("🏙 <b>{district}: the akim's commitments</b>").format(
            district=html.quote(district.name(locale))
        )
    ]
    if tally is not None and tally.total:
        lines.append(tally_line(tally))
    lines.append(_("See every meeting's plan and follow the district in the bot."))
    return "\n".join(lines)
