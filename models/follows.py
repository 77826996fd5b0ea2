"""Follows: a user follows a measure or a whole district."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Follow


async def is_following(
    session: AsyncSession, user_id: int, *, measure_id: int | None = None,
    district_id: int | None = None,
) -> bool:  # fmt: skip
    query = select(Follow.id).where(Follow.user_id == user_id)
    if measure_id is not None:
        query = query.where(Follow.measure_id == measure_id)
    else:
        query = query.where(Follow.district_id == district_id)
    return (await session.execute(query.limit(1))).first() is not None


async def follow(
    session: AsyncSession, user_id: int, *, measure_id: int | None = None,
    district_id: int | None = None,
) -> bool:  # fmt: skip
    """Returns False when already following (a double tap is harmless)."""
    if (measure_id is None) == (district_id is None):
        raise ValueError("follow exactly one of a measure or a district")
    if await is_following(session, user_id, measure_id=measure_id, district_id=district_id):
        return False
    try:
        async with session.begin_nested():
            session.add(Follow(user_id=user_id, measure_id=measure_id, district_id=district_id))
    except IntegrityError:
        return False
    return True


async def unfollow(
    session: AsyncSession, user_id: int, *, measure_id: int | None = None,
    district_id: int | None = None,
) -> bool:  # fmt: skip
    query = delete(Follow).where(Follow.user_id == user_id)
    if measure_id is not None:
        query = query.where(Follow.measure_id == measure_id)
    else:
        query = query.where(Follow.district_id == district_id)
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))
