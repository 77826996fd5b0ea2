"""The demo data: the Almaly district meeting of 23 June 2022 and its action plan."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Department, District, Meeting, MeetingStatus
from models.meetings import OUTCOME_FIELDS
from models.plans import ApplyResult, PlanRow, apply_plan, parse_plan
from models.reference import DATA_DIR, ensure_reference_data

DEMO_FILE = DATA_DIR / "almaly-2022-06-23.json"
ALMATY = ZoneInfo("Asia/Almaty")


@dataclass
class DemoResult:
    meeting_id: int
    meeting_created: bool
    plan: ApplyResult


def demo_rows() -> tuple[dict[str, object], list[PlanRow]]:
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
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
    return DemoResult(meeting_id=meeting.id, meeting_created=created, plan=applied)
