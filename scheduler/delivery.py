"""The delivery worker: drains the ``notifications`` queue into Telegram, within its limits.

One worker (an asyncio task) runs in every bot process; several processes may run at once against
one database.

**Claiming.** The worker reads a batch of due candidates (``status = pending`` and
``not_before <= now``, oldest first, skipping chats that are still cooling down) and then claims
them *one at a time*, right before sending each: a conditional ``UPDATE … SET status = 'sending',
claimed_by, claimed_at WHERE id = :id AND status = 'pending'`` whose row count says whether this
worker won the row. On PostgreSQL the row is picked through ``SELECT … FOR UPDATE SKIP LOCKED`` so a
worker skips a row another worker is claiming instead of waiting for it; on SQLite the database
lock serialises the two updates and the loser sees a row count of 0. Either way a row is sent by one
worker only.

**Durability.** A row is marked ``sent`` (with ``sent_at``) in its own transaction right after
Telegram accepts it. A stop or a cancelled task finishes the one message in flight (send and
record) before exiting, and a claimed row whose send had not begun is put back to ``pending``, so a
restart loses nothing. A claim is a *lease* (``lease_until``, ``DELIVERY_LEASE_SECONDS``, 30 s by
default) that the living worker renews every third of it for the rows it holds; if the *process
dies* (killed, power loss) its lease runs out and any worker (itself after a restart) puts the
row back to ``pending``, checking every half lease: within a minute. **The one window for a
duplicate** is a process dying after Telegram accepted a message and before the row was marked
sent: since each worker claims and sends one row at a time, that is at most one message per worker
per crash.

**Rate limits** (token buckets on an injectable clock, ``scheduler.pacing``):
``rate_limit_per_second`` in total (25/s by default, burst of 3, so no one-second window sees
more than 28 while Telegram allows about 30), 1 message per second per private chat and 20 per
minute per group chat (one every 3 s).

**Errors.** 429: wait ``retry_after`` and send the same message again (not a failure). 403, or 400
"chat not found": the user (``User.reachable``) or the department chat (``DepartmentChat.
reachable``) is marked unreachable and all its pending messages are ``dropped``. A group upgraded to
a supergroup (``migrate_to_chat_id``) moves the department chat and its queue to the new id. Any
other 400 is the message's own fault (bad HTML, too long): ``failed`` at once, the error kept.
5xx, network errors and anything unexpected: retried with exponential backoff (``not_before``
pushed 5 s, 10 s, 20 s … up to an hour) and ``failed`` with ``last_error`` after ``max_attempts``.

**Quiet hours.** Rows with ``quiet_hours`` (private messages to residents) for users who did not opt
into night pushes (``User.night_pushes``) are not sent between ``quiet_hours_start`` and
``quiet_hours_end`` local time (22:00–08:00 Asia/Almaty): one ``UPDATE`` moves their ``not_before``
to the end of the quiet hours, so the worker sleeps instead of polling them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import DepartmentChat, Notification, NotificationStatus, User
from models.settings import Settings
from scheduler.pacing import Clock, RateLimiter, SystemClock

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_INLINE_RETRY_AFTER = 120.0  # longer 429 waits put the row back with not_before instead


@dataclass
class Candidate:
    id: int
    chat_id: int
    is_group: bool


@dataclass
class Row:
    id: int
    chat_id: int
    is_group: bool
    text: str
    reply_markup: str | None
    photo: str | None
    attempts: int


@dataclass
class WorkerStats:
    sent: int = 0
    retried_after_429: int = 0
    transient_errors: int = 0
    failed: int = 0
    dropped: int = 0
    held_for_quiet_hours: int = 0
    released_stale: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Outcome:
    retry_after: float | None = None
    migrated_to: int | None = None


def is_quiet(moment: dt.datetime, tz: ZoneInfo, start: int, end: int) -> bool:
    """Whether ``moment`` falls into the quiet hours [start, end) local time (may wrap midnight)."""
    if start == end:
        return False
    hour = moment.astimezone(tz).hour
    return start <= hour < end if start < end else (hour >= start or hour < end)


def quiet_hours_end(moment: dt.datetime, tz: ZoneInfo, end: int) -> dt.datetime:
    """The next local ``end``:00 after ``moment``, in UTC."""
    local = moment.astimezone(tz)
    candidate = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + dt.timedelta(days=1)).replace(
            hour=end, minute=0, second=0, microsecond=0
        )
    return candidate.astimezone(dt.UTC)


def daytime(moment: dt.datetime, settings: Settings) -> dt.datetime:
    """``moment`` itself, or the end of the quiet hours when it falls into them (for groups)."""
    if is_quiet(moment, settings.tz, settings.quiet_hours_start, settings.quiet_hours_end):
        return quiet_hours_end(moment, settings.tz, settings.quiet_hours_end)
    return moment


def _worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    def __init__(
        self,
        bot: Bot,
        session_pool: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        batch_size: int = 100,
        idle_interval: float = 1.0,
        max_attempts: int = 6,
        backoff_base: float = 5.0,
        backoff_cap: float = 3600.0,
        lease: float | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.bot = bot
        self.session_pool = session_pool
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.limiter = limiter or RateLimiter(settings.rate_limit_per_second, self.clock)
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.lease = lease if lease is not None else settings.delivery_lease_seconds
        self.worker_id = worker_id or _worker_id()
        self.stats = WorkerStats()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._last_stale_check: float | None = None
        self._last_summary_at: float | None = None
        self._last_summary = self._summary()
        self._dialect: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="kezdesu-delivery")
        return self._task

    async def stop(self, grace: float = 30.0) -> None:
        """Finish the message in flight, then stop."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, grace)
        except TimeoutError:
            logger.warning("Delivery worker did not stop in %.0f s; cancelled it", grace)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise

    async def run(self) -> None:
        logger.info("Delivery worker %s started", self.worker_id)
        self._renewer = asyncio.create_task(self._renew_leases(), name="kezdesu-delivery-lease")
        try:
            await self._run()
        finally:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def _renew_leases(self) -> None:
        """While this worker lives, the rows it holds stay its own (a long 429 wait, a slow
        Telegram): every third of the lease, their ``lease_until`` moves on."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.renew_leases()
            except Exception:  # the database is away: the next round tries again
                logger.warning("Could not renew the delivery leases", exc_info=True)

    async def renew_leases(self) -> int:
        async with self.session_pool() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.status == NotificationStatus.SENDING,
                    Notification.claimed_by == self.worker_id,
                )
                .values(lease_until=self._lease_end())
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def _lease_end(self) -> dt.datetime:
        return self.clock.now() + dt.timedelta(seconds=self.lease)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            pause = self.idle_interval
            try:
                more = await self.step()
                failures = 0
            except Exception:  # the database is away, say: log, back off, try again
                failures += 1
                pause = min(60.0, self.idle_interval * 2**failures)
                logger.exception("Delivery worker step failed; retrying in %.0f s", pause)
                more = False
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)
        logger.info("Delivery worker %s stopped: %s", self.worker_id, self._summary())

    async def drain(self, max_steps: int = 1_000_000) -> WorkerStats:
        """Send everything that is due now (tests, the benchmark): returns when nothing is."""
        for _ in range(max_steps):
            if not await self.step():
                break
        return self.stats

    def _summary(self) -> str:
        s = self.stats
        return (
            f"sent={s.sent} retried_429={s.retried_after_429} transient={s.transient_errors} "
            f"failed={s.failed} dropped={s.dropped}"
        )

    # ---- one pass --------------------------------------------------------------------------

    async def step(self) -> bool:
        """Send what is due; True while there may be more due work right away."""
        await self._release_stale_if_due()
        await self._hold_for_quiet_hours()
        busy = self.limiter.busy_chats()
        candidates = await self._candidates(busy)
        if not candidates:
            # Rows may be waiting for a chat that is cooling down.
            if busy and await self._has_due():
                await self.clock.sleep(max(self.limiter.next_free(), 0.01))
                return True
            return False
        for candidate in candidates:
            if self._stopping.is_set():
                return False
            if self.limiter.chat_delay(candidate.chat_id) > 0:
                continue  # a second message to a chat served in this batch: next pass
            await self.limiter.acquire(candidate.chat_id, candidate.is_group)
            await self._process(candidate)
        return True

    async def _process(self, candidate: Candidate) -> None:
        row = await _shielded(self._claim(candidate.id))
        if row is None:
            return
        while True:
            outcome = await _shielded(self._attempt(row))
            if outcome.migrated_to is not None:
                row.chat_id = outcome.migrated_to
                continue
            if outcome.retry_after is None:
                return
            self.stats.retried_after_429 += 1
            try:
                if outcome.retry_after > MAX_INLINE_RETRY_AFTER:
                    await _shielded(self._release(row.id, outcome.retry_after))
                    return
                self.limiter.penalise(outcome.retry_after)
                await self.clock.sleep(outcome.retry_after)
                await self.limiter.acquire(row.chat_id, row.is_group)
            except asyncio.CancelledError:
                await _shielded(self._release(row.id, 0))
                raise

    # ---- database --------------------------------------------------------------------------

    async def _dialect_name(self, session: AsyncSession) -> str:
        if self._dialect is None:
            bind = session.get_bind()
            self._dialect = bind.dialect.name
        return self._dialect

    async def _candidates(self, busy: list[int]) -> list[Candidate]:
        now = self.clock.now()
        query = (
            select(Notification.id, Notification.chat_id, Notification.is_group)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.not_before <= now,
            )
            .order_by(Notification.not_before, Notification.id)
            .limit(self.batch_size)
        )
        if busy:
            query = query.where(Notification.chat_id.not_in(busy))
        async with self.session_pool() as session:
            rows = (await session.execute(query)).all()
        return [Candidate(id=r.id, chat_id=r.chat_id, is_group=r.is_group) for r in rows]

    async def _has_due(self) -> bool:
        now = self.clock.now()
        async with self.session_pool() as session:
            found = await session.execute(
                select(Notification.id)
                .where(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.not_before <= now,
                )
                .limit(1)
            )
            return found.first() is not None

    async def _claim(self, row_id: int) -> Row | None:
        now = self.clock.now()
        async with self.session_pool() as session:
            condition = and_(
                Notification.id == row_id,
                Notification.status == NotificationStatus.PENDING,
                Notification.not_before <= now,
            )
            if await self._dialect_name(session) == "postgresql":
                # Skip a row another worker is claiming right now instead of waiting for it.
                picked = (
                    select(Notification.id)
                    .where(condition)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
                condition = Notification.id == picked
            result = await session.execute(
                update(Notification)
                .where(condition)
                .values(
                    status=NotificationStatus.SENDING,
                    claimed_by=self.worker_id,
                    claimed_at=now,
                    lease_until=now + dt.timedelta(seconds=self.lease),
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                await session.rollback()
                return None
            data = (
                await session.execute(
                    select(
                        Notification.id,
                        Notification.chat_id,
                        Notification.is_group,
                        Notification.text,
                        Notification.reply_markup,
                        Notification.photo,
                        Notification.attempts,
                    ).where(Notification.id == row_id)
                )
            ).one()
            await session.commit()
        return Row(
            id=data.id,
            chat_id=data.chat_id,
            is_group=data.is_group,
            text=data.text,
            reply_markup=data.reply_markup,
            photo=data.photo,
            attempts=data.attempts,
        )

    async def _set(self, row_id: int, **values: Any) -> None:
        async with self.session_pool() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == row_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _release(self, row_id: int, delay: float) -> None:
        """Give a claimed row back to the queue (nothing was sent)."""
        await self._set(
            row_id,
            status=NotificationStatus.PENDING,
            claimed_by=None,
            claimed_at=None,
            lease_until=None,
            not_before=self.clock.now() + dt.timedelta(seconds=delay),
        )

    async def release_stale(self) -> int:
        """Claims whose lease ran out (their process died) go back to ``pending``. A claim made
        before leases existed has none: it is judged by its age."""
        now = self.clock.now()
        cutoff = now - dt.timedelta(seconds=self.lease)
        async with self.session_pool() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.status == NotificationStatus.SENDING,
                    or_(
                        Notification.lease_until < now,
                        Notification.lease_until.is_(None)
                        & or_(Notification.claimed_at.is_(None), Notification.claimed_at < cutoff),
                    ),
                )
                .values(
                    status=NotificationStatus.PENDING,
                    claimed_by=None,
                    claimed_at=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            logger.warning("Released %d stale delivery claims", count)
            self.stats.released_stale += count
        return count

    async def _release_stale_if_due(self) -> None:
        now = self.clock.monotonic()
        if self._last_stale_check is None or now - self._last_stale_check >= self.lease / 2:
            self._last_stale_check = now
            await self.release_stale()
        if self._last_summary_at is None or now - self._last_summary_at >= 60:
            self._last_summary_at = now
            summary = self._summary()
            if summary != self._last_summary:  # once a minute, when something happened
                self._last_summary = summary
                logger.info("Delivery worker %s so far: %s", self.worker_id, summary)

    async def _hold_for_quiet_hours(self) -> None:
        s = self.settings
        now = self.clock.now()
        if not is_quiet(now, s.tz, s.quiet_hours_start, s.quiet_hours_end):
            return
        end = quiet_hours_end(now, s.tz, s.quiet_hours_end)
        night_owls = select(User.id).where(User.night_pushes.is_(True))
        async with self.session_pool() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.quiet_hours.is_(True),
                    Notification.not_before < end,
                    or_(Notification.user_id.is_(None), Notification.user_id.not_in(night_owls)),
                )
                .values(not_before=end)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            logger.info("Holding %d messages until the quiet hours end at %s", count, end)
            self.stats.held_for_quiet_hours += count

    # ---- sending ---------------------------------------------------------------------------

    async def _attempt(self, row: Row) -> _Outcome:
        """Send once and record the result; returns what the caller must still do."""
        try:
            await self._send(row)
        except TelegramRetryAfter as exc:
            logger.warning("429 for notification %s: retrying in %s s", row.id, exc.retry_after)
            return _Outcome(retry_after=float(exc.retry_after))
        except TelegramMigrateToChat as exc:
            await self._migrate_chat(row.chat_id, exc.migrate_to_chat_id)
            return _Outcome(migrated_to=exc.migrate_to_chat_id)
        except TelegramForbiddenError as exc:
            await self._unreachable(row, exc.message)
            return _Outcome()
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable(row, exc.message)
            else:
                await self._fail(row, f"400: {exc.message}")
            return _Outcome()
        except TelegramAPIError as exc:
            await self._transient(row, f"{type(exc).__name__}: {exc.message}")
            return _Outcome()
        except Exception as exc:  # noqa: BLE001 - any failure of one message must not stop the queue
            await self._transient(row, f"{type(exc).__name__}: {exc}")
            return _Outcome()
        await self._set(
            row.id,
            status=NotificationStatus.SENT,
            sent_at=self.clock.now(),
            last_error=None,
        )
        self.stats.sent += 1
        return _Outcome()

    async def _send(self, row: Row) -> None:
        markup = (
            InlineKeyboardMarkup.model_validate_json(row.reply_markup) if row.reply_markup else None
        )
        if row.photo:
            await self.bot(
                SendPhoto(
                    chat_id=row.chat_id,
                    photo=row.photo,
                    caption=row.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )
        else:
            await self.bot(
                SendMessage(
                    chat_id=row.chat_id,
                    text=row.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )

    async def _fail(self, row: Row, error: str) -> None:
        logger.error("Notification %s failed for good: %s", row.id, error)
        await self._set(
            row.id,
            status=NotificationStatus.FAILED,
            attempts=row.attempts + 1,
            last_error=error[:2000],
            claimed_by=None,
        )
        self.stats.failed += 1

    async def _transient(self, row: Row, error: str) -> None:
        attempts = row.attempts + 1
        self.stats.transient_errors += 1
        self.stats.errors.append(error)
        if attempts >= self.max_attempts:
            await self._fail(row, error)
            return
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempts - 1))
        logger.warning(
            "Notification %s: %s; attempt %d, retrying in %.0f s", row.id, error, attempts, delay
        )
        await self._set(
            row.id,
            status=NotificationStatus.PENDING,
            attempts=attempts,
            last_error=error[:2000],
            claimed_by=None,
            claimed_at=None,
            not_before=self.clock.now() + dt.timedelta(seconds=delay),
        )

    async def _unreachable(self, row: Row, error: str) -> None:
        """Blocked, kicked or gone: mark the recipient unreachable and drop its queue."""
        async with self.session_pool() as session:
            if row.is_group or row.chat_id < 0:
                await session.execute(
                    update(DepartmentChat)
                    .where(DepartmentChat.chat_id == row.chat_id)
                    .values(reachable=False)
                    .execution_options(synchronize_session=False)
                )
            else:
                await session.execute(
                    update(User)
                    .where(User.tg_id == row.chat_id)
                    .values(reachable=False)
                    .execution_options(synchronize_session=False)
                )
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.chat_id == row.chat_id,
                    or_(
                        Notification.status == NotificationStatus.PENDING,
                        Notification.id == row.id,
                    ),
                )
                .values(status=NotificationStatus.DROPPED, last_error=error[:2000], claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        dropped = int(getattr(result, "rowcount", 0) or 0)
        self.stats.dropped += dropped
        # the chat's Telegram id only at DEBUG: INFO logs carry no person's id
        logger.debug("Chat %s is unreachable", row.chat_id)
        logger.info(
            "Notification %s: chat unreachable (%s); %d messages dropped", row.id, error, dropped
        )

    async def _migrate_chat(self, old: int, new: int) -> None:
        """A group became a supergroup: follow it to its new id."""
        async with self.session_pool() as session:
            await session.execute(
                update(DepartmentChat)
                .where(DepartmentChat.chat_id == old)
                .values(chat_id=new)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(Notification)
                .where(Notification.chat_id == old, Notification.status.in_(("pending", "sending")))
                .values(chat_id=new)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        logger.debug("Group %s migrated to supergroup %s", old, new)
        logger.info("A department group became a supergroup; its chat and queue moved")


async def _shielded(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion even if the caller is cancelled meanwhile, then re-raise.

    Used around "claim", "send + record" and "release": a stop never leaves a message sent but
    unrecorded, or a row claimed by a worker that is gone.
    """
    task = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            with contextlib.suppress(Exception):
                await task
        raise


async def due_now(session: AsyncSession, now: dt.datetime) -> int:
    """Pending rows whose time has come (the rest wait for quiet hours, a retry or a date)."""
    result = await session.execute(
        select(func.count()).where(
            Notification.status == NotificationStatus.PENDING, Notification.not_before <= now
        )
    )
    return int(result.scalar() or 0)


async def recent_failures(session: AsyncSession, limit: int) -> list[Notification]:
    """The latest rows that failed for good, with their kept error."""
    result = await session.execute(
        select(Notification)
        .where(Notification.status == NotificationStatus.FAILED)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(result.scalars())
