"""Open311 GeoReport v2, the read side, in JSON: residents' accepted questions as service
requests, the report's ten categories as services. Rejected, merged-away and not yet moderated
questions are not published, and nothing that leads to a person is (no author, name, username
or Telegram id): the consent text of the question form says so.

Names follow ``?lang=ru|kk|en`` (then Accept-Language); times are Asia/Almaty with their offset.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from models import public
from models.clock import ALMATY
from models.entities import Category, Department
from models.public import RequestFilter, ServiceRequest
from web.context import SESSION_POOL, base_url
from web.http import BadParameter, NotFound, choice_param, datetime_param, int_param, json_response
from web.http import text_param as text
from web.locale import negotiate
from web.serialize import local

PREFIX = "/open311/v2"
PAGE_SIZE = 1000
SPEC = "http://wiki.open311.org/GeoReport_v2"
REF = re.compile(r"[A-Za-z0-9-]{1,20}")


def routes() -> list[web.RouteDef]:
    return [
        web.get(f"{PREFIX}/discovery.json", discovery),
        web.get(f"{PREFIX}/services.json", services),
        web.get(f"{PREFIX}/services/{{code}}.json", service),
        web.get(f"{PREFIX}/requests.json", requests),
        web.get(f"{PREFIX}/requests/{{id}}.json", request_by_id),
    ]


def _format(request: web.Request) -> None:
    """JSON only; GeoReport's ``format`` parameter may say so."""
    choice_param(request, "format", ("json",))
    choice_param(request, "lang", ("ru", "kk", "en"))


async def discovery(request: web.Request) -> web.Response:
    _format(request)
    url = f"{base_url(request)}{PREFIX}/"
    return json_response(
        {
            "changeset": "2026-12-01T00:00:00+05:00",
            "contact": "The akimat of Almaty, through the Kezdesu bot",
            "key_service": "Read-only: no API key is needed and none is issued",
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": url,
                    "changeset": "2026-12-01T00:00:00+05:00",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


def _service(category: Category, department: Department | None, locale: str) -> dict[str, Any]:
    keywords = [category.short(locale), category.name(locale)]
    if category.seed_label_ru:
        keywords.append(category.seed_label_ru)
    return {
        "service_code": category.slug,
        "service_name": category.name(locale),
        "description": category.name(locale),
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(k for k in keywords if k)),
        "group": department.name(locale) if department is not None else "",
    }


async def services(request: web.Request) -> web.Response:
    _format(request)
    locale = negotiate(request)
    async with request.app[SESSION_POOL]() as session:
        found = await public.categories(session)
    return json_response([_service(c, d, locale) for c, d in found])


async def service(request: web.Request) -> web.Response:
    """A service's definition: none of ours takes extra attributes (``metadata: false``)."""
    _format(request)
    code = request.match_info["code"]
    async with request.app[SESSION_POOL]() as session:
        found = [c for c, _d in await public.categories(session) if c.slug == code]
    if not found:
        raise NotFound("service")
    return json_response({"service_code": code, "attributes": []})


def _request(found: ServiceRequest, locale: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "service_request_id": found.ref,
        "status": "open" if found.is_open else "closed",
        "status_notes": found.answer or "",
        "service_name": found.category.name(locale),
        "service_code": found.category.slug,
        "description": found.text,
        "agency_responsible": found.department.name(locale) if found.department else "",
        "service_notice": "",
        "requested_datetime": local(found.created_at),
        "updated_datetime": local(found.updated_at),
        "expected_datetime": local(found.expected_at),
    }
    if found.address:
        result["address"] = found.address
    if found.latitude is not None and found.longitude is not None:
        result["lat"], result["long"] = found.latitude, found.longitude
    return result


def _refs(request: web.Request) -> tuple[str, ...]:
    value = text(request, "service_request_id", 2000)
    if value is None:
        return ()
    refs = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not all(REF.fullmatch(ref) for ref in refs):
        raise BadParameter("service_request_id", "ids look like AL-0153")
    if len(refs) > 100:
        raise BadParameter("service_request_id", "at most 100 ids")
    return refs


async def requests(request: web.Request) -> web.Response:
    """Accepted questions, newest first, at most 1,000 per page (``page``, from 1)."""
    _format(request)
    locale = negotiate(request)
    status = choice_param(request, "status", ("open", "closed", "open,closed", "closed,open"))
    start = datetime_param(request, "start_date", ALMATY)
    end = datetime_param(request, "end_date", ALMATY)
    if start is not None and end is not None and start > end:
        raise BadParameter("end_date", "must not be before start_date")
    page_size = int_param(request, "page_size", default=PAGE_SIZE, low=1, high=PAGE_SIZE)
    page = int_param(request, "page", default=1, low=1, high=100_000)
    assert page_size is not None and page is not None
    code = text(request, "service_code", 40)
    async with request.app[SESSION_POOL]() as session:
        category_id = None
        if code is not None:
            matching = [c for c, _d in await public.categories(session) if c.slug == code]
            if not matching:
                raise BadParameter("service_code", "unknown service (see services.json)")
            category_id = matching[0].id
        flt = RequestFilter(
            refs=_refs(request),
            category_id=category_id,
            start=start,
            end=end,
            open=None if status is None or "," in status else status == "open",
        )
        found = await public.service_requests(
            session, flt, limit=page_size, offset=(page - 1) * page_size
        )
    return json_response([_request(item, locale) for item in found])


async def request_by_id(request: web.Request) -> web.Response:
    _format(request)
    locale = negotiate(request)
    ref = request.match_info["id"].strip()
    if not REF.fullmatch(ref):
        raise NotFound("request")
    async with request.app[SESSION_POOL]() as session:
        found = await public.service_requests(session, RequestFilter(refs=(ref,)), limit=1)
    if not found:
        raise NotFound("request")
    return json_response([_request(found[0], locale)])
