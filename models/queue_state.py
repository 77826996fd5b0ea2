"""What the notification queue holds, for the command line, /healthz and /metrics: rows by
status and how long the oldest have waited (the queue itself: :mod:`scheduler.queue` and
:mod:`scheduler.delivery`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Notification, NotificationStatus


async def queue_counts(session: AsyncSession) -> dict[str, int]:
    """Rows per status (every status present, zero when none)."""
    rows = await session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    )
    counts = {status.value: 0 for status in NotificationStatus}
    for status, count in rows.all():
        counts[str(status)] = int(count)
    return counts


async def oldest_pending(session: AsyncSession) -> dt.datetime | None:
    """When the oldest row still waiting to be sent was queued."""
    result = await session.execute(
        select(func.min(Notification.created_at)).where(
            Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING))
        )
    )
    value = result.scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


async def oldest_due_age(session: AsyncSession, now: dt.datetime) -> float | None:
    """Seconds since the oldest pending notification became due; None when none is due.

    Held ones (quiet hours, a retry's backoff) have ``not_before`` in the future: not due."""
    oldest = (
        await session.execute(
            select(func.min(Notification.not_before)).where(
                Notification.status == NotificationStatus.PENDING,
                Notification.not_before <= now,
            )
        )
    ).scalar_one_or_none()
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite's min() gives the stored text back, without the type
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (now - oldest).total_seconds())
