"""``GET /healthz``: 200 when the database (and Redis, when forms live there) answer, 503
otherwise, as JSON, for the process manager and the load balancer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

from web.context import REDIS, SESSION_POOL

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT_SECONDS = 3.0


async def check_health(app: web.Application) -> dict[str, str]:
    """``{"database": "ok", "redis": "ok"}``, with the error's name where a check failed."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), app[SESSION_POOL]() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        checks["database"] = f"error: {type(exc).__name__}"
    redis: Any = app.get(REDIS)
    if redis is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks


async def healthz(request: web.Request) -> web.Response:
    checks = await check_health(request.app)
    healthy = all(value == "ok" for value in checks.values())
    if not healthy:
        logger.warning("Health check failed: %s", checks)
    response = web.json_response(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
    response.headers["Cache-Control"] = "no-store"
    return response
