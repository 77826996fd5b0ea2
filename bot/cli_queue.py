"""Sub-commands of the queue area: ``kezdesu queue`` shows the state of the notification queue;
``kezdesu deliver`` runs a delivery worker alone (no polling, no scheduler)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import signal
import sys
from typing import Any

from sqlalchemy.exc import DBAPIError

from models.db import create_engine, create_session_pool
from models.queue_state import oldest_pending, queue_counts
from models.settings import Settings
from scheduler.delivery import due_now, recent_failures


def register(subparsers: Any) -> None:
    """Adds this area's sub-commands to the ``kezdesu`` command line."""
    p = subparsers.add_parser(
        "queue",
        help="show the notification queue: pending / sent / failed counts, oldest pending age",
    )
    p.set_defaults(handler=show_queue)
    p = subparsers.add_parser(
        "deliver",
        help="run only a delivery worker: send the queued notifications until stopped",
    )
    p.set_defaults(handler=deliver)


async def deliver(settings: Settings, args: argparse.Namespace) -> int:
    """A worker beside the bot processes (or in place of theirs); SIGTERM or Ctrl-C stop it
    after the message in flight. The database must be migrated (``kezdesu migrate``)."""
    from bot.app import create_bot
    from scheduler.delivery import DeliveryWorker

    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    bot = create_bot(settings)
    worker = DeliveryWorker(bot, create_session_pool(engine), settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    try:
        task = worker.start()
        await asyncio.wait(
            [task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        await worker.stop()
    finally:
        await bot.session.close()
        await engine.dispose()
    return 0


def format_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


async def show_queue(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_pool(engine)() as session:
            counts = await queue_counts(session)
            oldest = await oldest_pending(session)
            due = await due_now(session, dt.datetime.now(dt.UTC))
            failures = await recent_failures(session, 5)
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        print(  # noqa: T201
            f"kezdesu: cannot read the queue ({reason}); is DATABASE_URL right, "
            "and was `kezdesu migrate` run?",
            file=sys.stderr,
        )
        return 1
    finally:
        await engine.dispose()
    waiting = counts["pending"] + counts["sending"]
    print(  # noqa: T201
        f"pending: {counts['pending']} (due now: {due}; the rest wait for the end of quiet "
        "hours, a retry or their planned time)\n"
        f"sending: {counts['sending']}\n"
        f"sent: {counts['sent']}\n"
        f"failed: {counts['failed']}\n"
        f"dropped: {counts['dropped']}"
    )
    if oldest is None or not waiting:
        print("oldest pending: none")  # noqa: T201
    else:
        age = (dt.datetime.now(dt.UTC) - oldest).total_seconds()
        print(  # noqa: T201
            f"oldest pending: {format_age(age)} (queued {oldest:%Y-%m-%d %H:%M:%S} UTC)"
        )
    if failures:
        print("latest failures:")  # noqa: T201
        for row in failures:
            error = (row.last_error or "").replace("\n", " ")[:150]
            print(  # noqa: T201
                f"  #{row.id} {row.kind} to {row.chat_id}, {row.attempts} attempts: {error}"
            )
    return 0
