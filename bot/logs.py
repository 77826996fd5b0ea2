"""Logging of the process: plain lines, or with ``LOG_FORMAT=json`` one JSON object per line on
stderr, each carrying the id of the Telegram update being handled (``update_id``, set by
:class:`UpdateLogContext`, an outer middleware) so a log collector can group an update's lines.

What is logged at INFO and above never includes what a person typed or a Telegram id (user or
chat): those go to DEBUG, or the log names our own row id instead (a notification's, a user's).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TextIO

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

current_update_id: ContextVar[int | None] = ContextVar("kezdesu_update_id", default=None)


class UpdateContext(logging.Filter):
    """Puts the id of the update being handled (if any) on every record as ``update_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = current_update_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, update_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            entry["update_id"] = update_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """The handler the process logs through (``stream``: stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(UpdateContext())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    return handler


def configure_logging(level: str, log_format: str) -> None:
    logging.basicConfig(level=level, handlers=[log_handler(log_format)])


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateLogContext(BaseMiddleware):
    """Outer ``update`` middleware, the first: the update's id for every log line written while
    the update is handled."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        token = current_update_id.set(event.update_id if isinstance(event, Update) else None)
        try:
            return await handler(event, data)
        finally:
            current_update_id.reset(token)
