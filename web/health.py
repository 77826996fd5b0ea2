"""``GET /healthz``: 200 when the process can do its work, 503 otherwise, as JSON, for the
process manager, Docker's HEALTHCHECK (``python -m bot.healthcheck``) and the load balancer.

Checked: the database answers; Redis answers (when forms live there); the scheduler runs and the
delivery worker is alive (when the process runs them: the bot does, the web side alone does not);
the oldest due notification has waited no longer than ``HEALTH_QUEUE_MAX_AGE_SECONDS`` (a queue
that no worker drains). Each check is ``"ok"`` or ``"error: …"``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import text

from models.queue_state import oldest_due_age
from web.context import REDIS, SESSION_POOL, SETTINGS

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class BackgroundStatus:
    """The process's background work, as the bot reports it (bot/observability.py)."""

    scheduler: bool
    delivery_worker: bool


# A function telling whether the background work runs; None when this process runs none.
BACKGROUND: web.AppKey[Callable[[], BackgroundStatus | None]] = web.AppKey("background")


async def check_health(app: web.Application) -> dict[str, str]:
    """``{"database": "ok", "redis": "ok", …}``, with the error where a check failed."""
    checks: dict[str, str] = {}
    age: float | None = None
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), app[SESSION_POOL]() as session:
            await session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            age = await oldest_due_age(session, dt.datetime.now(dt.UTC))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        checks.setdefault("database", f"error: {type(exc).__name__}")
    redis: Any = app.get(REDIS)
    if redis is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    probe = app.get(BACKGROUND)
    status = probe() if probe is not None else None
    if status is not None:
        checks["scheduler"] = "ok" if status.scheduler else "error: not running"
        checks["delivery_worker"] = "ok" if status.delivery_worker else "error: not running"
    if checks["database"] == "ok":
        limit = app[SETTINGS].health_queue_max_age_seconds
        if age is not None and age > limit:
            checks["queue"] = f"error: a notification has waited {age:.0f} s (limit {limit:.0f} s)"
        else:
            checks["queue"] = "ok"
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
