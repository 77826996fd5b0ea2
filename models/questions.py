"""Residents' questions: meetings they are queued for, reference numbers, limits, supports.

Other areas use these functions: the moderation area registers questions raised orally at a
meeting with :func:`create_question` (``source=ORAL``, no author) and ranks a meeting's agenda
with :func:`ranked_questions`; the admin area attaches questions waiting for a meeting with
:func:`attach_waiting_questions` when it schedules one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.entities import (
    Category,
    District,
    Meeting,
    MeetingStatus,
    Question,
    QuestionSource,
    QuestionStatus,
    QuestionSupport,
    User,
)
from models.text import fold

TEXT_MIN = 15
TEXT_MAX = 2000
ADDRESS_MIN = 3
ADDRESS_MAX = 300
REF_ATTEMPTS = 20

# Questions residents may browse and support: accepted by moderators, and what came of them.
PUBLIC_STATUSES: tuple[str, ...] = (
    QuestionStatus.ACCEPTED,
    QuestionStatus.IN_WORK,
    QuestionStatus.ANSWERED_AT_MEETING,
    QuestionStatus.DONE,
)
SUPPORT_MILESTONES = (10, 50, 100)


def text_hash(text: str) -> str:
    """Hash of the folded text: the same question typed again with other case or punctuation."""
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()


def intake_deadline(meeting: Meeting) -> dt.datetime:
    """Until when the meeting takes questions (its start when no deadline is set)."""
    return meeting.intake_closes_at or meeting.starts_at


async def upcoming_meetings(
    session: AsyncSession, district_id: int, now: dt.datetime | None = None, limit: int = 5
) -> list[Meeting]:
    now = now or utcnow()
    result = await session.execute(
        select(Meeting)
        .where(
            Meeting.district_id == district_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    )
    return list(result.scalars())


async def next_meeting(
    session: AsyncSession, district_id: int, now: dt.datetime | None = None
) -> Meeting | None:
    """The district's upcoming scheduled meeting, or None."""
    meetings = await upcoming_meetings(session, district_id, now, limit=1)
    return meetings[0] if meetings else None


@dataclass(frozen=True)
class Target:
    """Where a question sent now goes: ``meeting`` (None: the next one to be scheduled);
    ``closed`` is the upcoming meeting whose question intake is already over, if any."""

    meeting: Meeting | None
    closed: Meeting | None = None

    @property
    def deferred(self) -> bool:
        """Not for the upcoming meeting: its intake is closed or none is scheduled."""
        return self.meeting is None or self.closed is not None


async def question_target(
    session: AsyncSession, district_id: int, now: dt.datetime | None = None
) -> Target:
    now = now or utcnow()
    meetings = await upcoming_meetings(session, district_id, now)
    closed = meetings[0] if meetings and intake_deadline(meetings[0]) <= now else None
    for meeting in meetings:
        if intake_deadline(meeting) > now:
            return Target(meeting, closed)
    return Target(None, closed)


async def attach_waiting_questions(session: AsyncSession, meeting: Meeting) -> int:
    """Questions of the district waiting for "the next meeting" are queued for ``meeting``."""
    result = await session.execute(
        update(Question)
        .where(
            Question.district_id == meeting.district_id,
            Question.meeting_id.is_(None),
            Question.status.in_((QuestionStatus.SUBMITTED, QuestionStatus.ACCEPTED)),
        )
        .values(meeting_id=meeting.id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def questions_for_limit(
    session: AsyncSession, author_id: int, district_id: int, meeting_id: int | None
) -> int:
    """How many questions the person already sent for this meeting (rejected ones not counted)."""
    query = select(func.count(Question.id)).where(
        Question.author_id == author_id,
        Question.status != QuestionStatus.REJECTED,
    )
    if meeting_id is None:
        query = query.where(Question.district_id == district_id, Question.meeting_id.is_(None))
    else:
        query = query.where(Question.meeting_id == meeting_id)
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class SentQuestion:
    """An earlier question, as a duplicate is reported: its number."""

    id: int
    ref: str | None


async def find_duplicate(session: AsyncSession, author_id: int, text: str) -> SentQuestion | None:
    """The person's earlier question with the same text (ignoring rejected ones)."""
    found = (
        await session.execute(
            select(Question.id, Question.ref)
            .where(
                Question.author_id == author_id,
                Question.text_hash == text_hash(text),
                Question.status != QuestionStatus.REJECTED,
            )
            .order_by(Question.id)
            .limit(1)
        )
    ).first()
    return SentQuestion(found.id, found.ref) if found is not None else None


async def _next_ref_number(session: AsyncSession, code: str) -> int:
    prefix = f"{code}-"
    result = await session.execute(
        select(Question.ref)
        .where(Question.ref.like(f"{prefix}%"))
        .order_by(func.length(Question.ref).desc(), Question.ref.desc())
        .limit(1)
    )
    last = result.scalar_one_or_none()
    if last is None:
        return 1
    digits = last[len(prefix) :]
    return int(digits) + 1 if digits.isdigit() else 1


async def assign_ref(session: AsyncSession, question: Question, district: District) -> str:
    """Give the (flushed) question the district's next number, e.g. ``AL-0153``.

    Two questions sent at the same moment may pick the same number; the unique index refuses
    the second, whose savepoint is rolled back, and it takes the next free number.
    """
    for _attempt in range(REF_ATTEMPTS):
        number = await _next_ref_number(session, district.code)
        ref = f"{district.code}-{number:04d}"
        try:
            async with session.begin_nested():
                await session.execute(
                    update(Question).where(Question.id == question.id).values(ref=ref)
                )
        except IntegrityError:
            continue
        question.ref = ref
        return ref
    raise RuntimeError(f"could not allocate a reference number for question {question.id}")


async def create_question(
    session: AsyncSession,
    *,
    district_id: int,
    category_id: int,
    text: str,
    meeting_id: int | None,
    author: User | None = None,
    show_name: bool = False,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    photo_file_id: str | None = None,
    source: QuestionSource = QuestionSource.BOT,
    status: QuestionStatus = QuestionStatus.SUBMITTED,
) -> Question:
    """Store a question with its reference number (not committed).

    The author's name is stored only when they chose to show it: officials never see who
    asked an anonymous question.
    """
    district = await session.get(District, district_id)
    if district is None:
        raise ValueError(f"no district {district_id}")
    text = text.strip()
    question = Question(
        district_id=district_id,
        meeting_id=meeting_id,
        author_id=author.id if author is not None else None,
        author_name=(author.full_name or None) if author is not None and show_name else None,
        show_name=bool(show_name and author is not None),
        category_id=category_id,
        text=text,
        text_hash=text_hash(text),
        address=address,
        latitude=latitude,
        longitude=longitude,
        photo_file_id=photo_file_id,
        source=source,
        status=status,
        supporters=0,
    )
    session.add(question)
    await session.flush()
    await assign_ref(session, question, district)
    return question


async def count_user_questions(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        select(func.count(Question.id)).where(Question.author_id == user_id)
    )
    return int(result.scalar_one())


async def user_questions(
    session: AsyncSession, user_id: int, *, offset: int = 0, limit: int = 5
) -> list[Question]:
    """The user's questions, newest first."""
    result = await session.execute(
        select(Question)
        .where(Question.author_id == user_id)
        .order_by(Question.created_at.desc(), Question.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(result.scalars())


async def meetings_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Meeting]:
    if not ids:
        return {}
    result = await session.execute(select(Meeting).where(Meeting.id.in_(ids)))
    return {m.id: m for m in result.scalars()}


async def count_public(session: AsyncSession, meeting_id: int) -> int:
    result = await session.execute(
        select(func.count(Question.id)).where(
            Question.meeting_id == meeting_id, Question.status.in_(PUBLIC_STATUSES)
        )
    )
    return int(result.scalar_one())


async def ranked_questions(
    session: AsyncSession,
    meeting_id: int,
    *,
    statuses: tuple[str, ...] = PUBLIC_STATUSES,
    offset: int = 0,
    limit: int | None = None,
) -> list[Question]:
    """A meeting's accepted questions, most supported first (the agenda order)."""
    query = (
        select(Question)
        .where(Question.meeting_id == meeting_id, Question.status.in_(statuses))
        .order_by(Question.supporters.desc(), Question.created_at, Question.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def categories(session: AsyncSession) -> list[Category]:
    return list((await session.execute(select(Category).order_by(Category.order))).scalars())


async def categories_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Category]:
    if not ids:
        return {}
    result = await session.execute(select(Category).where(Category.id.in_(ids)))
    return {c.id: c for c in result.scalars()}


async def supported_ids(session: AsyncSession, user_id: int, question_ids: list[int]) -> set[int]:
    if not question_ids:
        return set()
    result = await session.execute(
        select(QuestionSupport.question_id).where(
            QuestionSupport.user_id == user_id, QuestionSupport.question_id.in_(question_ids)
        )
    )
    return set(result.scalars())


class SupportResult(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    ALREADY = "already"  # support: already supported; unsupport: was not supported
    OWN = "own"
    NOT_ALLOWED = "not_allowed"  # not public, or the user lives in another district


def can_support(question: Question, user: User) -> SupportResult | None:
    """None when the user may support the question, else the reason why not."""
    if question.status not in PUBLIC_STATUSES or question.meeting_id is None:
        return SupportResult.NOT_ALLOWED
    if user.district_id != question.district_id:
        return SupportResult.NOT_ALLOWED
    if question.author_id is not None and question.author_id == user.id:
        return SupportResult.OWN
    return None


async def _supporters(session: AsyncSession, question_id: int) -> int:
    result = await session.execute(select(Question.supporters).where(Question.id == question_id))
    return int(result.scalar_one())


async def support(session: AsyncSession, question: Question, user: User) -> SupportResult:
    """One support per person (the caller tells the author at ``SUPPORT_MILESTONES``)."""
    refusal = can_support(question, user)
    if refusal is not None:
        return refusal
    try:
        async with session.begin_nested():
            session.add(QuestionSupport(question_id=question.id, user_id=user.id))
            await session.flush()
    except IntegrityError:
        return SupportResult.ALREADY
    await session.execute(
        update(Question)
        .where(Question.id == question.id)
        .values(supporters=Question.supporters + 1)
        .execution_options(synchronize_session=False)
    )
    count = await _supporters(session, question.id)
    question.supporters = count
    return SupportResult.ADDED


async def unsupport(session: AsyncSession, question: Question, user: User) -> SupportResult:
    result = await session.execute(
        delete(QuestionSupport).where(
            QuestionSupport.question_id == question.id, QuestionSupport.user_id == user.id
        )
    )
    if not getattr(result, "rowcount", 0):
        return SupportResult.ALREADY
    await session.execute(
        update(Question)
        .where(Question.id == question.id)
        .values(supporters=Question.supporters - 1)
        .execution_options(synchronize_session=False)
    )
    question.supporters = await _supporters(session, question.id)
    return SupportResult.REMOVED


async def remove_all_supports(session: AsyncSession, user_id: int) -> int:
    """Withdraw every support of a user, keeping each question's counter equal to its rows."""
    ids = list(
        (
            await session.execute(
                select(QuestionSupport.question_id).where(QuestionSupport.user_id == user_id)
            )
        ).scalars()
    )
    if not ids:
        return 0
    await session.execute(delete(QuestionSupport).where(QuestionSupport.user_id == user_id))
    await session.execute(
        update(Question)
        .where(Question.id.in_(ids))
        .values(supporters=Question.supporters - 1)
        .execution_options(synchronize_session=False)
    )
    return len(ids)
