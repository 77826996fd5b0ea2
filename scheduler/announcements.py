"""Announcements after «Send»: their messages queued in batches, then a delivery report.

The admin's button only records the :class:`~models.entities.Announcement` (one row, at once).
This job, every few seconds in every process, queues the audience :data:`BATCH` residents per
transaction, oldest account first (``next_user_id`` remembers where it stopped, so a restart goes
on from there and two processes never queue the same batch: each batch is claimed with a
conditional update of that cursor; the messages' unique keys would drop a repeat anyway). When
every message of an announcement has been tried (none ``pending`` or ``sending``), its author is
sent a report: sent, unreachable (blocked the bot: 403, or the chat is gone), failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.claims import claim
from models.entities import Announcement, Notification, NotificationStatus
from models.recipients import Recipient
from models.translation import N_
from scheduler.notifications import Outgoing, Render, queue_each
from scheduler.notifications.announcements import audience_batch, render_announcement

logger = logging.getLogger(__name__)

BATCH = 500

REPORT = N_(
    "📨 Delivery report for the announcement «{summary}»\n"
    "Sent: {sent}\n"
    "Unreachable (blocked the bot or left Telegram): {unreachable}\n"
    "Failed: {failed}"
)


@dataclass
class AnnouncementProgress:
    queued: int = 0
    reported: int = 0


def message_key(token: str) -> str:
    """The prefix of the dedup keys of an announcement's messages."""
    return f"announce:{token}"


async def advance_announcements(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    now: dt.datetime,
    *,
    batch: int = BATCH,
) -> AnnouncementProgress:
    """Queue what is left of every recorded announcement, then report the finished ones."""
    progress = AnnouncementProgress()
    async with session_pool() as session:
        waiting = await session.execute(
            select(Announcement.id)
            .where(Announcement.queued_at.is_(None))
            .order_by(Announcement.id)
        )
        ids = list(waiting.scalars())
    for announcement_id in ids:
        while True:
            count, more = await _queue_batch(session_pool, i18n, announcement_id, now, batch)
            progress.queued += count
            if not more:
                break
    progress.reported = await _report_finished(session_pool, i18n, now)
    return progress


async def _queue_batch(
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n,
    announcement_id: int,
    now: dt.datetime,
    batch: int,
) -> tuple[int, bool]:
    """One batch in one transaction; returns how many were queued and whether more are left."""
    async with session_pool() as session:
        announcement = await session.get(Announcement, announcement_id)
        if announcement is None or announcement.queued_at is not None:
            return 0, False
        users = await audience_batch(
            session, announcement.district_id, announcement.next_user_id, batch
        )
        last = users[-1].id if users else announcement.next_user_id
        done = len(users) < batch
        won = await claim(
            session,
            Announcement,
            announcement.id,
            Announcement.next_user_id == announcement.next_user_id,
            Announcement.queued_at.is_(None),
            next_user_id=last,
            queued=Announcement.queued + len(users),
            queued_at=now if done else None,
        )
        if not won:  # another process queued this batch meanwhile
            await session.rollback()
            return 0, False
        count = await queue_each(
            session,
            i18n,
            [Recipient.of(user) for user in users],
            render_announcement(announcement.body),
            kind="announcement",
            key=message_key(announcement.token),
        )
        await session.commit()
    return count, not done


async def delivery_counts(session: AsyncSession, token: str) -> dict[str, int]:
    rows = await session.execute(
        select(Notification.status, func.count())
        .where(Notification.dedup_key.startswith(message_key(token) + ":", autoescape=True))
        .group_by(Notification.status)
    )
    return {str(status): int(n) for status, n in rows.all()}


def _report(summary: str, counts: dict[str, int]) -> Render:
    def render() -> Outgoing:
        return Outgoing(
            _(REPORT).format(
                summary=html.quote(summary),
                sent=counts.get(NotificationStatus.SENT, 0),
                unreachable=counts.get(NotificationStatus.DROPPED, 0),
                failed=counts.get(NotificationStatus.FAILED, 0),
            )
        )

    return render


async def _report_finished(
    session_pool: async_sessionmaker[AsyncSession], i18n: I18n, now: dt.datetime
) -> int:
    reported = 0
    async with session_pool() as session:
        waiting = await session.execute(
            select(Announcement)
            .where(Announcement.queued_at.is_not(None), Announcement.reported_at.is_(None))
            .order_by(Announcement.id)
        )
        announcements = list(waiting.scalars())
    for announcement in announcements:
        async with session_pool() as session:
            counts = await delivery_counts(session, announcement.token)
            if counts.get(NotificationStatus.PENDING, 0) or counts.get(
                NotificationStatus.SENDING, 0
            ):
                continue
            if not await claim(
                session,
                Announcement,
                announcement.id,
                Announcement.reported_at.is_(None),
                reported_at=now,
            ):
                continue  # reported by another process
            await queue_each(
                session,
                i18n,
                [Recipient(announcement.author_chat_id, announcement.author_locale)],
                _report(announcement.summary, counts),
                kind="announcement_report",
                key=f"announce-report:{announcement.token}",
            )
            await session.commit()
            reported += 1
            logger.info("Announcement %s delivered: %s", announcement.id, counts)
    return reported
