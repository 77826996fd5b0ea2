"""The moderation queue: new and returned questions, and what akimat staff do with them.

Every function takes the caller's session and never commits (the handler does). Status changes
return the question so that the handler can notify its author.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.entities import (
    Category,
    Department,
    DepartmentQueue,
    District,
    Meeting,
    MeetingStatus,
    Question,
    QuestionSource,
    QuestionStatus,
)
from models.questions import create_question, ranked_questions
from models.text import fold

REASON_MAX = 1000
ORAL_TEXT_MAX = 2000

# Questions a moderator may still accept, reroute or reject.
OPEN_FOR_MODERATION = (QuestionStatus.SUBMITTED, QuestionStatus.ACCEPTED)
# Questions another one may be merged into (a rejected or merged question is no target).
MERGE_TARGET_STATUSES = (
    QuestionStatus.SUBMITTED,
    QuestionStatus.ACCEPTED,
    QuestionStatus.ANSWERED_AT_MEETING,
    QuestionStatus.IN_WORK,
    QuestionStatus.DONE,
)


def _in_queue() -> object:
    return or_(
        Question.status == QuestionStatus.SUBMITTED,
        (Question.department_queue == DepartmentQueue.RETURNED)
        & Question.status.in_(OPEN_FOR_MODERATION),
    )


@dataclass(frozen=True)
class QueueCounts:
    new: int
    returned: int

    @property
    def total(self) -> int:
        return self.new + self.returned


async def queue_counts(session: AsyncSession) -> QueueCounts:
    returned = (Question.department_queue == DepartmentQueue.RETURNED) & (
        Question.status != QuestionStatus.SUBMITTED
    )
    row = (
        await session.execute(
            select(
                func.count(case((Question.status == QuestionStatus.SUBMITTED, 1))).label("new"),
                func.count(case((returned, 1))).label("returned"),
            ).where(_in_queue())  # type: ignore[arg-type]
        )
    ).one()
    return QueueCounts(new=int(row.new), returned=int(row.returned))


async def queue_page(session: AsyncSession, page: int, per_page: int) -> list[Question]:
    """Returned questions first (they wait for a new department), then new ones oldest first."""
    returned_first = case((Question.department_queue == DepartmentQueue.RETURNED, 0), else_=1)
    result = await session.execute(
        select(Question)
        .where(_in_queue())  # type: ignore[arg-type]
        .order_by(returned_first, Question.created_at, Question.id)
        .offset(page * per_page)
        .limit(per_page)
    )
    return list(result.scalars())


def is_returned(question: Question) -> bool:
    return question.department_queue == DepartmentQueue.RETURNED


@dataclass
class QuestionContext:
    """What a moderator's card shows beside the question itself."""

    question: Question
    category: Category
    district: District
    meeting: Meeting | None
    department: Department | None
    merged_into: Question | None


async def question_context(session: AsyncSession, question_id: int) -> QuestionContext | None:
    question = await session.get(Question, question_id)
    if question is None:
        return None
    category = await session.get(Category, question.category_id)
    district = await session.get(District, question.district_id)
    assert category is not None and district is not None
    meeting = await session.get(Meeting, question.meeting_id) if question.meeting_id else None
    department = (
        await session.get(Department, question.department_id) if question.department_id else None
    )
    merged_into = (
        await session.get(Question, question.merged_into_id) if question.merged_into_id else None
    )
    return QuestionContext(question, category, district, meeting, department, merged_into)


async def categories(session: AsyncSession) -> list[Category]:
    return list((await session.execute(select(Category).order_by(Category.order))).scalars())


async def departments(session: AsyncSession) -> list[Department]:
    result = await session.execute(select(Department).order_by(Department.short_ru, Department.id))
    return list(result.scalars())


async def recent_meetings(session: AsyncSession, limit: int = 8) -> list[Meeting]:
    result = await session.execute(
        select(Meeting)
        .where(Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc())
        .limit(limit)
    )
    return list(result.scalars())


async def districts_by_id(session: AsyncSession) -> dict[int, District]:
    return {d.id: d for d in (await session.execute(select(District))).scalars()}


def _stamp(question: Question, now: dt.datetime) -> None:
    question.updated_at = now


def accept(
    question: Question, category_id: int, department_id: int | None, now: dt.datetime | None = None
) -> bool:
    """Accept (or reroute) a question; True when its status changed (the author is told)."""
    now = now or utcnow()
    changed = question.status != QuestionStatus.ACCEPTED
    question.status = QuestionStatus.ACCEPTED
    question.category_id = category_id
    question.department_id = department_id
    question.department_queue = DepartmentQueue.NEW if department_id is not None else None
    question.return_reason = None
    question.moderated_at = now
    _stamp(question, now)
    return changed


def reject(question: Question, reason: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    question.status = QuestionStatus.REJECTED
    question.reject_reason = reason
    question.department_queue = None
    question.moderated_at = now
    _stamp(question, now)


def can_merge(question: Question, target: Question) -> bool:
    """``target`` is an earlier question of the same meeting (or district, when neither has a
    meeting) that still stands."""
    if target.id == question.id or target.status not in MERGE_TARGET_STATUSES:
        return False
    if (target.created_at, target.id) >= (question.created_at, question.id):
        return False
    if question.meeting_id is not None or target.meeting_id is not None:
        return question.meeting_id == target.meeting_id
    return question.district_id == target.district_id


def merge(question: Question, target: Question, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    question.status = QuestionStatus.MERGED
    question.merged_into_id = target.id
    question.department_queue = None
    question.moderated_at = now
    _stamp(question, now)


def _words(text: str) -> set[str]:
    return {w for w in fold(text).split(" ") if len(w) >= 4}


def _similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    # Compare word stems: Russian and Kazakh endings vary (улица/улице, жолы/жолдың).
    stems_a = {w[:5] for w in a}
    stems_b = {w[:5] for w in b}
    return len(stems_a & stems_b) / len(stems_a | stems_b)


async def merge_candidates(
    session: AsyncSession, question: Question, limit: int = 5, scan: int = 300
) -> list[Question]:
    """Earlier questions of the same meeting/district, most similar text first."""
    query = select(Question).where(
        Question.id != question.id,
        Question.status.in_(MERGE_TARGET_STATUSES),
        Question.created_at <= question.created_at,
    )
    if question.meeting_id is not None:
        query = query.where(Question.meeting_id == question.meeting_id)
    else:
        query = query.where(
            Question.meeting_id.is_(None), Question.district_id == question.district_id
        )
    rows = (await session.execute(query.order_by(Question.created_at.desc()).limit(scan))).scalars()
    words = _words(question.text)
    scored = []
    for other in rows:
        if not can_merge(question, other):
            continue
        score = _similarity(words, _words(other.text))
        if other.category_id == question.category_id:
            score += 0.05
        scored.append((score, other.created_at, other))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [item[2] for item in scored[:limit]]


async def find_by_ref(session: AsyncSession, ref: str) -> Question | None:
    cleaned = ref.strip().upper().lstrip("#")
    if not cleaned:
        return None
    question = (
        await session.execute(select(Question).where(Question.ref == cleaned))
    ).scalar_one_or_none()
    if question is None and cleaned.isdigit():
        question = await session.get(Question, int(cleaned))
    return question


async def default_department_id(session: AsyncSession, category_id: int) -> int | None:
    category = await session.get(Category, category_id)
    return category.default_department_id if category is not None else None


async def register_oral(
    session: AsyncSession,
    meeting: Meeting,
    category_id: int,
    text: str,
    outcome: QuestionStatus,
    now: dt.datetime | None = None,
) -> Question:
    """A question raised orally at a meeting: no author; answered there or routed for work."""
    now = now or utcnow()
    question = await create_question(
        session,
        district_id=meeting.district_id,
        category_id=category_id,
        text=text,
        meeting_id=meeting.id,
        author=None,
        source=QuestionSource.ORAL,
        status=outcome,
    )
    if outcome == QuestionStatus.IN_WORK:
        department_id = await default_department_id(session, category_id)
        question.department_id = department_id
        question.department_queue = DepartmentQueue.NEW if department_id is not None else None
    else:
        question.answered_at = now
    question.moderated_at = now
    _stamp(question, now)
    await session.flush()
    return question


async def agenda(session: AsyncSession, meeting_id: int) -> Sequence[Question]:
    """Accepted questions of a meeting, most supported first (the order to raise them)."""
    return await ranked_questions(session, meeting_id, statuses=(QuestionStatus.ACCEPTED,))
