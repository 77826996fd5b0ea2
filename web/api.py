"""The JSON API under ``/api/v1/`` and its CSV downloads: districts, meetings, measures (with
filters and the bot's search), a measure with its history, departments' timeliness and the
statistics in the report's form. Described by ``/api/v1/openapi.json`` (web/openapi.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models import public
from models.clock import local_today
from models.commitments import city_overview, load_card, meeting_page
from models.stats import Scope, ScopeKind, build_report
from models.statuses import MEASURE_LABELS
from web import serialize
from web.context import I18N, SESSION_POOL, STATS_CACHE, TOTALS_CACHE, district_slug
from web.http import (
    BadParameter,
    NotFound,
    choice_param,
    csv_response,
    date_param,
    int_param,
    json_response,
    path_id,
    text_param,
)
from web.openapi import document

PREFIX = "/api/v1"
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
HISTORY_LIMIT = 200
CSV_LIMIT = 50_000
STATS_SECONDS = 300.0
TOTAL_SECONDS = 30.0
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # periods of statistics


def routes() -> list[web.RouteDef]:
    return [
        web.get(f"{PREFIX}/openapi.json", openapi),
        web.get(f"{PREFIX}/districts", districts),
        web.get(f"{PREFIX}/meetings", meetings),
        web.get(f"{PREFIX}/meetings/{{id:\\d+}}", meeting),
        web.get(f"{PREFIX}/measures", measures),
        web.get(f"{PREFIX}/measures.csv", measures_csv),
        web.get(f"{PREFIX}/measures/{{id:\\d+}}", measure),
        web.get(f"{PREFIX}/departments", departments),
        web.get(f"{PREFIX}/stats", stats),
        web.get(f"{PREFIX}/stats.csv", stats_csv),
    ]


def _session(request: web.Request) -> AsyncSession:
    return request.app[SESSION_POOL]()


async def openapi(request: web.Request) -> web.Response:
    return json_response(document(), cache="public, max-age=3600")


async def districts(request: web.Request) -> web.Response:
    today = local_today()
    async with _session(request) as session:
        summaries = await city_overview(session, today)
    return json_response(
        {
            "items": [
                {
                    "id": s.district.id,
                    "slug": s.district.slug,
                    "name": serialize.names(s.district),
                    "short_name": serialize.short_names(s.district),
                    "meetings": s.meetings,
                    "measures": serialize.tally(s.tally),
                }
                for s in summaries
            ]
        }
    )


def _paging(request: web.Request) -> tuple[int, int]:
    limit = int_param(request, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = int_param(request, "offset", default=0, low=0, high=10_000_000)
    assert limit is not None and offset is not None
    return limit, offset


async def _district_id(session: AsyncSession, request: web.Request) -> int | None:
    slug = text_param(request, "district", 40)
    if slug is None:
        return None
    found = await public.district_by_slug(session, slug)
    if found is None:
        raise BadParameter("district", "unknown district (see /api/v1/districts)")
    return found.id


async def meetings(request: web.Request) -> web.Response:
    limit, offset = _paging(request)
    async with _session(request) as session:
        district_id = await _district_id(session, request)
        items, total = await public.meetings(
            session, local_today(), district_id=district_id, limit=limit, offset=offset
        )
    return json_response(
        {
            "items": [serialize.meeting(item) for item in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def meeting(request: web.Request) -> web.Response:
    meeting_id = path_id(request)
    today = local_today()
    async with _session(request) as session:
        page = await meeting_page(session, meeting_id, 0, 10_000, today)
        if page is None:
            raise NotFound("meeting")
        linked = await public.department_codes(session, [row.id for row in page.rows])
    problems: list[dict[str, Any]] = []
    for row in page.rows:
        if not problems or problems[-1]["number"] != row.problem_number:
            problems.append(
                {"number": row.problem_number, "title": row.problem_title, "measures": []}
            )
        problems[-1]["measures"].append(
            serialize.measure_row(row, today, departments=linked.get(row.id, []))
        )
    body = serialize.meeting((page.meeting, page.district.slug, page.tally))
    body["plan"] = problems
    return json_response(body)


async def _measure_filter(session: AsyncSession, request: web.Request) -> public.MeasureFilter:
    department_id = None
    slug = text_param(request, "department", 100)
    if slug is not None:
        found = await public.department_by_slug(session, slug)
        if found is None:
            raise BadParameter("department", "unknown department (see /api/v1/departments)")
        department_id = found.id
    return public.MeasureFilter(
        district_id=await _district_id(session, request),
        meeting_id=int_param(request, "meeting", low=1),
        status=choice_param(request, "status", public.MEASURE_STATUSES),
        department_id=department_id,
        q=text_param(request, "q"),
    )


async def _find(
    request: web.Request,
    session: AsyncSession,
    flt: public.MeasureFilter,
    today: dt.date,
    limit: int,
    offset: int,
) -> public.MeasurePage:
    """A page of measures; a filter's total is counted at most every TOTAL_SECONDS (counting
    scans every measure, the page itself only its rows)."""
    totals = request.app[TOTALS_CACHE]
    key = (flt, today)
    known = totals.get(key) if flt.q is None else None
    page = await public.find_measures(
        session, flt, today, limit=limit, offset=offset, known_total=known
    )
    if flt.q is None:
        totals[key] = page.total
    return page


async def measures(request: web.Request) -> web.Response:
    limit, offset = _paging(request)
    today = local_today()
    async with _session(request) as session:
        flt = await _measure_filter(session, request)
        page = await _find(request, session, flt, today, limit, offset)
    items = [
        serialize.measure_row(
            row,
            today,
            meeting_id=page.meeting_ids.get(row.id),
            departments=page.departments.get(row.id, []),
            district_slug=page.district_slugs.get(row.district_id),
        )
        for row in page.rows
    ]
    return json_response({"items": items, "total": page.total, "limit": limit, "offset": offset})


async def measures_csv(request: web.Request) -> web.Response:
    today = local_today()
    i18n = request.app[I18N]
    async with _session(request) as session:
        flt = await _measure_filter(session, request)
        page = await _find(request, session, flt, today, CSV_LIMIT, 0)
    headers = [
        "id",
        "district",
        "meeting_id",
        "number",
        "problem",
        "text",
        "deadline_text",
        "due_date",
        "status",
        "status_ru",
        "days_left",
        "days_overdue",
        "departments",
    ]
    rows = []
    for row in page.rows:
        left, overdue = serialize.days(row.due_date, row.status, today)
        rows.append(
            [
                row.id,
                page.district_slugs.get(row.district_id, ""),
                page.meeting_ids.get(row.id),
                row.number,
                row.problem_title,
                row.text,
                row.deadline_text,
                row.due_date.isoformat() if row.due_date else "",
                row.status,
                i18n.gettext(MEASURE_LABELS.get(row.status, row.status), locale="ru"),
                left,
                overdue,
                ", ".join(page.departments.get(row.id, [])),
            ]
        )
    return csv_response(headers, rows, "kezdesu-measures.csv")


async def measure(request: web.Request) -> web.Response:
    measure_id = path_id(request)
    today = local_today()
    async with _session(request) as session:
        card = await load_card(session, measure_id)
        if card is None:
            raise NotFound("measure")
        entries = await public.history(session, measure_id, HISTORY_LIMIT)
        slug = await district_slug(request, session, card.district.code)
    return json_response(serialize.measure_detail(card, entries, slug, today))


async def departments(request: web.Request) -> web.Response:
    async with _session(request) as session:
        rows = await public.department_timeliness(session, local_today())
    return json_response({"items": [serialize.timeliness(row) for row in rows]})


async def _scope(session: AsyncSession, request: web.Request, today: dt.date) -> Scope:
    meeting_id = int_param(request, "meeting", low=1)
    slug = text_param(request, "district", 40)
    start, end = date_param(request, "from"), date_param(request, "to")
    given = [meeting_id is not None, slug is not None, start is not None or end is not None]
    if sum(given) != 1:
        raise BadParameter("scope", "give exactly one of: meeting, district, or from and to")
    if meeting_id is not None:
        if not await public.meeting_exists(session, meeting_id):
            raise NotFound("meeting")
        return Scope(ScopeKind.MEETING, id=meeting_id)
    if slug is not None:
        district_id = await _district_id(session, request)
        assert district_id is not None
        return Scope(ScopeKind.DISTRICT, id=district_id)
    if start is None or end is None:
        raise BadParameter("from" if start is None else "to", "both from and to are needed")
    if start > end:
        raise BadParameter("to", "must not be before from")
    for name, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise BadParameter(name, f"must be between {FIRST_DAY} and {LAST_DAY}")
    return Scope(ScopeKind.PERIOD, start=start, end=end)


async def _report(request: web.Request) -> dict[str, Any]:
    today = local_today()
    async with _session(request) as session:
        scope = await _scope(session, request, today)
        cache = request.app[STATS_CACHE]
        key = (scope, today)
        cached = cache.get(key)
        if cached is not None:
            return dict(cached)
        body = serialize.report(await build_report(session, scope, today))
    cache[key] = body
    return body


async def stats(request: web.Request) -> web.Response:
    return json_response(await _report(request))


async def stats_csv(request: web.Request) -> web.Response:
    body = await _report(request)
    rows: list[list[Any]] = [
        ["category", row["category"], row["name"]["ru"], row["count"], row["percent"]]
        for row in body["questions"]["by_category"]
    ]
    rows += [
        ["published_category", row["category"], row["name"]["ru"], row["count"], row["percent"]]
        for row in body["questions"]["published"]["by_category"]
    ]
    rows += [["question_status", k, "", v, ""] for k, v in body["questions"]["by_status"].items()]
    rows += [["measure_status", k, "", v, ""] for k, v in body["measures"]["by_status"].items()]
    rows += [["spoken_status", k, "", v, ""] for k, v in body["spoken"]["by_status"].items()]
    rows += [
        [
            "department",
            row["code"],
            row["name"]["ru"],
            row["measures"],
            f"on_time={row['done_on_time']};late={row['done_late']};overdue={row['overdue']}",
        ]
        for row in body["departments"]
    ]
    return csv_response(["section", "key", "name_ru", "count", "detail"], rows, "kezdesu-stats.csv")
