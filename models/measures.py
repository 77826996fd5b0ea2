"""Changing a measure: every change is one history entry (the only write path)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.entities import Measure, MeasureStatus, MeasureUpdate


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
    """
    if progress is not None and not 0 <= progress <= 100:
        raise ValueError("progress must be between 0 and 100")
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
