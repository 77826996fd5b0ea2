"""The JSON shapes of the open data (described by web/openapi.py). Names come in the three
languages; dates are ISO 8601; times are given in Asia/Almaty with their offset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.clock import ALMATY
from models.commitments import CardUpdate, MeasureCard, MeasureRow, Tally
from models.entities import OPEN_STATUSES, Department, Meeting, Named
from models.public import MeetingItem, on_time_share
from models.stats import DepartmentRow, Report
from models.statuses import OVERDUE

MEETING_FIGURES = (
    "participants",
    "speakers",
    "questions_raised",
    "answered_at_meeting",
    "questions_done",
    "questions_in_work",
)


def local(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(ALMATY).isoformat() if moment is not None else None


def names(row: Named) -> dict[str, str]:
    return {locale: row.name(locale) for locale in ("ru", "kk", "en")}


def short_names(row: Named) -> dict[str, str]:
    return {locale: row.short(locale) for locale in ("ru", "kk", "en")}


def tally(counts: Tally) -> dict[str, int]:
    return {
        "total": counts.total,
        "done": counts.done,
        "in_progress": counts.in_progress,
        "planned": counts.planned,
        "overdue": counts.overdue,
        "cancelled": counts.cancelled,
    }


def days(due: dt.date | None, status: str, today: dt.date) -> tuple[int | None, int | None]:
    """(days left, days overdue) of an open measure with a due date; (None, None) otherwise."""
    if due is None or status not in (*OPEN_STATUSES, OVERDUE):
        return None, None
    delta = (due - today).days
    return (delta, None) if delta >= 0 else (None, -delta)


def department(row: Department | Named, *, full: bool = True) -> dict[str, Any]:
    code = getattr(row, "code", "")
    result: dict[str, Any] = {"code": code, "short_name": short_names(row)}
    if full:
        result["name"] = names(row)
    return result


def measure_row(
    row: MeasureRow,
    today: dt.date,
    *,
    meeting_id: int | None = None,
    departments: list[str] | None = None,
    district_slug: str | None = None,
) -> dict[str, Any]:
    left, overdue = days(row.due_date, row.status, today)
    result: dict[str, Any] = {
        "id": row.id,
        "number": row.number,
        "source": row.source,
        "text": row.text,
        "problem": {"number": row.problem_number, "title": row.problem_title},
        "status": row.status,
        "deadline_text": row.deadline_text,
        "due_date": row.due_date,
        "days_left": left,
        "days_overdue": overdue,
    }
    if meeting_id is not None:
        result["meeting_id"] = meeting_id
    if district_slug is not None:
        result["district"] = district_slug
    if departments is not None:
        result["departments"] = departments
    return result


def update(entry: CardUpdate) -> dict[str, Any]:
    return {
        "date": local(entry.created_at),
        "kind": entry.kind,
        "status": entry.status,
        "progress": entry.progress,
        "comment": entry.comment if entry.kind != "import" else "",
        "department": entry.department.code if entry.department is not None else None,
        "department_name": names(entry.department) if entry.department is not None else None,
    }


def measure_detail(
    card: MeasureCard, entries: list[CardUpdate], district_slug: str, today: dt.date
) -> dict[str, Any]:
    status = card.status(today)
    left, overdue = days(card.measure.due_date, status, today)
    return {
        "id": card.measure.id,
        "text": card.measure.text,
        "problem": {"number": card.problem.number, "title": card.problem.title},
        "meeting_id": card.meeting.id,
        "meeting_date": local(card.meeting.starts_at),
        "district": district_slug,
        "status": status,
        "deadline_text": card.measure.deadline_text,
        "due_date": card.measure.due_date,
        "days_left": left,
        "days_overdue": overdue,
        "progress": card.measure.progress,
        "departments": [department(d) for d in card.departments],
        "disputes": card.disputes,
        "followers": card.followers,
        "history": [update(entry) for entry in entries],
        "updates": card.updates,
    }


def meeting(item: MeetingItem | tuple[Meeting, str, Tally]) -> dict[str, Any]:
    if isinstance(item, MeetingItem):
        found, slug, counts = item.meeting, item.district.slug, item.tally
    else:
        found, slug, counts = item
    return {
        "id": found.id,
        "district": slug,
        "starts_at": local(found.starts_at),
        "place": found.place,
        "status": found.status,
        "stream_url": found.stream_url or None,
        "source_url": found.source_url or None,
        "questions_until": local(found.intake_closes_at),
        "outcome": {name: getattr(found, name) for name in MEETING_FIGURES},
        "measures": tally(counts),
    }


def timeliness(row: DepartmentRow) -> dict[str, Any]:
    share = on_time_share(row)
    return {
        **department(row.department),
        "slug": row.department.slug,
        "measures": row.measures,
        "done_on_time": row.closed_on_time,
        "done_late": row.closed_late,
        "overdue": row.overdue_now,
        "on_time_share": round(share, 4) if share is not None else None,
    }


def report(found: Report) -> dict[str, Any]:
    """Statistics in the report's form: questions by category (percent of those classified,
    rounded half up), by outcome, measures by status, departments' timeliness."""
    scope: dict[str, Any] = {"kind": found.scope.kind.name.lower()}
    if found.meeting is not None:
        scope["meeting_id"] = found.meeting.id
    if found.district is not None:
        scope["district"] = found.district.slug
    if found.scope.start is not None:
        scope["from"] = found.scope.start
        scope["to"] = found.scope.end
    return {
        "scope": scope,
        "questions": {
            "classified": found.classified,
            "by_category": [
                {
                    "category": row.category.slug,
                    "name": names(row.category),
                    "count": row.count,
                    "percent": float(row.percent),
                }
                for row in found.categories
            ],
            "by_status": dict(sorted(found.statuses.items())),
            # a meeting's classification as the akimat published it (apart from the questions
            # sent through the bot, never added to them); empty for districts and periods
            "published": {
                "classified": found.published_total,
                "by_category": [
                    {
                        "category": row.category.slug,
                        "name": names(row.category),
                        "count": row.count,
                        "percent": float(row.percent),
                    }
                    for row in found.published
                ],
            },
        },
        "measures": {
            "total": found.measures_total,
            "by_status": dict(sorted(found.measures.items())),
        },
        # promises stated at the meetings that the published plans lack, as their own group
        "spoken": {
            "total": found.spoken_total,
            "by_status": dict(sorted(found.spoken.items())),
        },
        "departments": [
            {
                "code": row.department.code,
                "slug": row.department.slug,
                "name": names(row.department),
                "short_name": short_names(row.department),
                "measures": row.measures,
                "done_on_time": row.closed_on_time,
                "done_late": row.closed_late,
                "overdue": row.overdue_now,
                "questions": row.questions,
                "answered": row.answered,
            }
            for row in found.departments
        ],
    }
