"""Server-side authorization rules: who may change what. Checked on every update."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Exists, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import DepartmentChat, DepartmentMember, MeasureDepartment, Question, User


async def member_department_ids(session: AsyncSession, user: User | None) -> list[int]:
    if user is None:
        return []
    result = await session.execute(
        select(DepartmentMember.department_id).where(DepartmentMember.user_id == user.id)
    )
    return list(result.scalars())


async def chat_department_ids(session: AsyncSession, chat_id: int) -> list[int]:
    result = await session.execute(
        select(DepartmentChat.department_id).where(DepartmentChat.chat_id == chat_id)
    )
    return list(result.scalars())


def may_update_measure_clause(user_id: Any, measure_id: Any) -> Exists:
    """EXISTS: the user is a member of one of the measure's responsible departments (one join,
    usable inside a larger query; ``user_id``/``measure_id`` may be columns or bound
    parameters; ``None`` matches nobody)."""
    return exists(
        select(MeasureDepartment.department_id)
        .join(DepartmentMember, DepartmentMember.department_id == MeasureDepartment.department_id)
        .where(
            MeasureDepartment.measure_id == measure_id,
            DepartmentMember.user_id == (user_id if user_id is not None else -1),
        )
    )


async def acting_department_for_measure(
    session: AsyncSession, user: User | None, measure_id: int
) -> int | None:
    """The responsible department the user acts for on this measure, or None (not a member of
    any of its departments). The first in the measure's order, in one query."""
    if user is None:
        return None
    result = await session.execute(
        select(MeasureDepartment.department_id)
        .join(DepartmentMember, DepartmentMember.department_id == MeasureDepartment.department_id)
        .where(MeasureDepartment.measure_id == measure_id, DepartmentMember.user_id == user.id)
        .order_by(MeasureDepartment.position)
        .limit(1)
    )
    return result.scalar()


async def can_update_measure(
    session: AsyncSession, user: User | None, is_admin: bool, measure_id: int
) -> bool:
    """A member of a responsible department, or an admin."""
    if is_admin:
        return True
    if user is None:
        return False
    return bool(await session.scalar(select(may_update_measure_clause(user.id, measure_id))))


async def can_handle_question(
    session: AsyncSession, user: User | None, is_admin: bool, question: Question
) -> bool:
    """A member of the department the question is routed to, or an admin."""
    if is_admin:
        return True
    if question.department_id is None:
        return False
    return question.department_id in await member_department_ids(session, user)
