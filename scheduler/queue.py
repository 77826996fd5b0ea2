"""Producing notifications: every message the bot sends on its own initiative is a row here.

Producers call :func:`enqueue` inside their own transaction; the delivery worker sends the rows.
A ``dedup_key`` makes producers idempotent: enqueueing the same key twice (a job that ran twice,
two replicas) inserts one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.entities import Notification, NotificationStatus

MAX_TEXT = 4096


def _values(
    *,
    chat_id: int,
    text: str,
    kind: str,
    user_id: int | None = None,
    dedup_key: str | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
    photo: str | None = None,
    is_group: bool = False,
    quiet_hours: bool = True,
    not_before: dt.datetime | None = None,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "chat_id": chat_id,
        "user_id": user_id,
        "text": text[: 1024 if photo else MAX_TEXT],
        "kind": kind,
        "dedup_key": dedup_key,
        "reply_markup": reply_markup.model_dump_json(exclude_none=True) if reply_markup else None,
        "photo": photo,
        "is_group": is_group,
        "quiet_hours": quiet_hours and not is_group,
        "status": NotificationStatus.PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    text: str,
    kind: str,
    user_id: int | None = None,
    dedup_key: str | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
    photo: str | None = None,
    is_group: bool = False,
    quiet_hours: bool = True,
    not_before: dt.datetime | None = None,
) -> bool:
    """Queue one message; returns False when ``dedup_key`` was already queued."""
    values = _values(
        chat_id=chat_id,
        text=text,
        kind=kind,
        user_id=user_id,
        dedup_key=dedup_key,
        reply_markup=reply_markup,
        photo=photo,
        is_group=is_group,
        quiet_hours=quiet_hours,
        not_before=not_before,
    )
    if dedup_key is None:
        await session.execute(insert(Notification).values(**values))
        return True
    stmt = (
        _insert_ignoring_duplicates(session)(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 1))


async def enqueue_many(
    session: AsyncSession, messages: Iterable[Mapping[str, Any]], *, batch: int = 500
) -> int:
    """Queue many messages (each a mapping of :func:`enqueue`'s keyword arguments) in multi-row
    inserts of up to ``batch`` rows; a ``dedup_key`` already queued (or repeated in
    ``messages``) is skipped as by :func:`enqueue`. Returns how many rows were inserted."""
    rows = [_values(**message) for message in messages]
    # one statement, executed for many rows: SQLAlchemy sends them as multi-row inserts
    # ("insertmanyvalues"), and a compiled statement is cached once, not once per row count
    stmt = (
        _insert_ignoring_duplicates(session)(Notification)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Notification.id)
    )
    inserted = 0
    for start in range(0, len(rows), batch):
        result = await session.execute(stmt, rows[start : start + batch])
        inserted += len(result.all())  # a duplicate key returns no row
    return inserted


async def queued_keys(session: AsyncSession, keys: Iterable[str], *, batch: int = 1000) -> set[str]:
    """Which of ``keys`` are queued already (any status): a planner that renders many messages
    skips those before rendering them (the unique index answers each lookup)."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        rows = await session.execute(
            select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk))
        )
        found.update(key for key in rows.scalars() if key is not None)
    return found
