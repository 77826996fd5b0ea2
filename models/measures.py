"""Changing a measure: every change is one history entry (the only write path)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.claims import claim_measure
from models.entities import Department, Measure, MeasureStatus, MeasureUpdate, User


class ChangeConflict(Exception):
    """Someone changed the measure's status or progress between the moment the person saw it
    and the moment they acted: nothing was changed (see :mod:`models.claims`)."""


async def record_change(
    session: AsyncSession,
    measure: Measure,
    *,
    author_id: int | None,
    department_id: int | None,
    status: MeasureStatus | None = None,
    progress: int | None = None,
    comment: str = "",
    photo_file_id: str | None = None,
    kind: str | None = None,
) -> MeasureUpdate:
    """Apply a status and/or progress change (or a plain comment) and record it in the history.

    ``kind`` defaults to ``status``, ``progress`` or ``comment`` after what changed. Marking done
    sets progress to 100 and the closing time; reopening clears them.

    A status or progress change is applied only if the measure still has the status (and the
    progress) ``measure`` holds; otherwise :class:`ChangeConflict` is raised and nothing is
    written.
    """
    if progress is not None and not 0 <= progress <= 100:
        raise ValueError("progress must be between 0 and 100")
    if (status is not None or progress is not None) and not await claim_measure(
        session, measure, progress=status is None
    ):
        raise ChangeConflict(measure.id)
    old_status = measure.status
    if status is not None and status != measure.status:
        measure.status = status
        if status == MeasureStatus.DONE:
            measure.closed_at = utcnow()
            progress = 100 if progress is None else progress
            if photo_file_id:
                measure.proof_photo_file_id = photo_file_id
        elif status == MeasureStatus.CANCELLED:
            measure.closed_at = utcnow()
        else:
            measure.closed_at = None
    if progress is not None:
        measure.progress = progress
    if kind is None:
        kind = "status" if status is not None else "progress" if progress is not None else "comment"
    update = MeasureUpdate(
        measure_id=measure.id,
        author_id=author_id,
        department_id=department_id,
        kind=kind,
        old_status=old_status,
        status=status,
        progress=progress,
        comment=comment,
        photo_file_id=photo_file_id,
        created_at=utcnow(),
    )
    measure.updated_at = utcnow()
    session.add(update)
    await session.flush()
    return update


async def latest_change(
    session: AsyncSession, measure_id: int
) -> tuple[MeasureUpdate, Department | None, User | None] | None:
    """The measure's last history entry, with its department and author (who changed it)."""
    row = (
        await session.execute(
            select(MeasureUpdate, Department, User)
            .outerjoin(Department, Department.id == MeasureUpdate.department_id)
            .outerjoin(User, User.id == MeasureUpdate.author_id)
            .where(MeasureUpdate.measure_id == measure_id)
            .order_by(MeasureUpdate.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])
