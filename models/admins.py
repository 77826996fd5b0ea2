"""Granting and revoking the admin role (``kezdesu admin grant|revoke|list``).

``ADMIN_IDS`` from the configuration are admins regardless; these functions manage the
``users.is_admin`` flag, creating the profile of someone who has not written to the bot yet.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import User
from models.users import get_user


async def grant_admin(session: AsyncSession, tg_id: int) -> bool:
    """Make the Telegram user an admin; False when they already were."""
    user = await get_user(session, tg_id)
    if user is None:
        session.add(User(tg_id=tg_id, is_admin=True))
        await session.flush()
        return True
    if user.is_admin:
        return False
    user.is_admin = True
    await session.flush()
    return True


async def revoke_admin(session: AsyncSession, tg_id: int) -> bool:
    """Take the role back; False when the user was not an admin (or is unknown)."""
    user = await get_user(session, tg_id)
    if user is None or not user.is_admin:
        return False
    user.is_admin = False
    await session.flush()
    return True


async def list_admins(session: AsyncSession) -> list[User]:
    result = await session.execute(select(User).where(User.is_admin.is_(True)).order_by(User.tg_id))
    return list(result.scalars())
