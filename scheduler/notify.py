"""Notifications produced by changes (as opposed to scheduled jobs): each goes into the queue."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.i18n import N_
from bot.labels import status_label
from models.entities import Measure, MeasureUpdate
from models.follows import measure_followers
from models.text import truncate
from scheduler.queue import enqueue

UPDATE_TITLE = N_("🔔 <b>Update on a commitment you follow</b>")
STATUS_LINE = N_("Status: {status}")
PROGRESS_LINE = N_("Progress: {progress}%")
COMMENT_LINE = N_("Comment: {comment}")
OPEN_BUTTON = N_("Open the card")


def render_measure_update(i18n: I18n, locale: str, measure: Measure, update: MeasureUpdate) -> str:
    lines = [
        i18n.gettext(UPDATE_TITLE, locale=locale),
        html.quote(truncate(measure.text, 600)),
        i18n.gettext(STATUS_LINE, locale=locale).format(
            status=status_label(i18n, measure.status, locale)
        ),
    ]
    if update.progress is not None:
        lines.append(i18n.gettext(PROGRESS_LINE, locale=locale).format(progress=update.progress))
    if update.comment:
        lines.append(
            i18n.gettext(COMMENT_LINE, locale=locale).format(
                comment=html.quote(truncate(update.comment, 1500))
            )
        )
    return "\n".join(lines)


async def notify_measure_followers(
    session: AsyncSession,
    i18n: I18n,
    measure: Measure,
    update: MeasureUpdate,
    *,
    exclude_user_id: int | None = None,
) -> int:
    """One queued message per follower of the measure (in each follower's language)."""
    count = 0
    for follower in await measure_followers(session, measure.id):
        if follower.id == exclude_user_id:
            continue
        locale = follower.locale or i18n.default_locale
        keyboard = InlineKeyboardBuilder()
        keyboard.button(
            text=i18n.gettext(OPEN_BUTTON, locale=locale),
            callback_data=OpenMeasureCb(id=measure.id),
        )
        queued = await enqueue(
            session,
            chat_id=follower.tg_id,
            user_id=follower.id,
            text=render_measure_update(i18n, locale, measure, update),
            kind="measure_update",
            dedup_key=f"measure-update:{update.id}:{follower.id}",
            reply_markup=keyboard.as_markup(),
        )
        count += int(queued)
    return count
