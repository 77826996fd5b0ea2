"""Notifications produced by changes (as opposed to scheduled jobs): each goes into the queue."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.labels import question_label, status_label
from models.entities import Measure, MeasureUpdate, Question, QuestionStatus, User
from models.follows import measure_followers
from models.text import truncate
from models.translation import N_
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


QUESTION_TITLE = N_("🗂 <b>Your question {ref} has news</b>")
QUESTION_STATUS_LINE = N_("Status: {status}")
QUESTION_REASON_LINE = N_("Reason: {reason}")
QUESTION_ANSWER_LINE = N_("Answer: {answer}")
QUESTION_MERGED_LINE = N_(
    "A similar question was asked earlier; follow {ref} in «My questions» for the answer."
)


def render_question_news(i18n: I18n, locale: str, question: Question, merged_ref: str = "") -> str:
    ref = html.quote(question.ref or f"#{question.id}")
    lines = [
        i18n.gettext(QUESTION_TITLE, locale=locale).format(ref=ref),
        f"<i>{html.quote(truncate(question.text, 300))}</i>",
        i18n.gettext(QUESTION_STATUS_LINE, locale=locale).format(
            status=question_label(i18n, question.status, locale)
        ),
    ]
    if question.status == QuestionStatus.REJECTED and question.reject_reason:
        lines.append(
            i18n.gettext(QUESTION_REASON_LINE, locale=locale).format(
                reason=html.quote(truncate(question.reject_reason, 1000))
            )
        )
    if question.status == QuestionStatus.MERGED and merged_ref:
        lines.append(
            i18n.gettext(QUESTION_MERGED_LINE, locale=locale).format(ref=html.quote(merged_ref))
        )
    if question.answer:
        lines.append(
            i18n.gettext(QUESTION_ANSWER_LINE, locale=locale).format(
                answer=html.quote(truncate(question.answer, 2500))
            )
        )
    return "\n".join(lines)


async def notify_question_author(
    session: AsyncSession, i18n: I18n, question: Question, *, event: str, merged_ref: str = ""
) -> bool:
    """Queue "your question has news" to its author (after a status change or an answer).

    ``event`` names the change (``accepted``, ``rejected``, ``answered``, ``merged``…); together
    with the question id and the status it is the dedup key, so a double tap queues one message.
    Anonymised questions (author forgot) and unreachable authors get nothing.
    """
    if question.author_id is None:
        return False
    author = await session.get(User, question.author_id)
    if author is None or not author.reachable:
        return False
    locale = author.locale or i18n.default_locale
    stamp = int(question.updated_at.timestamp()) if question.updated_at else 0
    return await enqueue(
        session,
        chat_id=author.tg_id,
        user_id=author.id,
        text=render_question_news(i18n, locale, question, merged_ref),
        kind="question_news",
        dedup_key=f"question:{question.id}:{event}:{question.status}:{stamp}",
    )
