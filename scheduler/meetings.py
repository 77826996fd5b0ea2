"""Meeting reminders to the residents who follow the meeting's district.

Only meetings with status ``scheduled`` that have not started. Milestones, by the clock (the job
runs every 15 minutes):

- ``d3``: from 72 hours before the start until 24 hours before it;
- ``d1``: in the last 24 hours before the start;
- ``intake``: in the last 24 hours before the question intake closes (``intake_closes_at``), one
  heads-up so residents can still send a question. We send one such reminder, not a second one
  a few hours before, to keep the pushes few.

Each run queues the current milestone once per follower (``meeting:<id>:<kind>:<moment>:u<user>``,
where the moment is the start or the intake deadline, so a moved meeting re-arms its reminders).
A late run sends only the current milestone, never the missed ones. These are private messages to
residents, so quiet hours apply (a reminder due at night is delivered at 08:00).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_datetime
from bot.menu import MenuItem, label
from models.entities import District, Follow, Meeting, MeetingStatus, User
from models.settings import Settings
from scheduler.queue import enqueue

logger = logging.getLogger(__name__)

DAYS_BEFORE = 3
INTAKE_NOTICE = dt.timedelta(hours=24)


@dataclass
class MeetingRun:
    meetings: int = 0
    queued: int = 0
    already_queued: int = 0


def meeting_milestones(meeting: Meeting, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """(kind, moment) of the reminders due for ``meeting`` at ``now``."""
    result: list[tuple[str, dt.datetime]] = []
    start = meeting.starts_at
    if start - dt.timedelta(days=1) <= now < start:
        result.append(("d1", start))
    elif start - dt.timedelta(days=DAYS_BEFORE) <= now < start - dt.timedelta(days=1):
        result.append(("d3", start))
    closes = meeting.intake_closes_at
    if closes is not None and closes - INTAKE_NOTICE <= now < closes <= start:
        result.append(("intake", closes))
    return result


def render_meeting_reminder(
    i18n: I18n,
    locale: str,
    meeting: Meeting,
    district: District,
    kind: str,
    today: dt.date,
    tz: ZoneInfo,
) -> str:
    with i18n.context(), i18n.use_locale(locale):
        district_name = html.quote(district.name(locale))
        if kind == "intake":
            assert meeting.intake_closes_at is not None
            lines = [
                _("✍️ <b>Last day to send a question</b>"),
                _(
                    "Questions for the akim's meeting with residents of {district} are accepted "
                    "until {deadline}."
                ).format(
                    district=district_name,
                    deadline=fmt_datetime(meeting.intake_closes_at, locale),
                ),
                _("Press «{menu}» in the main menu to send yours.").format(
                    menu=label(MenuItem.ASK)
                ),
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
            lines = [title, district_name]
            lines.append(_("🕒 {when}").format(when=fmt_datetime(meeting.starts_at, locale)))
            if meeting.place:
                lines.append(_("📍 {place}").format(place=html.quote(meeting.place)))
            if meeting.stream_url:
                lines.append(_("🎥 Livestream: {url}").format(url=html.quote(meeting.stream_url)))
        lines.append(_("You get this because you follow the district."))
        return "\n".join(lines)


async def plan_meeting_reminders(
    session: AsyncSession, i18n: I18n, settings: Settings, now: dt.datetime
) -> MeetingRun:
    """Queue the meeting reminders due at ``now`` (the caller commits)."""
    run = MeetingRun()
    today = now.astimezone(settings.tz).date()
    horizon = now + dt.timedelta(days=DAYS_BEFORE)
    meetings = list(
        (
            await session.execute(
                select(Meeting)
                .where(
                    Meeting.status == MeetingStatus.SCHEDULED,
                    Meeting.starts_at > now,
                    or_(
                        Meeting.starts_at <= horizon,
                        Meeting.intake_closes_at <= now + INTAKE_NOTICE,
                    ),
                )
                .order_by(Meeting.starts_at, Meeting.id)
            )
        ).scalars()
    )
    due = [(m, k, moment) for m in meetings for k, moment in meeting_milestones(m, now)]
    if not due:
        return run
    district_ids = {m.district_id for m, _k, _t in due}
    districts = {
        d.id: d
        for d in (
            await session.execute(select(District).where(District.id.in_(district_ids)))
        ).scalars()
    }
    followers: dict[int, list[User]] = defaultdict(list)
    rows = await session.execute(
        select(Follow.district_id, User)
        .join(User, User.id == Follow.user_id)
        .where(Follow.district_id.in_(district_ids), User.reachable.is_(True))
        .order_by(User.id)
    )
    for district_id, user in rows.all():
        if district_id is not None:
            followers[district_id].append(user)
    run.meetings = len({m.id for m, _k, _t in due})
    for meeting, kind, moment in due:
        district = districts[meeting.district_id]
        for user in followers.get(meeting.district_id, []):
            locale = user.locale or settings.default_locale
            queued = await enqueue(
                session,
                chat_id=user.tg_id,
                user_id=user.id,
                text=render_meeting_reminder(
                    i18n, locale, meeting, district, kind, today, settings.tz
                ),
                kind="meeting_reminder",
                dedup_key=f"meeting:{meeting.id}:{kind}:{int(moment.timestamp())}:u{user.id}",
                not_before=now,
            )
            if queued:
                run.queued += 1
            else:
                run.already_queued += 1
    return run
