"""Queries on user profiles."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, bindparam, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from models.entities import DepartmentMember, District, User

# Built once: the profile is loaded on every update, and building the statement anew costs
# about as much as running it.
_BY_TG_ID = select(User).where(User.tg_id == bindparam("tg_id", type_=BigInteger))


class ProfileCache:
    """Profiles this process read recently, so that most updates need no query for them.

    One per session pool (``models.db.create_session_pool`` puts it in ``Session.info``); it
    holds column values, never ORM objects, for at most ``ttl`` seconds. Every write of a profile
    made through a session of the pool drops its entry (ORM changes when flushed and again after
    the commit, bulk ``UPDATE``/``DELETE`` of users the whole cache), so this process always sees
    its own changes at once. A change made by another process (a second replica, the
    ``kezdesu admin`` command) is seen within ``ttl`` seconds. Administrators are never cached:
    the admin role is read from the database on each of their updates, so a revoked role ends
    at once everywhere.
    """

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        self.ttl = ttl
        self.size = size
        self.clock: Callable[[], float] = time.monotonic  # replaced by the tests
        self._entries: OrderedDict[int, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, tg_id: int) -> dict[str, Any] | None:
        entry = self._entries.get(tg_id)
        if entry is None:
            return None
        if self.clock() - entry[0] > self.ttl:
            del self._entries[tg_id]
            return None
        return entry[1]

    def put(self, user: User) -> None:
        if self.ttl <= 0 or user.is_admin:
            return
        values = {key: getattr(user, key) for key in _COLUMNS}
        self._entries[user.tg_id] = (self.clock(), values)
        self._entries.move_to_end(user.tg_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, tg_id: int) -> None:
        self._entries.pop(tg_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_COLUMNS = tuple(column.key for column in User.__mapper__.column_attrs)
_CACHE = "profile_cache"
_WRITTEN = "profiles_written"


def profile_cache(session: AsyncSession | Session) -> ProfileCache | None:
    cache = session.info.get(_CACHE)
    return cache if isinstance(cache, ProfileCache) else None


@event.listens_for(Session, "after_flush")
def _profiles_flushed(session: Session, _context: Any) -> None:
    cache = profile_cache(session)
    if cache is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User) and obj.tg_id is not None:
            cache.discard(obj.tg_id)
            session.info.setdefault(_WRITTEN, set()).add(obj.tg_id)


@event.listens_for(Session, "after_commit")
def _profiles_committed(session: Session) -> None:
    # Dropped again: another update may have read (and cached) the old row between this
    # session's flush and its commit.
    cache = profile_cache(session)
    written = session.info.pop(_WRITTEN, None)
    if cache is not None and written:
        for tg_id in written:
            cache.discard(tg_id)


@event.listens_for(Session, "after_rollback")
def _profiles_rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "do_orm_execute")
def _profiles_bulk_written(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    cache = profile_cache(state.session)
    if cache is not None and any(m.class_ is User for m in state.all_mappers):
        cache.clear()


async def load_profile(session: AsyncSession, tg_id: int) -> User | None:
    """The profile for this update: from the pool's cache when fresh, else from the database
    (and then cached). A cached profile is attached to the session as if just loaded, so a
    handler changes it like any other row (only the changed columns are written)."""
    cache = profile_cache(session)
    values = cache.get(tg_id) if cache is not None else None
    if values is not None:
        cached = User(**values)
        make_transient_to_detached(cached)
        session.add(cached)
        return cached
    user = await get_user(session, tg_id)
    if user is not None and cache is not None:
        cache.put(user)
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
