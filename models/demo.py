"""The demo data: the Almaly district meeting of 23 June 2022, its published figures (outcome and
the classification of its questions), its action plan, and the promises stated at it that the
plan lacks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import (
    OUTCOME_FIELDS,
    Category,
    Department,
    District,
    Meeting,
    MeetingCategoryCount,
    MeetingStatus,
)
from models.plans import ApplyResult, PlanRow, apply_plan, parse_plan
from models.reference import DATA_DIR, ensure_reference_data
from models.spoken import add_spoken_promise, spoken_texts
from models.text import fold

DEMO_FILE = DATA_DIR / "almaly-2022-06-23.json"
ALMATY = ZoneInfo("Asia/Almaty")


@dataclass
class DemoResult:
    meeting_id: int
    meeting_created: bool
    plan: ApplyResult
    spoken_added: int = 0


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return data


def demo_rows() -> tuple[dict[str, object], list[PlanRow]]:
    data = demo_data()
    rows = [
        PlanRow(
            row_no=i,
            number="" if r["number"] is None else str(r["number"]),
            problem=r["problem"] or "",
            measure=r["measure"],
            deadline=r["deadline"],
            executors=r["executors"],
        )
        for i, r in enumerate(data["plan"], start=1)
    ]
    return data["meeting"], rows


async def load_demo(session: AsyncSession) -> DemoResult:
    """Create the seed meeting and its plan; running it again changes nothing."""
    await ensure_reference_data(session)
    info, rows = demo_rows()
    district = (
        await session.execute(select(District).where(District.slug == info["district"]))
    ).scalar_one()
    local = dt.datetime.fromisoformat(str(info["starts_at_local"])).replace(tzinfo=ALMATY)
    starts_at = local.astimezone(dt.UTC)
    meeting = (
        await session.execute(
            select(Meeting).where(
                Meeting.district_id == district.id, Meeting.starts_at == starts_at
            )
        )
    ).scalar_one_or_none()
    created = meeting is None
    if meeting is None:
        meeting = Meeting(
            district_id=district.id,
            starts_at=starts_at,
            place=str(info["place"]),
            akim=str(info["akim"]),
            moderator=str(info["moderator"]),
            stream_url=str(info["stream_url"]),
            source_url=str(info["source_url"]),
            status=MeetingStatus.HELD,
            **{f: int(str(info[f])) for f in OUTCOME_FIELDS},
        )
        session.add(meeting)
        await session.flush()
    departments = list((await session.execute(select(Department))).scalars())
    plan = parse_plan(rows, local.date(), departments)
    applied = await apply_plan(session, meeting.id, plan)
    await _add_category_counts(session, meeting.id)
    data = demo_data()
    known = await spoken_texts(session, meeting.id)
    added = 0
    for item in data["spoken"]:
        if fold(item["text"]) not in known:
            await add_spoken_promise(session, meeting, item["text"], item["deadline"])
            added += 1
    return DemoResult(
        meeting_id=meeting.id, meeting_created=created, plan=applied, spoken_added=added
    )


async def _add_category_counts(session: AsyncSession, meeting_id: int) -> None:
    """The published classification of the meeting's questions («жилищные отношения – 8»…),
    unless the meeting has one already."""
    present = await session.execute(
        select(MeetingCategoryCount.category_id)
        .where(MeetingCategoryCount.meeting_id == meeting_id)
        .limit(1)
    )
    if present.first() is not None:
        return
    counts: dict[str, int] = demo_data()["question_categories"]
    categories = {c.slug: c.id for c in (await session.execute(select(Category))).scalars()}
    for slug, count in counts.items():
        session.add(
            MeetingCategoryCount(meeting_id=meeting_id, category_id=categories[slug], count=count)
        )
    await session.flush()
