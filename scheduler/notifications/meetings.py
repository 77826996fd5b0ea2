"""Messages about meetings to the followers of a district: a meeting created, moved or
cancelled, and the reminders before it and before its question intake closes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import district_args, fmt_datetime
from bot.i18n import current_locale
from bot.menu import MenuItem, label
from models.entities import District, Meeting
from models.meetings import MeetingEvent
from models.recipients import district_followers
from models.text import truncate
from models.translation import N_
from scheduler.notifications import Outgoing, queue_each

NOTICE_CREATED = N_(
    "📅 <b>A meeting of the akim with the residents of {district}</b>\nWhen: {when}\nWhere: {place}"
)
NOTICE_MOVED = N_(
    "🔁 <b>The meeting of the akim with the residents of {district} has moved</b>\n"
    "New time: {when}\n"
    "Was: {old}\n"
    "Where: {place}"
)
NOTICE_CANCELLED = N_(
    "❌ <b>The meeting of the akim with the residents of {district} is cancelled</b>\n"
    "It was planned for {when}."
)
NOTICE_INTAKE = N_("Questions are accepted in the bot until {deadline}.")
NOTICE_STREAM = N_("Live stream: {url}")
PLACE_UNKNOWN = N_("to be announced")


def render_meeting_notice(
    meeting: Meeting,
    district: District,
    event: MeetingEvent,
    old_starts_at: dt.datetime | None = None,
) -> str:
    """A meeting created, moved or cancelled, in the current language."""
    locale = current_locale()
    values = {
        **district_args(district, locale),
        "when": fmt_datetime(meeting.starts_at, locale),
        "place": html.quote(truncate(meeting.place, 500)) if meeting.place else _(PLACE_UNKNOWN),
    }
    if event is MeetingEvent.CANCELLED:
        return _(NOTICE_CANCELLED).format(**values)
    if event is MeetingEvent.MOVED:
        text = _(NOTICE_MOVED).format(
            old=fmt_datetime(old_starts_at or meeting.starts_at, locale), **values
        )
    else:
        text = _(NOTICE_CREATED).format(**values)
    lines = [text]
    if meeting.intake_closes_at is not None:
        lines.append(
            _(NOTICE_INTAKE).format(deadline=fmt_datetime(meeting.intake_closes_at, locale))
        )
    if meeting.stream_url:
        lines.append(_(NOTICE_STREAM).format(url=html.quote(meeting.stream_url)))
    return "\n".join(lines)


async def meeting_changed(
    session: AsyncSession,
    i18n: I18n,
    meeting: Meeting,
    district: District,
    event: MeetingEvent,
    old_starts_at: dt.datetime | None = None,
) -> int:
    """The notice to every reachable follower of the district, each in their language.

    The key holds the meeting, the event and the start time, so the same change queued twice (a
    double tap) sends once, while moving the meeting again notifies again."""
    followers = (await district_followers(session, [district.id])).get(district.id, [])
    return await queue_each(
        session,
        i18n,
        followers,
        lambda: Outgoing(render_meeting_notice(meeting, district, event, old_starts_at)),
        kind=f"meeting_{event.value}",
        key=f"meeting:{meeting.id}:{event.value}:{int(meeting.starts_at.timestamp())}",
    )


def render_meeting_reminder(
    meeting: Meeting, district: District, kind: str, today: dt.date, tz: ZoneInfo
) -> Outgoing:
    """A reminder of a meeting (``d3``, ``d1``) or of its intake closing (``intake``), in the
    current language."""
    locale = current_locale()
    if kind == "intake":
        assert meeting.intake_closes_at is not None
        lines = [
            _("✍️ <b>Last day to send a question</b>"),
            _(
                "Questions for the akim's meeting with residents of {district} are accepted "
                "until {deadline}."
            ).format(
                **district_args(district, locale),
                deadline=fmt_datetime(meeting.intake_closes_at, locale),
            ),
            _("Press «{menu}» in the main menu to send yours.").format(menu=label(MenuItem.ASK)),
        ]
    else:
        # Counted in calendar days from the day it is written (a late run says it right).
        days = (meeting.starts_at.astimezone(tz).date() - today).days
        if days <= 0:
            title = _("📅 <b>Today: the akim's meeting with residents</b>")
        elif days == 1:
            title = _("📅 <b>Tomorrow: the akim's meeting with residents</b>")
        else:
            title = _(
                "📅 <b>In {days} day: the akim's meeting with residents</b>",
                "📅 <b>In {days} days: the akim's meeting with residents</b>",
                days,
            ).format(days=days)
        lines = [title, html.quote(district.name(locale))]
        lines.append(_("🕒 {when}").format(when=fmt_datetime(meeting.starts_at, locale)))
        if meeting.place:
            lines.append(_("📍 {place}").format(place=html.quote(meeting.place)))
        if meeting.stream_url:
            lines.append(_("🎥 Livestream: {url}").format(url=html.quote(meeting.stream_url)))
    lines.append(_("You get this because you follow the district."))
    return Outgoing("\n".join(lines))
