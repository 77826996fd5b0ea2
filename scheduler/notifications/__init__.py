"""Every message the bot sends on its own initiative: rendered here in each recipient's language
and queued (``scheduler/queue.py``) in the same transaction as the change that caused it, with a
unique key, so a change or a job queued twice sends once. The delivery worker
(``scheduler/delivery.py``) sends the rows.

- ``measures``: a measure changed (its followers; on "done" with "is it really done?"), a
  resident disputes a "done" (the department and the akimat), deadline reminders and the
  morning digest (the departments);
- ``questions``: news of a question (its author), support milestones, a question returned by a
  department (the akimat);
- ``meetings``: a meeting created, moved or cancelled, and meeting reminders (the district's
  followers);
- ``announcements``: an announcement (the residents of a district, or everyone).

Who receives what is in ``models/recipients.py``; when scheduled messages are due, in the jobs
(``scheduler/reminders.py``, ``digest.py``, ``meetings.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from models.recipients import Recipient
from scheduler.queue import enqueue_many


@dataclass(frozen=True)
class Outgoing:
    """One message as it will be sent."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | None = None


Render = Callable[[], Outgoing]  # with the recipient's language current


def messages(
    i18n: I18n,
    recipients: Iterable[Recipient],
    render: Render,
    *,
    kind: str,
    key: str | Callable[[Recipient], str],
    not_before: Callable[[Recipient], dt.datetime | None] | None = None,
) -> list[dict[str, Any]]:
    """One message to each recipient, rendered with the recipient's language current (so
    ``render`` uses ``_()`` as a handler does), keyed ``<key>:<recipient.key>`` (or by ``key``
    itself when it is a function of the recipient): the rows
    :func:`scheduler.queue.enqueue_many` takes."""
    rows: list[dict[str, Any]] = []
    for recipient in recipients:
        with i18n.context(), i18n.use_locale(recipient.locale or i18n.default_locale):
            message = render()
        rows.append(
            {
                "chat_id": recipient.chat_id,
                "user_id": recipient.user_id,
                "text": message.text,
                "reply_markup": message.markup,
                "photo": message.photo,
                "is_group": recipient.is_group,
                "kind": kind,
                "dedup_key": key(recipient) if callable(key) else f"{key}:{recipient.key}",
                "not_before": not_before(recipient) if not_before is not None else None,
            }
        )
    return rows


async def queue_each(
    session: AsyncSession,
    i18n: I18n,
    recipients: Iterable[Recipient],
    render: Render,
    *,
    kind: str,
    key: str | Callable[[Recipient], str],
    not_before: Callable[[Recipient], dt.datetime | None] | None = None,
) -> int:
    """Queue :func:`messages`; returns how many were queued (a key queued before is not queued
    again)."""
    rows = messages(i18n, recipients, render, kind=kind, key=key, not_before=not_before)
    return await enqueue_many(session, rows) if rows else 0


def per_locale(render: Render) -> Render:
    """``render`` once per language, for many recipients of the same message."""
    made: dict[str, Outgoing] = {}

    def cached() -> Outgoing:
        locale = current_locale()
        if locale not in made:
            made[locale] = render()
        return made[locale]

    return cached
