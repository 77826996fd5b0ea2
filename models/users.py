"""Queries on user profiles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import DepartmentMember, District, User


async def get_user(session: AsyncSession, tg_id: int) -> User | None:
    result = await session.execute(select(User).where(User.tg_id == tg_id))
    return result.scalar_one_or_none()


async def get_or_create_user(
    session: AsyncSession, tg_id: int, full_name: str, username: str | None
) -> User:
    """Load the profile, creating it on first contact; keeps name and username current."""
    user = await get_user(session, tg_id)
    if user is None:
        user = User(tg_id=tg_id, full_name=full_name[:300], username=username)
        try:
            async with session.begin_nested():
                session.add(user)
        except IntegrityError:  # the same person's parallel update created it first
            user = await get_user(session, tg_id)
            assert user is not None
        return user
    # A profile whose personal data was deleted (/forget: no name, no consent) stays nameless
    # until the person consents again; otherwise the name follows Telegram's.
    forgotten = not user.full_name and user.consent_at is None
    if not forgotten and (user.full_name != full_name[:300] or user.username != username):
        user.full_name = full_name[:300]
        user.username = username
    return user


async def list_districts(session: AsyncSession) -> list[District]:
    result = await session.execute(select(District).order_by(District.order))
    return list(result.scalars())


async def get_district(session: AsyncSession, district_id: int) -> District | None:
    return await session.get(District, district_id)


async def is_department_member(session: AsyncSession, user_id: int) -> bool:
    result = await session.execute(
        select(DepartmentMember.id).where(DepartmentMember.user_id == user_id).limit(1)
    )
    return result.first() is not None
