"""Messages about residents' questions: news to the author (accepted, rejected, merged,
answered), support milestones, and a question a department returned, to the akimat."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.i18n import current_locale
from bot.keyboards.builder import Keyboard
from bot.labels import question_label
from models.entities import Department, Question, QuestionStatus, User
from models.recipients import Recipient, admin_recipients
from models.text import truncate
from models.translation import N_
from scheduler.notifications import Outgoing, queue_each

QUESTION_TITLE = N_("🗂 <b>Your question {ref} has news</b>")
QUESTION_STATUS_LINE = N_("Status: {status}")
QUESTION_REASON_LINE = N_("Reason: {reason}")
QUESTION_ANSWER_LINE = N_("Answer: {answer}")
QUESTION_MERGED_LINE = N_(
    "A similar question was asked earlier; follow {ref} in «My questions» for the answer."
)
MILESTONE_TEXT = N_(
    "👍 Your question {ref} has been supported by {count} residents.\n<i>{text}</i>"
)
RETURNED_TITLE = N_("↪️ <b>{department} returned question {ref} for reassignment</b>")
MODERATION_BUTTON = N_("🗂 Moderation")


def _ref(question: Question) -> str:
    return html.quote(question.ref or f"#{question.id}")


async def _author(session: AsyncSession, question: Question) -> list[Recipient]:
    """The question's author, if the question still has one (not anonymised) and they are
    reachable."""
    if question.author_id is None:
        return []
    author = await session.get(User, question.author_id)
    return [Recipient.of(author)] if author is not None and author.reachable else []


def render_question_news(i18n: I18n, question: Question, merged_ref: str = "") -> str:
    """The question's status (and reason or answer), in the current language."""
    lines = [
        _(QUESTION_TITLE).format(ref=_ref(question)),
        f"<i>{html.quote(truncate(question.text, 300))}</i>",
        _(QUESTION_STATUS_LINE).format(
            status=question_label(i18n, question.status, current_locale())
        ),
    ]
    if question.status == QuestionStatus.REJECTED and question.reject_reason:
        lines.append(
            _(QUESTION_REASON_LINE).format(
                reason=html.quote(truncate(question.reject_reason, 1000))
            )
        )
    if question.status == QuestionStatus.MERGED and merged_ref:
        lines.append(_(QUESTION_MERGED_LINE).format(ref=html.quote(merged_ref)))
    if question.answer:
        lines.append(
            _(QUESTION_ANSWER_LINE).format(answer=html.quote(truncate(question.answer, 2500)))
        )
    return "\n".join(lines)


async def question_news(
    session: AsyncSession, i18n: I18n, question: Question, *, event: str, merged_ref: str = ""
) -> bool:
    """ "Your question has news" to its author, after a status change or an answer.

    ``event`` names the change (``accepted``, ``rejected``, ``answered``, ``merged``…); with the
    question id, the status and the time of the change it is the key, so a double tap queues one
    message. Anonymised questions (the author used /forget) and unreachable authors get nothing.
    """
    stamp = int(question.updated_at.timestamp()) if question.updated_at else 0
    queued = await queue_each(
        session,
        i18n,
        await _author(session, question),
        lambda: Outgoing(render_question_news(i18n, question, merged_ref)),
        kind="question_news",
        key=f"question:{question.id}:{event}:{question.status}:{stamp}",
    )
    return queued > 0


async def support_milestone(
    session: AsyncSession, i18n: I18n, question: Question, count: int
) -> bool:
    """The author hears when their question reaches 10, 50 or 100 supporters."""

    def render() -> Outgoing:
        return Outgoing(
            _(MILESTONE_TEXT).format(
                ref=_ref(question), count=count, text=html.quote(truncate(question.text, 300))
            )
        )

    queued = await queue_each(
        session,
        i18n,
        await _author(session, question),
        render,
        kind="question_support",
        key=lambda _r: f"support-milestone:{question.id}:{count}",
    )
    return queued > 0


async def question_returned(
    session: AsyncSession,
    i18n: I18n,
    admin_ids: Iterable[int],
    question: Question,
    department: Department | None,
    reason: str,
) -> int:
    """A department returned a question for reassignment: the akimat's staff hear why."""

    def render() -> Outgoing:
        keyboard = Keyboard()
        keyboard.button(
            text=_(MODERATION_BUTTON), callback_data=AdminCb(section=AdminSection.MODERATION)
        )
        locale = current_locale()
        text = "\n".join(
            [
                _(RETURNED_TITLE).format(
                    department=html.quote(department.short(locale) if department else "—"),
                    ref=_ref(question),
                ),
                f"<i>{html.quote(truncate(question.text, 500))}</i>",
                _(QUESTION_REASON_LINE).format(reason=html.quote(truncate(reason, 1000))),
            ]
        )
        return Outgoing(text, keyboard.as_markup())

    stamp = int(question.updated_at.timestamp()) if question.updated_at else 0
    return await queue_each(
        session,
        i18n,
        await admin_recipients(session, admin_ids),
        render,
        kind="question_returned",
        key=f"question-returned:{question.id}:{stamp}",
    )
