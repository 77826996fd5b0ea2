"""Short-lived caches of one session pool that the pool's own writes keep true.

A :class:`PoolCache` lives in the pool's ``Session.info`` (``models.db.create_session_pool``)
and names the mapped classes it depends on (``watches``). Whenever a session of the pool writes
such rows — ORM changes when they are flushed, and again after the commit (another update may
have read and cached the old rows in between), bulk ``INSERT``/``UPDATE``/``DELETE`` statements
likewise — the cache forgets what they may have made stale. So this process always sees its own
changes at once; a change made by another process (a second replica, a command-line tool) is
seen within ``ttl`` seconds. ``ttl=0`` turns a cache off.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
C = TypeVar("C", bound="PoolCache[Any, Any]")


class PoolCache(Generic[K, V]):
    """At most ``size`` entries, each for ``ttl`` seconds; the least recently used go first."""

    watches: tuple[type, ...] = ()

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self.clock: Callable[[], float] = time.monotonic  # replaced by the tests
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() - entry[0] > self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self.clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def forget(self, written: list[Any] | None) -> None:
        """Drop what these written rows may have made stale (``None``: rows unknown, a bulk
        statement). By default everything."""
        self.clear()

    def __len__(self) -> int:
        return len(self._entries)


def pool_cache(session: AsyncSession | Session, kind: type[C]) -> C | None:
    """The pool's cache of this kind, if the session's pool has one."""
    for value in session.info.values():
        if isinstance(value, kind):
            return value
    return None


_WRITTEN = "pool_caches_written"  # (cache, rows) forgotten at flush, forgotten again at commit


def _caches(session: Session) -> list[PoolCache[Any, Any]]:
    return [value for value in session.info.values() if isinstance(value, PoolCache)]


def _note(session: Session, cache: PoolCache[Any, Any], written: list[Any] | None) -> None:
    cache.forget(written)
    session.info.setdefault(_WRITTEN, []).append((cache, written))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    caches = _caches(session)
    if not caches:
        return
    changed = (*session.new, *session.dirty, *session.deleted)
    for cache in caches:
        written = [obj for obj in changed if isinstance(obj, cache.watches)]
        if written:
            _note(session, cache, written)


@event.listens_for(Session, "do_orm_execute")
def _bulk_written(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    classes = {mapper.class_ for mapper in state.all_mappers}
    for cache in _caches(state.session):
        if classes.intersection(cache.watches):
            _note(state.session, cache, None)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for cache, written in session.info.pop(_WRITTEN, ()):
        cache.forget(written)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
