"""The OpenAPI 3.1 document of the JSON API (``/api/v1/openapi.json``). The tests validate every
API response against these schemas, so the document and the answers cannot drift apart."""

from __future__ import annotations

import functools
from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


INT = {"type": "integer"}
STR = {"type": "string"}
NAMES = _obj({"ru": STR, "kk": STR, "en": STR})
STATUS = {"type": "string", "enum": ["planned", "in_progress", "done", "cancelled", "overdue"]}
COUNTS = {"type": "object", "additionalProperties": INT}
# questions per category, with their share: counted ones, and the figures published
BY_CATEGORY = {
    "type": "array",
    "items": _obj(
        {"category": STR, "name": _ref("Names"), "count": INT, "percent": {"type": "number"}}
    ),
}
DEPARTMENT_COUNTS = ("measures", "done_on_time", "done_late", "overdue", "questions", "answered")

SCHEMAS: dict[str, Any] = {
    "Names": NAMES,
    "Tally": _obj(
        dict.fromkeys(("total", "done", "in_progress", "planned", "overdue", "cancelled"), INT)
    ),
    "District": _obj(
        {
            "id": INT,
            "slug": STR,
            "name": _ref("Names"),
            "short_name": _ref("Names"),
            "meetings": INT,
            "measures": _ref("Tally"),
        }
    ),
    "Meeting": _obj(
        {
            "id": INT,
            "district": STR,
            "starts_at": {"type": "string", "format": "date-time"},
            "place": STR,
            "status": {"type": "string", "enum": ["scheduled", "held", "cancelled"]},
            "stream_url": _nullable("string"),
            "source_url": _nullable("string"),
            "questions_until": _nullable("string", format="date-time"),
            "outcome": _obj(
                {
                    k: _nullable("integer")
                    for k in (
                        "participants",
                        "speakers",
                        "questions_raised",
                        "answered_at_meeting",
                        "questions_done",
                        "questions_in_work",
                    )
                }
            ),
            "measures": _ref("Tally"),
        },
        {"plan": {"type": "array", "items": _ref("Problem")}},
    ),
    "Problem": _obj(
        {"number": INT, "title": STR, "measures": {"type": "array", "items": _ref("Measure")}}
    ),
    "Measure": _obj(
        {
            "id": INT,
            "number": STR,
            "source": {"type": "string", "enum": ["plan", "spoken"]},
            "text": STR,
            "problem": _obj({"number": INT, "title": STR}),
            "status": STATUS,
            "deadline_text": STR,
            "due_date": _nullable("string", format="date"),
            "days_left": _nullable("integer"),
            "days_overdue": _nullable("integer"),
            "departments": {"type": "array", "items": STR},
        },
        {"meeting_id": INT, "district": _nullable("string")},
    ),
    "Department": _obj({"code": STR, "name": _ref("Names"), "short_name": _ref("Names")}),
    "Update": _obj(
        {
            "date": {"type": "string", "format": "date-time"},
            "kind": STR,
            "status": _nullable("string"),
            "progress": _nullable("integer"),
            "comment": STR,
            "department": _nullable("string"),
            "department_name": {**NAMES, "type": ["object", "null"]},
        }
    ),
    "MeasureDetail": _obj(
        {
            "id": INT,
            "text": STR,
            "problem": _obj({"number": INT, "title": STR}),
            "meeting_id": INT,
            "meeting_date": {"type": "string", "format": "date-time"},
            "district": STR,
            "status": STATUS,
            "deadline_text": STR,
            "due_date": _nullable("string", format="date"),
            "days_left": _nullable("integer"),
            "days_overdue": _nullable("integer"),
            "progress": _nullable("integer"),
            "departments": {"type": "array", "items": _ref("Department")},
            "disputes": INT,
            "followers": INT,
            "updates": INT,
            "history": {"type": "array", "items": _ref("Update")},
        }
    ),
    "Timeliness": _obj(
        {
            "code": STR,
            "slug": STR,
            "name": _ref("Names"),
            "short_name": _ref("Names"),
            "measures": INT,
            "done_on_time": INT,
            "done_late": INT,
            "overdue": INT,
            "on_time_share": _nullable("number"),
        }
    ),
    "Stats": _obj(
        {
            "scope": _obj(
                {"kind": STR}, {"meeting_id": INT, "district": STR, "from": STR, "to": STR}
            ),
            "questions": _obj(
                {
                    "classified": INT,
                    "by_category": BY_CATEGORY,
                    "by_status": COUNTS,
                    "published": _obj(
                        {
                            "classified": INT,
                            "by_category": BY_CATEGORY,
                        }
                    ),
                }
            ),
            "measures": _obj({"total": INT, "by_status": COUNTS}),
            "spoken": _obj({"total": INT, "by_status": COUNTS}),
            "departments": {
                "type": "array",
                "items": _obj(
                    dict.fromkeys(DEPARTMENT_COUNTS, INT)
                    | {
                        "code": STR,
                        "slug": STR,
                        "name": _ref("Names"),
                        "short_name": _ref("Names"),
                    }
                ),
            },
        }
    ),
    "Error": _obj(
        {"error": _obj({"status": INT, "message": STR}, {"parameter": STR})},
    ),
}


def _list_of(name: str, paged: bool = True) -> dict[str, Any]:
    fields: dict[str, Any] = {"items": {"type": "array", "items": _ref(name)}}
    if paged:
        fields |= {"total": INT, "limit": INT, "offset": INT}
    return _obj(fields)


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STR,
    }


PAGING = [
    _param(
        "limit",
        "items per page (1-500, default 50)",
        {"type": "integer", "minimum": 1, "maximum": 500},
    ),
    _param("offset", "items to skip", {"type": "integer", "minimum": 0}),
]
MEASURE_FILTERS = [
    _param("district", "a district's slug (see /districts)"),
    _param("meeting", "a meeting's id", {"type": "integer", "minimum": 1}),
    _param("status", "the status as residents see it", STATUS),
    _param("department", "a department's slug or code (see /departments)"),
    _param("q", "words, as the bot's search takes them (every word must match)"),
]
SCOPE = [
    _param("meeting", "a meeting's id", {"type": "integer", "minimum": 1}),
    _param("district", "a district's slug"),
    _param("from", "first day of a period (with to)", {"type": "string", "format": "date"}),
    _param("to", "last day of a period (with from)", {"type": "string", "format": "date"}),
]
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]


def _get(
    summary: str,
    schema: dict[str, Any],
    params: list[dict[str, Any]] | None = None,
    media: str = "application/json",
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {media: {"schema": schema}}},
        "304": {"description": "Not modified (If-None-Match)"},
        "400": {
            "description": "A bad parameter",
            "content": {"application/json": {"schema": _ref("Error")}},
        },
        "404": {
            "description": "Unknown id",
            "content": {"application/json": {"schema": _ref("Error")}},
        },
    }
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


CSV = {"type": "string"}


@functools.cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kezdesu open data",
            "version": "1.0.0",
            "description": (
                "The commitments made at the Almaty akim's meetings with residents: districts, "
                "meetings, their action plans' measures, departments' timeliness and statistics "
                "in the akimat report's form. No person's name or Telegram id is published. "
                "Residents' accepted questions are served as Open311 GeoReport v2 under "
                "/open311/v2/. Every answer carries an ETag; send If-None-Match to get 304."
            ),
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/districts": _get("Districts with their measures' tally", _list_of("District", False)),
            "/meetings": _get(
                "Meetings, newest first, with outcome figures",
                _list_of("Meeting"),
                [_param("district", "a district's slug"), *PAGING],
            ),
            "/meetings/{id}": _get("A meeting with its action plan", _ref("Meeting"), ID),
            "/measures": _get(
                "Measures, newest first (with q: the search's order)",
                _list_of("Measure"),
                [*MEASURE_FILTERS, *PAGING],
            ),
            "/measures.csv": _get(
                "Measures as CSV (UTF-8), the same filters", CSV, MEASURE_FILTERS, "text/csv"
            ),
            "/measures/{id}": _get("A measure with its history", _ref("MeasureDetail"), ID),
            "/departments": _get(
                "Departments' timeliness, the best record first", _list_of("Timeliness", False)
            ),
            "/stats": _get(
                "Statistics for a meeting, a district or a period", _ref("Stats"), SCOPE
            ),
            "/stats.csv": _get("Statistics as CSV (UTF-8)", CSV, SCOPE, "text/csv"),
        },
        "components": {"schemas": SCHEMAS},
    }
