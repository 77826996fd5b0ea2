"""Followers hear when a promise slips: the scheduled part of what followers are told.

- **Overdue.** The day after a followed measure's due date, while it is open (planned or in
  progress), each of its followers gets one message, keyed
  ``follow-overdue:<measure>:<due date>:u<user>``. A run after downtime catches up on measures
  that slipped up to ``CATCH_UP_DAYS`` ago; a measure followed when it was already overdue is not
  told (the card said so). Done and cancelled measures, and measures with no due date, get
  nothing; a new due date (a corrected plan) re-arms it.
- **Monthly summary.** On the first days of each month (until ``SUMMARY_DAYS``, so a bot that
  was down on the 1st still sends it), each follower who keeps it on (⚙️ Settings) and has
  followed measures still overdue gets one summary of them, with days late and the latest
  update, keyed ``follow-summary:<year-month>:u<user>``.

Only reachable people; private messages, so the quiet hours hold them until morning. The job
runs daily at 10:00 Asia/Almaty and once at start; running it twice, late, or on two replicas
queues each message once (the keys).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from models.followers import followed_measures, newly_overdue, overdue_by_follower
from models.settings import Settings
from scheduler.notifications.followers import measure_overdue, summary_key, summary_rows
from scheduler.queue import enqueue_many, queued_keys

logger = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
SUMMARY_DAYS = 7
CHUNK = 200  # followers whose summaries are rendered and queued at a time


@dataclass
class FollowerRun:
    overdue_measures: int = 0
    summaries: int = 0
    queued: int = 0


async def plan_follower_news(
    session: AsyncSession, i18n: I18n, settings: Settings, now: dt.datetime
) -> FollowerRun:
    """Queue the overdue notices and (early in the month) the summaries due at ``now`` (the
    caller commits)."""
    run = FollowerRun()
    today = now.astimezone(settings.tz).date()
    slipped = await newly_overdue(session, today, settings.tz, CATCH_UP_DAYS)
    if slipped:
        items = await followed_measures(session, [m for m, _due, _f in slipped], today)
        for measure_id, _due, people in slipped:
            run.overdue_measures += 1
            run.queued += await measure_overdue(session, i18n, items[measure_id], people, today)
    if today.day <= SUMMARY_DAYS:
        followers = await overdue_by_follower(session, today)
        sent = await queued_keys(session, (summary_key(today, r) for r, _ids in followers))
        followers = [(r, ids) for r, ids in followers if summary_key(today, r) not in sent]
        for start in range(0, len(followers), CHUNK):  # a city's summaries, a chunk at a time
            chunk = followers[start : start + CHUNK]
            items = await followed_measures(
                session, {m for _r, ids in chunk for m in ids}, today, latest=True
            )
            rows = []
            for recipient, measure_ids in chunk:
                run.summaries += 1
                rows += summary_rows(i18n, recipient, [items[m] for m in measure_ids], today)
            run.queued += await enqueue_many(session, rows)
    return run
