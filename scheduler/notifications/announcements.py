"""An announcement from the akimat to the residents of a district, or to everyone."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import User
from models.recipients import Recipient
from models.translation import N_
from scheduler.notifications import Outgoing, per_locale, queue_each

ANNOUNCEMENT_HEADER = N_("📢 <b>Announcement from the akimat</b>")


async def audience(session: AsyncSession, district_id: int | None) -> list[Recipient]:
    """The reachable residents of the district (None: everyone)."""
    query = select(User).where(User.reachable.is_(True))
    if district_id is not None:
        query = query.where(User.district_id == district_id)
    return [
        Recipient.of(user) for user in (await session.execute(query.order_by(User.id))).scalars()
    ]


async def announcement(
    session: AsyncSession, i18n: I18n, token: str, body: str, district_id: int | None
) -> int:
    """One message per reachable resident, its header in their language; ``token`` (one per
    announcement) keys them, so pressing «Send» twice queues it once."""
    return await queue_each(
        session,
        i18n,
        await audience(session, district_id),
        per_locale(lambda: Outgoing(_(ANNOUNCEMENT_HEADER) + "\n\n" + body)),
        kind="announcement",
        key=f"announce:{token}",
    )
