"""The public pages, rendered on the server (Jinja2, autoescaped), readable on a phone and
complete without JavaScript: the city overview, a district, a meeting and its plan, a measure
(the bot's card, a progress bar and the history) and the departments' timeliness league. The
same pages are the Telegram Mini App: inside Telegram a small script of ours adds follow and
"my district" buttons (web/miniapp.py)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from models import public
from models.clock import local_today
from models.commitments import Tally, city_overview, district_page, load_card, meeting_page
from models.statuses import OVERDUE
from web.context import I18N, SESSION_POOL, SETTINGS, district_slug
from web.http import NotFound, int_param, path_id
from web.locale import LOCALES, Texts, negotiate

MEETINGS_PER_PAGE = 20
HISTORY_LIMIT = 100
BAR_ORDER = ("done", "in_progress", "planned", "overdue", "cancelled")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", overview),
        web.get("/d/{slug}", district),
        web.get("/meetings/{id:\\d+}", meeting),
        web.get("/m/{id:\\d+}", measure),
        web.get("/departments", departments),
    ]


def texts(request: web.Request) -> Texts:
    return Texts(request.app[I18N], negotiate(request), local_today())


def bar(tally: Tally) -> list[dict[str, Any]]:
    """The segments of a status bar: each status's share of the total, in percent."""
    total = tally.total
    segments, start = [], 0.0
    for name in BAR_ORDER:
        count = getattr(tally, name)
        if total and count:
            width = 100.0 * count / total
            segments.append(
                {"status": name, "count": count, "x": round(start, 3), "width": round(width, 3)}
            )
            start += width
    return segments


def render(
    request: web.Request, template: str, t: Texts, context: dict[str, Any], status: int = 200
) -> web.Response:
    path = request.path
    body = aiohttp_jinja2.render_string(
        template,
        request,
        {
            **context,
            "t": t,
            "_": t._,
            "bar": bar,
            "locales": LOCALES,
            "path": path,
            "public_url": request.app[SETTINGS].web_public_url,
            "OVERDUE": OVERDUE,
        },
    )
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Language"] = t.locale
    response.headers["Vary"] = "Accept-Language"
    return response


async def error_page(request: web.Request, status: int) -> web.Response:
    return render(request, "error.html", texts(request), {"status": status}, status)


async def overview(request: web.Request) -> web.Response:
    t = texts(request)
    async with request.app[SESSION_POOL]() as session:
        summaries = await city_overview(session, t.today)
    city = Tally()
    for summary in summaries:
        for name in BAR_ORDER:
            setattr(city, name, getattr(city, name) + getattr(summary.tally, name))
    return render(request, "overview.html", t, {"summaries": summaries, "city": city})


async def district(request: web.Request) -> web.Response:
    t = texts(request)
    page_number = int_param(request, "page", default=1, low=1, high=100_000)
    assert page_number is not None
    async with request.app[SESSION_POOL]() as session:
        found = await public.district_by_slug(session, request.match_info["slug"][:40])
        if found is None:
            raise NotFound("district")
        page = await district_page(session, found.id, page_number - 1, MEETINGS_PER_PAGE, t.today)
        summaries = await city_overview(session, t.today)
    assert page is not None
    tally = next((s.tally for s in summaries if s.district.id == found.id), Tally())
    pages = max(1, -(-page.total // MEETINGS_PER_PAGE))
    return render(
        request,
        "district.html",
        t,
        {"district": found, "page": page, "tally": tally, "pages": pages},
    )


async def meeting(request: web.Request) -> web.Response:
    t = texts(request)
    async with request.app[SESSION_POOL]() as session:
        page = await meeting_page(session, path_id(request), 0, 10_000, t.today)
    if page is None:
        raise NotFound("meeting")
    problems: list[dict[str, Any]] = []
    for row in page.rows:
        if not problems or problems[-1]["number"] != row.problem_number:
            problems.append({"number": row.problem_number, "title": row.problem_title, "rows": []})
        problems[-1]["rows"].append(row)
    return render(request, "meeting.html", t, {"page": page, "problems": problems})


async def measure(request: web.Request) -> web.Response:
    t = texts(request)
    measure_id = path_id(request)
    async with request.app[SESSION_POOL]() as session:
        card = await load_card(session, measure_id)
        if card is None:
            raise NotFound("measure")
        entries = await public.history(session, measure_id, HISTORY_LIMIT)
        slug = await district_slug(request, session, card.district.code)
    status = card.status(t.today)
    return render(
        request,
        "measure.html",
        t,
        {"card": card, "status": status, "entries": entries, "district_slug": slug},
    )


async def departments(request: web.Request) -> web.Response:
    t = texts(request)
    async with request.app[SESSION_POOL]() as session:
        rows = await public.department_timeliness(session, t.today)
    return render(request, "departments.html", t, {"rows": rows, "share": public.on_time_share})
