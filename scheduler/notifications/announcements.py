"""An announcement from the akimat to the residents of a district, or to everyone."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import User
from models.translation import N_
from scheduler.notifications import Outgoing, Render, per_locale

ANNOUNCEMENT_HEADER = N_("📢 <b>Announcement from the akimat</b>")


async def audience_batch(
    session: AsyncSession, district_id: int | None, after_user_id: int, limit: int
) -> list[User]:
    """The next ``limit`` reachable residents of the audience after ``after_user_id``."""
    query = select(User).where(User.reachable.is_(True), User.id > after_user_id)
    if district_id is not None:
        query = query.where(User.district_id == district_id)
    return list((await session.execute(query.order_by(User.id).limit(limit))).scalars())


def render_announcement(body: str) -> Render:
    """The announcement with its header in each recipient's language."""
    return per_locale(lambda: Outgoing(_(ANNOUNCEMENT_HEADER) + "\n\n" + body))
