"""What the web application holds (aiohttp app keys) and a small time-limited cache for the
few answers that are costly to compute (statistics over many questions)."""

from __future__ import annotations

from aiohttp import web
from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.public import districts
from models.settings import Settings
from models.translation import Translator

SESSION_POOL = web.AppKey("session_pool", async_sessionmaker[AsyncSession])
SETTINGS = web.AppKey("settings", Settings)
I18N = web.AppKey("i18n", Translator)
STATS_CACHE = web.AppKey("stats_cache", TTLCache)
TOTALS_CACHE = web.AppKey("totals_cache", TTLCache)  # a measure filter's total
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
