"""When the delivery worker may send: its clock and its rate limits.

Token buckets on an injectable clock (``SystemClock`` in the bot, ``VirtualClock`` in tests and
the benchmark, whose sleeps return at once and advance virtual time): ``rate_limit_per_second`` in
total, 1 message per second per private chat, 20 per minute per group chat (one every 3 s), and
nobody at all for the ``retry_after`` of a 429.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable
from typing import Protocol

PRIVATE_INTERVAL = 1.0  # seconds between two messages to one private chat
GROUP_INTERVAL = 3.0  # 20 per minute in a group


class Clock(Protocol):
    """Time for the worker: wall time for the queue, monotonic time and sleep for the limits."""

    def now(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> Awaitable[None]: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class VirtualClock:
    """A clock whose sleeps return at once and advance virtual time (tests and the benchmark).

    Database work and Python code take no virtual time; only the waits the limiter asks for do.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.start = start or dt.datetime.now(dt.UTC)
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.elapsed += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity``; ``capacity=1`` spaces evenly."""

    def __init__(self, rate: float, capacity: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.tokens = capacity
        self.updated = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


class RateLimiter:
    """The global bucket plus one bucket per chat (private: 1/s, group: 20/min)."""

    def __init__(
        self,
        per_second: float,
        clock: Clock,
        *,
        burst: float | None = None,
        private_interval: float = PRIVATE_INTERVAL,
        group_interval: float = GROUP_INTERVAL,
    ) -> None:
        self.clock = clock
        self.global_bucket = TokenBucket(
            per_second, burst if burst is not None else min(3.0, per_second), clock
        )
        self.private_interval = private_interval
        self.group_interval = group_interval
        self._chat_free_at: dict[int, float] = {}  # monotonic time the chat may get a message
        self._blocked_until = 0.0  # after a 429 nobody sends before this

    def chat_delay(self, chat_id: int) -> float:
        return max(0.0, self._chat_free_at.get(chat_id, 0.0) - self.clock.monotonic())

    def busy_chats(self, limit: int = 500) -> list[int]:
        now = self.clock.monotonic()
        for chat in [c for c, t in self._chat_free_at.items() if t <= now]:
            del self._chat_free_at[chat]  # keep the table small
        busy = sorted(self._chat_free_at, key=self._chat_free_at.__getitem__)
        return busy[:limit]

    def next_free(self) -> float:
        """Seconds until the first busy chat frees up (0 when none is busy)."""
        now = self.clock.monotonic()
        return max(0.0, min((t - now for t in self._chat_free_at.values()), default=0.0))

    async def acquire(self, chat_id: int, is_group: bool) -> None:
        """Wait for the global and the chat's token, then spend them."""
        while True:
            wait = max(
                self.global_bucket.delay(),
                self.chat_delay(chat_id),
                self._blocked_until - self.clock.monotonic(),
            )
            if wait <= 0:
                break
            await self.clock.sleep(wait)
        self.global_bucket.take()
        interval = self.group_interval if is_group else self.private_interval
        self._chat_free_at[chat_id] = self.clock.monotonic() + interval

    def penalise(self, seconds: float) -> None:
        """After a 429 nobody sends until it has passed."""
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + seconds)
