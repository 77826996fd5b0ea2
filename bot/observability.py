"""What the bot reports to ``/metrics`` and ``/healthz`` (web/metrics.py, web/health.py).

- :class:`UpdateMetricsMiddleware`, the first outer ``dp.update`` middleware: every update is
  counted by type and outcome, its handling timed. The outcome is what the inner layers wrote
  in the update's data under :data:`bot.middlewares.OUTCOME` (they answer errors themselves, so
  no exception reaches this layer), or ``unhandled`` when no handler took the update.
- :class:`TelegramMetricsMiddleware`, a request middleware of the Bot: what Telegram answered to
  every request (messages sent, 429, 403, other failures), whoever made it (handlers, the
  delivery worker, an announcement).
- :func:`background_status`: whether the scheduler and the delivery worker of this process run.
"""

from __future__ import annotations

import time
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.middlewares import OUTCOME, Handler
from scheduler.runtime import RUNTIME_KEY, Background
from web.health import BackgroundStatus
from web.metrics import Metrics

METRICS_KEY = "metrics"


class UpdateMetricsMiddleware:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = _kind(event)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else str(data.get(OUTCOME, "ok"))
            return result
        finally:
            self.metrics.update_seconds.labels(type=kind).observe(time.perf_counter() - started)
            self.metrics.updates.labels(type=kind, outcome=outcome).inc()


def _kind(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return "unknown"
    try:
        return event.event_type
    except UpdateTypeLookupError:  # a type newer than aiogram: aiogram skips it with a warning
        return "unknown"


class TelegramMetricsMiddleware(BaseRequestMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = type(method).__name__
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.metrics.retry_after.labels(method=name).inc()
            raise
        except TelegramForbiddenError:
            self.metrics.forbidden.labels(method=name).inc()
            raise
        except Exception:
            self.metrics.failures.labels(method=name).inc()
            raise
        if name.startswith(("Send", "Copy", "Forward")) and name != "SendChatAction":
            self.metrics.messages_sent.labels(method=name).inc()
        return response


def instrument_bot(bot: Bot, metrics: Metrics) -> None:
    """Count this Bot's requests into ``metrics`` (once per Bot)."""
    if not any(isinstance(m, TelegramMetricsMiddleware) for m in bot.session.middleware[:]):
        bot.session.middleware(TelegramMetricsMiddleware(metrics))


def background_status(dp: Dispatcher) -> BackgroundStatus | None:
    """None when this Dispatcher runs no background work (``run_background=False``)."""
    if not dp.workflow_data.get("run_background", True):
        return None
    background = dp.workflow_data.get(RUNTIME_KEY)
    if not isinstance(background, Background):
        return BackgroundStatus(scheduler=False, delivery_worker=False)  # not started (yet)
    return BackgroundStatus(
        scheduler=background.scheduler.running, delivery_worker=background.worker_alive
    )
