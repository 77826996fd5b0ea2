"""``GET /metrics``: the process's counters in the Prometheus text format (prometheus_client).

One :class:`Metrics` per application, each with its own ``CollectorRegistry`` (tests build many
applications in one process; nothing is registered globally). The bot side counts into it
(bot/observability.py): updates by type and outcome, handler latency, what Telegram answered to
the messages sent; the scheduler counts the reminders it planned. The queue's depth by status
and the age of its oldest due notification are read from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from models.queue_state import oldest_due_age, queue_counts
from web.context import SESSION_POOL

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
SCRAPE_TIMEOUT_SECONDS = 3.0
# Handler latency buckets, seconds: most updates take milliseconds; a report or chart, seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Every metric of one process, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter(
            "kezdesu_updates",
            "Updates handled, by type (message, callback_query, …) and outcome "
            "(ok, unhandled, error, database_error, storage_error)",
            ["type", "outcome"],
            registry=registry,
        )
        self.update_seconds = Histogram(
            "kezdesu_update_seconds",
            "Time from receiving an update to the end of its handling, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.messages_sent = Counter(
            "kezdesu_telegram_messages_sent",
            "Messages Telegram accepted (send* methods), by method",
            ["method"],
            registry=registry,
        )
        self.retry_after = Counter(
            "kezdesu_telegram_retry_after",
            "429 answers from Telegram (flood control), by method",
            ["method"],
            registry=registry,
        )
        self.forbidden = Counter(
            "kezdesu_telegram_forbidden",
            "403 answers from Telegram (the bot was blocked or removed), by method",
            ["method"],
            registry=registry,
        )
        self.failures = Counter(
            "kezdesu_telegram_failures",
            "Other failed requests to Telegram (400, 5xx, network errors), by method",
            ["method"],
            registry=registry,
        )
        self.reminders_planned = Counter(
            "kezdesu_reminders_planned",
            "Notifications queued by the scheduled jobs, by job",
            ["job"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "kezdesu_queue_depth",
            "Rows of the notification queue, by status (read at each scrape)",
            ["status"],
            registry=registry,
        )
        self.queue_oldest_due = Gauge(
            "kezdesu_queue_oldest_due_seconds",
            "How long the oldest pending notification has been due (0 when none is)",
            registry=registry,
        )

    def planned(self, job: str, queued: int) -> None:
        self.reminders_planned.labels(job=job).inc(queued)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS), request.app[SESSION_POOL]() as session:
            depth = await queue_counts(session)
            age = await oldest_due_age(session, dt.datetime.now(dt.UTC))
        for status, count in depth.items():
            metrics.queue_depth.labels(status=status).set(count)
        metrics.queue_oldest_due.set(age or 0.0)
    except Exception as exc:  # noqa: BLE001 - the counters are still worth serving
        logger.warning("Metrics: could not read the queue: %s: %s", type(exc).__name__, exc)
    response = web.Response(body=metrics.render())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response
