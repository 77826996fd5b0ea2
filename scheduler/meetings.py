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
from dataclasses import dataclass
from functools import partial

from aiogram.utils.i18n import I18n
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import District, Meeting, MeetingStatus
from models.recipients import district_followers
from models.settings import Settings
from scheduler.notifications import per_locale, queue_each
from scheduler.notifications.meetings import render_meeting_reminder

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
    followers = await district_followers(session, district_ids)
    run.meetings = len({m.id for m, _k, _t in due})
    for meeting, kind, moment in due:
        targets = followers.get(meeting.district_id, [])
        queued = await queue_each(
            session,
            i18n,
            targets,
            per_locale(
                partial(
                    render_meeting_reminder,
                    meeting,
                    districts[meeting.district_id],
                    kind,
                    today,
                    settings.tz,
                )
            ),
            kind="meeting_reminder",
            key=f"meeting:{meeting.id}:{kind}:{int(moment.timestamp())}",
            not_before=lambda _r: now,
        )
        run.queued += queued
        run.already_queued += len(targets) - queued
    return run
