"""One winner when two people change the same row at the same moment.

Every status transition starts with :func:`claim`: a conditional ``UPDATE … WHERE id = :id AND
<the state the person saw>``. The database lets one such statement through at a time (a row lock
on PostgreSQL, the write lock on SQLite), and re-checks the condition for the second one after
the first has committed, so the second finds nothing to update (rowcount 0) and its caller tells
the person what happened instead of writing a second history row and a second set of
notifications. The winner holds the row (or the database) until it commits, so what it then
changes through the ORM cannot interleave with anyone else's change.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.db import release_connection
from models.entities import Invitation, Measure, Question


async def claim(
    session: AsyncSession, model: Any, row_id: int, *conditions: Any, **values: Any
) -> bool:
    """Set ``values`` on the row ``row_id`` of ``model`` if ``conditions`` still hold; True when
    this transaction won the row."""
    # A transaction that has only read gives its snapshot back first: on SQLite a write from a
    # stale snapshot fails at once ("database is locked") instead of waiting for the lock.
    await release_connection(session)
    statement = (
        update(model)
        .where(model.id == row_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def claim_measure(session: AsyncSession, measure: Measure, *, progress: bool = False) -> bool:
    """The measure still has the status (and, for a progress change, the progress) the person
    saw when they acted."""
    conditions = [Measure.status == measure.status]
    if progress:
        conditions.append(Measure.progress == measure.progress)
    return await claim(session, Measure, measure.id, *conditions, updated_at=utcnow())


async def claim_question(session: AsyncSession, question: Question) -> bool:
    """The question is still where the person saw it: same status, same department queue."""
    return await claim(
        session,
        Question,
        question.id,
        Question.status == question.status,
        Question.department_queue == question.department_queue,
        updated_at=utcnow(),
    )


async def claim_invitation(session: AsyncSession, invitation: Invitation) -> bool:
    """The invitation is still unused (an invitation is spent once). The won invitation is
    read again, so that giving it back (``used_at = None``) is written."""
    won = await claim(
        session, Invitation, invitation.id, Invitation.used_at.is_(None), used_at=utcnow()
    )
    if won:
        await session.refresh(invitation)
    return won
