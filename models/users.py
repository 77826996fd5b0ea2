"""Queries on user profiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, bindparam, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached

from models.cache import PoolCache, pool_cache
from models.entities import DepartmentMember, District, User

# Built once: the profile is loaded on every update, and building the statement anew costs
# about as much as running it.
_BY_TG_ID = select(User).where(User.tg_id == bindparam("tg_id", type_=BigInteger))


class ProfileCache(PoolCache[int, dict[str, Any]]):
    """Profiles this process read recently (column values, never ORM objects), by Telegram id,
    so that most updates need no query for them (:mod:`models.cache`: a profile written through
    the pool is forgotten at once, a change by another process such as ``kezdesu admin`` is seen
    within ``ttl`` seconds). Administrators are never cached: the admin role is read from the
    database on each of their updates, so a revoked role ends at once everywhere."""

    watches = (User,)

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        super().__init__(ttl, size)

    def remember(self, user: User) -> None:
        if not user.is_admin:
            self.put(user.tg_id, {key: getattr(user, key) for key in _COLUMNS})

    def forget(self, written: list[Any] | None) -> None:
        if written is None:
            self.clear()
            return
        for user in written:
            if user.tg_id is not None:
                self.discard(user.tg_id)


_COLUMNS = tuple(column.key for column in User.__mapper__.column_attrs)
_USER_CLASS = User.__mapper__.class_manager


def profile_cache(session: AsyncSession | Session) -> ProfileCache | None:
    return pool_cache(session, ProfileCache)


async def load_profile(session: AsyncSession, tg_id: int) -> User | None:
    """The profile for this update: from the pool's cache when fresh, else from the database
    (and then cached). A cached profile is attached to the session as if just loaded, so a
    handler changes it like any other row (only the changed columns are written)."""
    cache = profile_cache(session)
    values = cache.get(tg_id) if cache is not None else None
    if values is not None:
        # A row as a query would load it: the values set without change events (a third of the
        # cost of ``User(**values)``), then given its identity.
        cached = _USER_CLASS.new_instance()
        inspect(cached).dict.update(values)
        make_transient_to_detached(cached)
        session.add(cached)
        return cached
    user = await get_user(session, tg_id)
    if user is not None and cache is not None:
        cache.remember(user)
    return user


async def get_user(session: AsyncSession, tg_id: int) -> User | None:
    result = await session.execute(_BY_TG_ID, {"tg_id": tg_id})
    return result.scalar_one_or_none()


async def get_or_create_user(
    session: AsyncSession, tg_id: int, full_name: str, username: str | None
) -> User:
    """Load the profile, creating it on first contact; keeps name and username current."""
    user = await load_profile(session, tg_id)
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
