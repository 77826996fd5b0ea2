"""The caller's profile, loaded on every update: from this process's short-lived cache when it
is fresh, else from the database.

Every update needs the caller's profile (language, district, role), and reading it was the
largest single cost of a resident's update after routing (``python -m bench``). The cache keeps
column values, never ORM objects, for ``ttl`` seconds (``PROFILE_CACHE_SECONDS``; 0 turns it
off); a profile written through this process is forgotten when written and again when
committed, so the bot always sees its own changes at once; a change made by another process (a
second replica, ``kezdesu admin``) is seen within ``ttl``. Administrators' profiles are never
cached, so revoking the role takes effect at once.
"""

from __future__ import annotations

import time
from typing import Any

from cachetools import TTLCache
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from models.entities import User

CACHE_KEY = "profiles"  # the pool's cache in Session.info (models.db.create_session_pool)
WRITTEN_KEY = "profiles_written"  # Telegram ids of the profiles the session has written
_COLUMNS = tuple(attr.key for attr in inspect(User).column_attrs)


class ProfileCache:
    """Column values of recently read profiles by Telegram id (``cachetools``' TTL cache: the
    least recently used go first when it is full)."""

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        self.ttl = ttl
        self.clock = time.monotonic  # the tests move it on
        self.entries: TTLCache[int, dict[str, Any]] = TTLCache(
            maxsize=size, ttl=ttl, timer=self.now
        )

    def now(self) -> float:
        return self.clock()

    def get(self, tg_id: int) -> dict[str, Any] | None:
        return self.entries.get(tg_id)

    def remember(self, user: User) -> None:
        if self.ttl > 0 and not user.is_admin:
            self.entries[user.tg_id] = {key: getattr(user, key) for key in _COLUMNS}

    def __len__(self) -> int:
        return len(self.entries)

    def forget(self, tg_id: int | None) -> None:
        self.entries.pop(tg_id or 0, None)


async def load_profile(session: AsyncSession, tg_id: int) -> User | None:
    """The profile with this Telegram id, attached to the session (None if there is none)."""
    cache: ProfileCache | None = session.info.get(CACHE_KEY)
    values = cache.get(tg_id) if cache is not None else None
    if values is not None:
        cached = User(**values)
        make_transient_to_detached(cached)  # a row as the database has it: only changes written
        session.add(cached)
        return cached
    found = (await session.execute(select(User).where(User.tg_id == tg_id))).scalar_one_or_none()
    if found is not None and cache is not None:
        cache.remember(found)
    return found


def profile_cache(session: AsyncSession | Session) -> ProfileCache | None:
    """This session's pool's cache of profiles."""
    cache = session.info.get(CACHE_KEY)
    return cache if isinstance(cache, ProfileCache) else None


@event.listens_for(Session, "before_flush")
def _written(session: Session, _context: Any, _instances: Any) -> None:
    cache: ProfileCache | None = session.info.get(CACHE_KEY)
    if cache is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User):
            cache.forget(obj.tg_id)
            session.info.setdefault(WRITTEN_KEY, set()).add(obj.tg_id)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # Forgotten again: another update may have read and cached the old row meanwhile.
    cache: ProfileCache | None = session.info.get(CACHE_KEY)
    for tg_id in session.info.pop(WRITTEN_KEY, ()):
        if cache is not None:
            cache.forget(tg_id)


@event.listens_for(Session, "do_orm_execute")
def _bulk_written(state: ORMExecuteState) -> None:
    cache: ProfileCache | None = state.session.info.get(CACHE_KEY)
    if cache is None or not (state.is_update or state.is_delete):
        return
    if any(mapper.class_ is User for mapper in state.all_mappers):
        cache.entries.clear()  # which rows is unknown (the delivery worker marks chats unreachable)
