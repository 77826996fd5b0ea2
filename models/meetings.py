"""Meetings: queries for the admin screens, and notices to the residents following a district."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from aiogram import html
from aiogram.utils.i18n import I18n
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.formatting import fmt_datetime
from models.entities import District, Measure, Meeting, ProblemIssue
from models.follows import district_followers
from models.text import truncate
from models.translation import N_
from scheduler.queue import enqueue

MAX_OUTCOME_VALUE = 1_000_000


async def list_meetings(
    session: AsyncSession, district_id: int | None, page: int, per_page: int
) -> tuple[list[Meeting], int]:
    """One page of meetings, newest first (of a district, or of all districts), and the total."""
    count_query = select(func.count(Meeting.id))
    query = select(Meeting).options(selectinload(Meeting.district))
    if district_id is not None:
        count_query = count_query.where(Meeting.district_id == district_id)
        query = query.where(Meeting.district_id == district_id)
    total = int((await session.execute(count_query)).scalar_one())
    result = await session.execute(
        query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .offset(page * per_page)
        .limit(per_page)
    )
    return list(result.scalars()), total


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting | None:
    result = await session.execute(
        select(Meeting)
        .options(selectinload(Meeting.district))
        .where(Meeting.id == meeting_id)
        .execution_options(populate_existing=True)  # the district may have just changed
    )
    return result.scalar_one_or_none()


async def slot_taken(
    session: AsyncSession, district_id: int, starts_at: dt.datetime, exclude_id: int | None = None
) -> bool:
    """Another meeting of the district already starts at this moment."""
    query = select(Meeting.id).where(
        Meeting.district_id == district_id, Meeting.starts_at == starts_at
    )
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    return (await session.execute(query.limit(1))).first() is not None


async def plan_counts(session: AsyncSession, meeting_id: int) -> tuple[int, int]:
    """(problem issues, measures) of the meeting's action plan."""
    problems = (
        await session.execute(
            select(func.count(ProblemIssue.id)).where(ProblemIssue.meeting_id == meeting_id)
        )
    ).scalar_one()
    measures = (
        await session.execute(
            select(func.count(Measure.id))
            .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
            .where(ProblemIssue.meeting_id == meeting_id)
        )
    ).scalar_one()
    return int(problems), int(measures)


class MeetingEvent(StrEnum):
    CREATED = "new"
    MOVED = "moved"
    CANCELLED = "cancelled"


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
    i18n: I18n,
    locale: str,
    meeting: Meeting,
    district: District,
    event: MeetingEvent,
    old_starts_at: dt.datetime | None = None,
) -> str:
    values = {
        "district": html.quote(district.name(locale)),
        "when": fmt_datetime(meeting.starts_at, locale),
        "place": html.quote(truncate(meeting.place, 500))
        if meeting.place
        else i18n.gettext(PLACE_UNKNOWN, locale=locale),
    }
    if event is MeetingEvent.CANCELLED:
        return i18n.gettext(NOTICE_CANCELLED, locale=locale).format(**values)
    if event is MeetingEvent.MOVED:
        text = i18n.gettext(NOTICE_MOVED, locale=locale).format(
            old=fmt_datetime(old_starts_at or meeting.starts_at, locale), **values
        )
    else:
        text = i18n.gettext(NOTICE_CREATED, locale=locale).format(**values)
    lines = [text]
    if meeting.intake_closes_at is not None:
        lines.append(
            i18n.gettext(NOTICE_INTAKE, locale=locale).format(
                deadline=fmt_datetime(meeting.intake_closes_at, locale)
            )
        )
    if meeting.stream_url:
        lines.append(
            i18n.gettext(NOTICE_STREAM, locale=locale).format(url=html.quote(meeting.stream_url))
        )
    return "\n".join(lines)


async def notify_meeting_followers(
    session: AsyncSession,
    i18n: I18n,
    meeting: Meeting,
    district: District,
    event: MeetingEvent,
    old_starts_at: dt.datetime | None = None,
) -> int:
    """Queue the notice to every reachable follower of the district, each in their language.

    The dedup key holds the meeting, the event and the start time, so the same change queued
    twice (a double tap) sends once, while moving the meeting again notifies again."""
    stamp = int(meeting.starts_at.timestamp())
    count = 0
    for follower in await district_followers(session, district.id):
        locale = follower.locale or i18n.default_locale
        queued = await enqueue(
            session,
            chat_id=follower.tg_id,
            user_id=follower.id,
            text=render_meeting_notice(i18n, locale, meeting, district, event, old_starts_at),
            kind=f"meeting_{event.value}",
            dedup_key=f"meeting:{meeting.id}:{event.value}:{stamp}:{follower.id}",
        )
        count += int(queued)
    return count
