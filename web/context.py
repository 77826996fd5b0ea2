"""What the web application holds (aiohttp app keys) and a small time-limited cache for the
few answers that are costly to compute (statistics over many questions)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.public import districts
from models.settings import Settings
from models.translation import Translator


class TimedCache:
    """Values by key for ``ttl`` seconds, the least recently used dropped beyond ``size``."""

    def __init__(self, ttl: float, size: int = 256) -> None:
        self.ttl = ttl
        self.size = size
        self.entries: OrderedDict[object, tuple[float, Any]] = OrderedDict()

    def get(self, key: object) -> Any | None:
        entry = self.entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            self.entries.pop(key, None)
            return None
        self.entries.move_to_end(key)
        return entry[1]

    def put(self, key: object, value: Any) -> None:
        self.entries[key] = (time.monotonic(), value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


SESSION_POOL = web.AppKey("session_pool", async_sessionmaker[AsyncSession])
SETTINGS = web.AppKey("settings", Settings)
I18N = web.AppKey("i18n", Translator)
STATS_CACHE = web.AppKey("stats_cache", TimedCache)
TOTALS_CACHE = web.AppKey("totals_cache", TimedCache)  # a measure filter's total
# District slugs by code: reference data, read once (the card names its district by code).
DISTRICT_SLUGS = web.AppKey("district_slugs", dict[str, str])
# A ``redis.asyncio.Redis`` when forms live in Redis (the health check pings it), else None.
REDIS = web.AppKey("redis", object)


def base_url(request: web.Request) -> str:
    """WEB_PUBLIC_URL when set, else the address the request came to."""
    public = request.app[SETTINGS].web_public_url
    return public or f"{request.scheme}://{request.host}"


async def district_slug(request: web.Request, session: AsyncSession, code: str) -> str:
    slugs = request.app[DISTRICT_SLUGS]
    if code not in slugs:
        slugs.update({district.code: district.slug for district in await districts(session)})
    return slugs.get(code, "")
