"""The department area's data: invitations, membership and chats, "our measures", the question
inbox and residents' disputes. Functions take a session and never commit (handlers do)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.base import utcnow
from models.claims import claim_invitation
from models.entities import (
    Department,
    DepartmentChat,
    DepartmentMember,
    DepartmentQueue,
    Dispute,
    Invitation,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    MeasureUpdate,
    ProblemIssue,
    Question,
    QuestionStatus,
    User,
)
from models.text import truncate

INVITE_PREFIX = "i"  # deep-link payloads of invitations: /start i<token>
DUE_SOON_DAYS = 7


# --- departments -------------------------------------------------------------------------------


async def list_departments(session: AsyncSession) -> list[Department]:
    result = await session.execute(select(Department).order_by(Department.id))
    return list(result.scalars())


async def get_department(session: AsyncSession, department_id: int) -> Department | None:
    return await session.get(Department, department_id)


async def find_department(session: AsyncSession, code: str) -> Department | None:
    """By code (``УЭиВ``) or slug, case-sensitive for the code as written in plans."""
    result = await session.execute(
        select(Department).where((Department.code == code) | (Department.slug == code))
    )
    return result.scalars().first()


async def create_department(
    session: AsyncSession, code: str, names: dict[str, str]
) -> Department | None:
    """A department an admin adds by hand; None when the code is taken."""
    code = code.strip()
    if await find_department(session, code) is not None:
        return None
    department = Department(
        code=code,
        slug=f"custom-{secrets.token_hex(6)}",
        alias_codes="",
        kind="akimat_department",
        uncertain=False,
        **{f"name_{loc}": names[loc] for loc in ("ru", "kk", "en")},
        **{f"short_{loc}": truncate(names[loc], 100) for loc in ("ru", "kk", "en")},
    )
    try:
        async with session.begin_nested():
            session.add(department)
    except IntegrityError:
        return None
    return department


def set_department_name(department: Department, field: str, value: str) -> None:
    """``field`` is one of name_ru … short_en."""
    limit = 100 if field.startswith("short_") else 300
    setattr(department, field, truncate(value, limit))


@dataclass
class DepartmentOverview:
    department: Department
    members: int
    chats: int


async def _counts_by_department(session: AsyncSession, column: Any) -> dict[int, int]:
    result = await session.execute(select(column, func.count()).group_by(column))
    return {int(key): int(count) for key, count in result.all()}


async def department_overview(session: AsyncSession) -> list[DepartmentOverview]:
    departments = await list_departments(session)
    members = await _counts_by_department(session, DepartmentMember.department_id)
    chats = await _counts_by_department(session, DepartmentChat.department_id)
    return [DepartmentOverview(d, members.get(d.id, 0), chats.get(d.id, 0)) for d in departments]


# --- membership --------------------------------------------------------------------------------


async def user_departments(session: AsyncSession, user_id: int) -> list[Department]:
    result = await session.execute(
        select(Department)
        .join(DepartmentMember, DepartmentMember.department_id == Department.id)
        .where(DepartmentMember.user_id == user_id)
        .order_by(Department.id)
    )
    return list(result.scalars())


async def chat_departments(session: AsyncSession, chat_id: int) -> list[Department]:
    result = await session.execute(
        select(Department)
        .join(DepartmentChat, DepartmentChat.department_id == Department.id)
        .where(DepartmentChat.chat_id == chat_id)
        .order_by(Department.id)
    )
    return list(result.scalars())


async def is_member(session: AsyncSession, department_id: int, user_id: int) -> bool:
    result = await session.execute(
        select(DepartmentMember.id).where(
            DepartmentMember.department_id == department_id, DepartmentMember.user_id == user_id
        )
    )
    return result.first() is not None


async def add_member(session: AsyncSession, department_id: int, user_id: int) -> bool:
    """False when already a member."""
    if await is_member(session, department_id, user_id):
        return False
    try:
        async with session.begin_nested():
            session.add(DepartmentMember(department_id=department_id, user_id=user_id))
    except IntegrityError:
        return False
    return True


async def remove_member(session: AsyncSession, department_id: int, user_id: int) -> bool:
    member = (
        await session.execute(
            select(DepartmentMember).where(
                DepartmentMember.department_id == department_id,
                DepartmentMember.user_id == user_id,
            )
        )
    ).scalar_one_or_none()
    if member is None:
        return False
    await session.delete(member)
    await session.flush()
    return True


async def list_members(session: AsyncSession, department_id: int) -> list[User]:
    result = await session.execute(
        select(User)
        .join(DepartmentMember, DepartmentMember.user_id == User.id)
        .where(DepartmentMember.department_id == department_id)
        .order_by(DepartmentMember.joined_at, User.id)
    )
    return list(result.scalars())


async def list_chats(session: AsyncSession, department_id: int) -> list[DepartmentChat]:
    result = await session.execute(
        select(DepartmentChat)
        .where(DepartmentChat.department_id == department_id)
        .order_by(DepartmentChat.joined_at, DepartmentChat.id)
    )
    return list(result.scalars())


async def bind_chat(
    session: AsyncSession, department_id: int, chat_id: int, title: str, locale: str
) -> bool:
    """False when the chat is already bound to this department (the title is refreshed)."""
    existing = (
        await session.execute(
            select(DepartmentChat).where(
                DepartmentChat.department_id == department_id, DepartmentChat.chat_id == chat_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.title = truncate(title, 300)
        existing.reachable = True
        return False
    try:
        async with session.begin_nested():
            session.add(
                DepartmentChat(
                    department_id=department_id,
                    chat_id=chat_id,
                    title=truncate(title, 300),
                    locale=locale,
                )
            )
    except IntegrityError:
        return False
    return True


async def remove_chat(session: AsyncSession, department_id: int, chat_id: int) -> bool:
    chat = (
        await session.execute(
            select(DepartmentChat).where(
                DepartmentChat.department_id == department_id, DepartmentChat.chat_id == chat_id
            )
        )
    ).scalar_one_or_none()
    if chat is None:
        return False
    await session.delete(chat)
    await session.flush()
    return True


# --- invitations -------------------------------------------------------------------------------


class InviteOutcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"  # already a member / chat already bound: the token is not spent
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


async def create_invitation(
    session: AsyncSession,
    department_id: int,
    *,
    created_by_id: int | None,
    ttl_days: int,
    now: dt.datetime | None = None,
) -> Invitation:
    now = now or utcnow()
    # 16 random bytes → 22 URL-safe characters; with the "i" it fits a /start payload (≤ 64).
    invitation = Invitation(
        token=secrets.token_urlsafe(16),
        department_id=department_id,
        created_by_id=created_by_id,
        created_at=now,
        expires_at=now + dt.timedelta(days=ttl_days),
    )
    session.add(invitation)
    await session.flush()
    return invitation


def clean_token(raw: str) -> str:
    """What a person pasted: ``/join <token>``, the payload ``i<token>`` or the whole link."""
    return raw.strip().split("?start=")[-1].strip()


async def _find_invitation(session: AsyncSession, token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    candidates = [token]
    if token.startswith(INVITE_PREFIX):
        candidates.append(token[len(INVITE_PREFIX) :])
    result = await session.execute(select(Invitation).where(Invitation.token.in_(candidates)))
    return result.scalars().first()


def _check(invitation: Invitation | None, now: dt.datetime) -> InviteOutcome | None:
    if invitation is None:
        return InviteOutcome.UNKNOWN
    if invitation.used_at is not None:
        return InviteOutcome.USED
    if invitation.expires_at <= now:
        return InviteOutcome.EXPIRED
    return None


async def redeem_for_user(
    session: AsyncSession, token: str, user: User, now: dt.datetime | None = None
) -> tuple[InviteOutcome, Department | None]:
    """A person opens an invitation: they become a member and the token is spent."""
    now = now or utcnow()
    invitation = await _find_invitation(session, clean_token(token))
    problem = _check(invitation, now)
    if problem is not None or invitation is None:
        # the same person opening the link twice is told they are in already
        if (
            invitation is not None
            and problem is InviteOutcome.USED
            and invitation.used_by_id == user.id
        ):
            return InviteOutcome.ALREADY, await get_department(session, invitation.department_id)
        return problem or InviteOutcome.UNKNOWN, None
    if not await claim_invitation(session, invitation):
        return InviteOutcome.USED, None  # someone else used it at the same moment
    department = await get_department(session, invitation.department_id)
    if not await add_member(session, invitation.department_id, user.id):
        invitation.used_at = None  # a member already: the token is not spent
        return InviteOutcome.ALREADY, department
    invitation.used_at = now
    invitation.used_by_id = user.id
    await session.flush()
    return InviteOutcome.JOINED, department


async def redeem_for_chat(
    session: AsyncSession,
    token: str,
    *,
    chat_id: int,
    title: str,
    locale: str,
    user: User | None,
    now: dt.datetime | None = None,
) -> tuple[InviteOutcome, Department | None]:
    """A group administrator sends ``/join <token>`` in a group: the group becomes a chat of the
    department. The token is spent, like a person's."""
    now = now or utcnow()
    invitation = await _find_invitation(session, clean_token(token))
    problem = _check(invitation, now)
    if problem is not None or invitation is None:
        return problem or InviteOutcome.UNKNOWN, None
    if not await claim_invitation(session, invitation):
        return InviteOutcome.USED, None  # someone else used it at the same moment
    department = await get_department(session, invitation.department_id)
    if not await bind_chat(session, invitation.department_id, chat_id, title, locale):
        invitation.used_at = None  # bound already: the token is not spent
        return InviteOutcome.ALREADY, department
    invitation.used_at = now
    invitation.used_by_id = user.id if user is not None else None
    await session.flush()
    return InviteOutcome.JOINED, department


async def open_invitations(session: AsyncSession, now: dt.datetime | None = None) -> Counter[int]:
    """Unused, unexpired invitations per department."""
    now = now or utcnow()
    result = await session.execute(
        select(Invitation.department_id, func.count())
        .where(Invitation.used_at.is_(None), Invitation.expires_at > now)
        .group_by(Invitation.department_id)
    )
    return Counter({int(key): int(count) for key, count in result.all()})


# --- our measures ------------------------------------------------------------------------------


class MeasureGroup(StrEnum):
    """The order of "our measures": what needs attention first."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    IN_PROGRESS = "in_progress"
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


GROUP_ORDER = list(MeasureGroup)


def measure_group(measure: Measure, today: dt.date) -> MeasureGroup:
    if measure.status == MeasureStatus.DONE:
        return MeasureGroup.DONE
    if measure.status == MeasureStatus.CANCELLED:
        return MeasureGroup.CANCELLED
    if measure.due_date is not None:
        if measure.due_date < today:
            return MeasureGroup.OVERDUE
        if (measure.due_date - today).days <= DUE_SOON_DAYS:
            return MeasureGroup.DUE_SOON
    if measure.status == MeasureStatus.IN_PROGRESS:
        return MeasureGroup.IN_PROGRESS
    return MeasureGroup.PLANNED


@dataclass
class MeasureRow:
    group: MeasureGroup
    measure: Measure


def _sort_key(row: MeasureRow) -> tuple[int, int, float, int]:
    measure = row.measure
    far = dt.date.max.toordinal()
    due = measure.due_date.toordinal() if measure.due_date else far
    closed = -measure.closed_at.timestamp() if measure.closed_at else 0.0
    if row.group in (MeasureGroup.DONE, MeasureGroup.CANCELLED):
        return (GROUP_ORDER.index(row.group), 0, closed, measure.id)
    # overdue: the earliest due date is the most overdue, so ascending due dates work for all
    return (GROUP_ORDER.index(row.group), due, 0.0, measure.id)


async def department_measures(
    session: AsyncSession, department_ids: Iterable[int], today: dt.date
) -> list[MeasureRow]:
    """Every measure with one of the departments as a responsible executor, in the order of
    :class:`MeasureGroup` (inside a group: the nearest or most overdue deadline first)."""
    ids = list(department_ids)
    if not ids:
        return []
    result = await session.execute(
        select(Measure)
        .where(
            Measure.id.in_(
                select(MeasureDepartment.measure_id).where(MeasureDepartment.department_id.in_(ids))
            )
        )
        .options(selectinload(Measure.problem), selectinload(Measure.departments))
    )
    rows = [MeasureRow(measure_group(m, today), m) for m in result.scalars()]
    rows.sort(key=_sort_key)
    return rows


def group_counts(rows: Sequence[MeasureRow]) -> dict[MeasureGroup, int]:
    counts = Counter(row.group for row in rows)
    return {group: counts.get(group, 0) for group in GROUP_ORDER}


async def load_measure(session: AsyncSession, measure_id: int) -> Measure | None:
    result = await session.execute(
        select(Measure)
        .where(Measure.id == measure_id)
        .options(
            selectinload(Measure.departments),
            selectinload(Measure.problem).selectinload(ProblemIssue.meeting),
        )
    )
    return result.scalar_one_or_none()


async def measure_history(
    session: AsyncSession, measure_id: int, limit: int = 5
) -> list[MeasureUpdate]:
    result = await session.execute(
        select(MeasureUpdate)
        .where(MeasureUpdate.measure_id == measure_id)
        .order_by(MeasureUpdate.created_at.desc(), MeasureUpdate.id.desc())
        .limit(limit)
    )
    return list(result.scalars())


async def latest_done_update(session: AsyncSession, measure_id: int) -> MeasureUpdate | None:
    result = await session.execute(
        select(MeasureUpdate)
        .where(MeasureUpdate.measure_id == measure_id, MeasureUpdate.status == MeasureStatus.DONE)
        .order_by(MeasureUpdate.created_at.desc(), MeasureUpdate.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


# --- disputes ----------------------------------------------------------------------------------


async def open_dispute_count(session: AsyncSession, measure_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Dispute)
        .where(Dispute.measure_id == measure_id, Dispute.resolved.is_(False))
    )
    return int(result.scalar_one())


async def has_disputed(
    session: AsyncSession, measure_id: int, user_id: int, update_id: int
) -> bool:
    result = await session.execute(
        select(Dispute.id).where(
            Dispute.measure_id == measure_id,
            Dispute.user_id == user_id,
            Dispute.update_id == update_id,
        )
    )
    return result.first() is not None


async def create_dispute(
    session: AsyncSession,
    measure_id: int,
    user_id: int,
    update_id: int,
    comment: str,
    photo_file_id: str | None,
) -> Dispute | None:
    """None when this resident already disputed this "done"."""
    if await has_disputed(session, measure_id, user_id, update_id):
        return None
    dispute = Dispute(
        measure_id=measure_id,
        user_id=user_id,
        update_id=update_id,
        comment=comment,
        photo_file_id=photo_file_id,
        created_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(dispute)
    except IntegrityError:
        return None
    return dispute


async def resolve_disputes(session: AsyncSession, measure_id: int) -> int:
    result = await session.execute(
        update(Dispute)
        .where(Dispute.measure_id == measure_id, Dispute.resolved.is_(False))
        .values(resolved=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the question inbox ------------------------------------------------------------------------

INBOX_QUEUES = (DepartmentQueue.NEW, DepartmentQueue.IN_WORK, DepartmentQueue.ANSWERED)


async def inbox_counts(session: AsyncSession, department_id: int) -> dict[str, int]:
    result = await session.execute(
        select(Question.department_queue, func.count())
        .where(
            Question.department_id == department_id,
            Question.department_queue.in_([q.value for q in INBOX_QUEUES]),
        )
        .group_by(Question.department_queue)
    )
    counts = {str(key): int(count) for key, count in result.all()}
    return {q.value: int(counts.get(q.value, 0)) for q in INBOX_QUEUES}


async def inbox_page(
    session: AsyncSession, department_id: int, queue: str, page: int, per_page: int
) -> list[Question]:
    order = (
        (Question.answered_at.desc(), Question.id.desc())
        if queue == DepartmentQueue.ANSWERED
        else (Question.created_at, Question.id)
    )
    result = await session.execute(
        select(Question)
        .where(Question.department_id == department_id, Question.department_queue == queue)
        .order_by(*order)
        .offset(page * per_page)
        .limit(per_page)
    )
    return list(result.scalars())


def can_take(question: Question) -> bool:
    return question.department_queue == DepartmentQueue.NEW


def take_question(question: Question) -> bool:
    if not can_take(question):
        return False
    question.department_queue = DepartmentQueue.IN_WORK
    question.status = QuestionStatus.IN_WORK
    question.updated_at = utcnow()
    return True


def can_answer(question: Question) -> bool:
    return question.department_queue in (DepartmentQueue.NEW, DepartmentQueue.IN_WORK)


def answer_question(question: Question, answer: str) -> bool:
    if not can_answer(question):
        return False
    now = utcnow()
    question.answer = answer
    question.answered_at = now
    question.department_queue = DepartmentQueue.ANSWERED
    question.status = QuestionStatus.DONE
    question.updated_at = now
    return True


def return_question(question: Question, reason: str) -> bool:
    if not can_answer(question):
        return False
    question.department_queue = DepartmentQueue.RETURNED
    question.return_reason = reason
    question.status = QuestionStatus.ACCEPTED  # back with the admins, who reassign it
    question.updated_at = utcnow()
    return True
