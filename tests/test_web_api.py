"""The JSON API, its CSV downloads and Open311 through aiohttp's test client, on both databases:
answers validated against the OpenAPI document, every filter, bad parameters (400 with a JSON
error, never a 500), unknown ids (404), ETag and Cache-Control, and a scan of every answer for
the people in the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.clock import local_today
from models.statuses import OVERDUE
from tests.web_support import (
    World,
    assert_private,
    get_json,
    response_schema,
    validate,
    web,
    web_settings,
    world,
)

__all__ = ["web", "web_settings", "world"]  # fixtures

API = "/api/v1"


async def test_every_endpoint_answers_in_its_documented_shape(
    web: TestClient[Any, Any], world: World
) -> None:
    checks = {
        "/districts": f"{API}/districts",
        "/meetings": f"{API}/meetings",
        "/meetings/{id}": f"{API}/meetings/{world.meeting_id}",
        "/measures": f"{API}/measures?limit=500",
        "/measures/{id}": f"{API}/measures/{world.measure_ids[0]}",
        "/departments": f"{API}/departments",
        "/stats": f"{API}/stats?meeting={world.meeting_id}",
    }
    for path, url in checks.items():
        validate(response_schema(path), await get_json(web, url), url)
    document = await get_json(web, f"{API}/openapi.json")
    assert document["openapi"].startswith("3.1") and set(checks) <= set(document["paths"])


async def test_a_measure_has_its_deadline_status_days_history_and_departments(
    web: TestClient[Any, Any], world: World
) -> None:
    body = await get_json(web, f"{API}/measures/{world.measure_ids[0]}")
    assert body["id"] == world.measure_ids[0]
    assert body["deadline_text"] == "2022 год" and body["due_date"] == "2022-12-31"
    assert body["status"] == OVERDUE  # in progress and past its due date
    expected = (local_today() - dt.date(2022, 12, 31)).days
    assert abs(body["days_overdue"] - expected) <= 1 and body["days_left"] is None
    assert body["progress"] == 40 and body["disputes"] == 1 and body["followers"] == 1
    assert body["departments"] and all(d["name"]["ru"] for d in body["departments"])
    (entry,) = body["history"]
    assert entry["comment"] == "Работы начаты, подрядчик на объекте."
    assert entry["department"] and entry["status"] == "in_progress"
    assert set(entry) == {
        "date", "kind", "status", "progress", "comment", "department", "department_name",
    }  # fmt: skip
    # the code identifies the department; its names are given in every language
    assert entry["department_name"]["kk"] and entry["department_name"]["en"]
    assert entry["department_name"]["en"] != entry["department"]


async def test_meeting_has_outcome_figures_and_its_plan(
    web: TestClient[Any, Any], world: World
) -> None:
    body = await get_json(web, f"{API}/meetings/{world.meeting_id}")
    assert body["district"] == "almaly" and body["starts_at"] == "2022-06-23T15:00:00+06:00"
    assert body["outcome"]["questions_raised"] == 93
    measures = [m for problem in body["plan"] for m in problem["measures"]]
    assert len(measures) == body["measures"]["total"] == len(world.measure_ids)
    listed = await get_json(web, f"{API}/meetings?district=almaly")
    assert [m["id"] for m in listed["items"]] == [world.meeting_id] and listed["total"] == 1
    assert (await get_json(web, f"{API}/meetings?district=turksib"))["items"] == []


async def test_every_measure_filter(web: TestClient[Any, Any], world: World) -> None:
    everything = (await get_json(web, f"{API}/measures?limit=500"))["items"]
    assert len(everything) == len(world.measure_ids)

    async def ids(query: str) -> set[int]:
        body = await get_json(web, f"{API}/measures?limit=500&{query}")
        assert body["total"] == len(body["items"])
        return {m["id"] for m in body["items"]}

    assert await ids("district=almaly") == set(world.measure_ids)
    assert await ids("district=medeu") == set()
    assert await ids(f"meeting={world.meeting_id}") == set(world.measure_ids)
    assert await ids("meeting=999999") == set()
    for status in ("planned", "in_progress", "done", "cancelled", OVERDUE):
        assert await ids(f"status={status}") == {
            m["id"] for m in everything if m["status"] == status
        }
    first = everything[-1]  # the oldest id: the measure the department reported on
    code = first["departments"][0]
    by_department = await ids(f"department={code}")
    assert first["id"] in by_department
    assert all(code in m["departments"] for m in everything if m["id"] in by_department)
    searched = await ids("q=школ")
    assert searched and all(
        "школ" in (m["text"] + m["problem"]["title"]).lower()
        for m in everything
        if m["id"] in searched
    )
    assert await ids("q=школ&status=done") == searched & await ids("status=done")
    assert await ids("q=несуществующееслово") == set()
    page = await get_json(web, f"{API}/measures?limit=2&offset=2")
    assert [m["id"] for m in page["items"]] == [m["id"] for m in everything[2:4]]


async def test_departments_timeliness_and_stats(web: TestClient[Any, Any], world: World) -> None:
    departments = (await get_json(web, f"{API}/departments"))["items"]
    assert sum(d["overdue"] for d in departments) >= 1
    assert all(
        d["measures"] >= d["done_on_time"] + d["done_late"] + d["overdue"] for d in departments
    )
    stats = await get_json(web, f"{API}/stats?district=almaly")
    assert stats["scope"] == {"kind": "district", "district": "almaly"}
    # accepted, answered at the meeting, in work and done are classified: 4 questions
    assert stats["questions"]["classified"] == 4
    assert sum(row["count"] for row in stats["questions"]["by_category"]) == 4
    assert stats["questions"]["by_category"][0]["percent"] == 100.0
    assert stats["questions"]["published"] == {"classified": 0, "by_category": []}
    assert stats["departments"] and all(
        row["name"]["en"] and row["short_name"]["kk"] and row["slug"]
        for row in stats["departments"]
    )
    # a meeting carries the classification published after it, apart from the bot's questions
    meeting = await get_json(web, f"{API}/stats?meeting={world.meeting_id}")
    published = meeting["questions"]["published"]
    assert published["classified"] == 74
    assert [(r["category"], r["count"], r["percent"]) for r in published["by_category"]][:2] == [
        ("housing", 8, 10.8),
        ("landscaping", 18, 24.3),
    ]
    assert meeting["questions"]["classified"] == 4
    period = await get_json(web, f"{API}/stats?from=2022-01-01&to=2022-12-31")
    # the plan's measures and, as their own group, the promises stated at the meeting
    assert (period["measures"]["total"], period["spoken"]["total"]) == (12, 9)
    assert period["measures"]["total"] + period["spoken"]["total"] == len(world.measure_ids)


async def test_csv_downloads_are_utf8_and_parse(web: TestClient[Any, Any], world: World) -> None:
    response = await web.get(f"{API}/measures.csv?district=almaly")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.charset == "utf-8" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert len(rows) == len(world.measure_ids)
    assert {row["district"] for row in rows} == {"almaly"} and all(row["text"] for row in rows)
    assert any("Алмат" in row["text"] or "ш" in row["text"] for row in rows)  # Cyrillic intact
    stats = await web.get(f"{API}/stats.csv?meeting={world.meeting_id}")
    table = list(csv.reader(io.StringIO((await stats.read()).decode("utf-8-sig"))))
    assert table[0][:2] == ["section", "key"] and len(table) > 10


async def test_etag_and_cache_control(web: TestClient[Any, Any], world: World) -> None:
    for url in (f"{API}/measures", f"{API}/measures.csv", "/open311/v2/requests.json", "/m/1"):
        first = await web.get(url)
        assert first.status == 200 and "max-age" in first.headers["Cache-Control"]
        tag = first.headers["ETag"]
        again = await web.get(url, headers={"If-None-Match": tag})
        assert again.status == 304 and again.headers["ETag"] == tag
        assert await again.read() == b""
        other = await web.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status == 200
    health = await web.get("/healthz")
    assert health.headers["Cache-Control"] == "no-store" and "ETag" not in health.headers


async def test_bad_parameters_get_400_with_a_json_error(
    web: TestClient[Any, Any], world: World
) -> None:
    bad = {
        "measures?status=late": "status",
        "measures?limit=0": "limit",
        "measures?limit=501": "limit",
        "measures?limit=abc": "limit",
        "measures?offset=-1": "offset",
        "measures?district=atlantis": "district",
        "measures?department=NOPE": "department",
        "measures?meeting=x": "meeting",
        f"measures?q={'ш' * 201}": "q",
        "measures?q=%00": "q",
        "meetings?district=nowhere": "district",
        "stats": "scope",
        "stats?meeting=1&district=almaly": "scope",
        "stats?from=2022-13-01&to=2022-12-31": "from",
        "stats?from=2022-02-01": "to",
        "stats?from=2022-02-01&to=2022-01-01": "to",
        "stats?from=0001-01-01&to=2022-01-01": "from",
        "stats?from=2022-01-01&to=9999-12-31": "to",
    }
    for query, parameter in bad.items():
        body = await get_json(web, f"{API}/{query}", 400)
        assert body["error"]["status"] == 400 and body["error"]["parameter"] == parameter, query
        validate({"$ref": "#/components/schemas/Error"}, body, query)


async def test_unknown_ids_get_404(web: TestClient[Any, Any], world: World) -> None:
    for url in (
        f"{API}/measures/999999",
        f"{API}/measures/99999999999999",
        f"{API}/meetings/424242",
        f"{API}/nothing",
        "/open311/v2/requests/AL-9999.json",
        "/open311/v2/services/nothing.json",
        f"{API}/stats?meeting=424242",
    ):
        body = await get_json(web, url, 404)
        assert body == [{"code": 404, "description": "not found"}] or body["error"]["status"] == 404


async def test_open311_requests_publish_accepted_questions_only(
    web: TestClient[Any, Any], world: World
) -> None:
    services = await get_json(web, "/open311/v2/services.json")
    assert len(services) == 10
    for service in services:
        assert service["metadata"] is False and service["type"] == "realtime"
        assert {"service_code", "service_name", "description", "keywords", "group"} <= set(service)
    code = services[0]["service_code"]
    assert (await get_json(web, f"/open311/v2/services/{code}.json"))["service_code"] == code
    discovery = await get_json(web, "/open311/v2/discovery.json")
    assert discovery["endpoints"][0]["url"] == "https://kezdesu.example.kz/open311/v2/"

    requests = await get_json(web, "/open311/v2/requests.json")
    published = {"accepted", "in_work", "answered_at_meeting", "done"}
    assert {r["service_request_id"] for r in requests} == {world.refs[s] for s in published}
    for item in requests:
        for name, kind in (("service_request_id", str), ("status", str), ("status_notes", str),
                           ("service_code", str), ("service_name", str), ("description", str),
                           ("agency_responsible", str), ("requested_datetime", str),
                           ("updated_datetime", str)):  # fmt: skip
            assert isinstance(item[name], kind), name
        assert item["status"] in {"open", "closed"}
        dt.datetime.fromisoformat(item["requested_datetime"])
        assert "expected_datetime" in item
    dates = [r["requested_datetime"] for r in requests]
    assert dates == sorted(dates, reverse=True)
    (accepted,) = await get_json(web, f"/open311/v2/requests/{world.refs['accepted']}.json")
    assert accepted["status"] == "open" and accepted["address"] == "ул. Шевченко, 97"
    assert (accepted["lat"], accepted["long"]) == (43.2437, 76.9142)
    (done,) = await get_json(web, f"/open311/v2/requests/{world.refs['done']}.json")
    assert done["status"] == "closed" and done["status_notes"] == "Двор отремонтирован в августе."
    assert "address" not in done
    for hidden in ("submitted", "rejected", "merged"):
        await get_json(web, f"/open311/v2/requests/{world.refs[hidden]}.json", 404)


async def test_open311_filters(web: TestClient[Any, Any], world: World) -> None:
    async def refs(query: str) -> set[str]:
        return {
            r["service_request_id"]
            for r in await get_json(web, f"/open311/v2/requests.json?{query}")
        }

    everything = await refs("")
    assert await refs("status=open") == {world.refs["accepted"], world.refs["in_work"]}
    assert await refs("status=closed") == {world.refs["answered_at_meeting"], world.refs["done"]}
    assert await refs("status=open,closed") == everything
    both = f"{world.refs['accepted']},{world.refs['rejected']}"
    assert await refs(f"service_request_id={both}") == {world.refs["accepted"]}
    services = await get_json(web, "/open311/v2/services.json")
    assert await refs(f"service_code={services[0]['service_code']}") == everything
    assert await refs(f"service_code={services[1]['service_code']}") == set()
    today = local_today()
    assert await refs(f"start_date={today - dt.timedelta(days=1)}T00:00:00Z") == everything
    assert await refs(f"end_date={today - dt.timedelta(days=1)}T00:00:00%2B05:00") == set()
    assert await refs("page_size=2") <= everything and len(await refs("page_size=2")) == 2
    assert await refs("page_size=2&page=3") == set()
    for query in ("status=pending", "start_date=yesterday", "page_size=1001", "service_code=x",
                  "service_request_id=AL%00", "lang=de",
                  "start_date=2023-01-02&end_date=2023-01-01"):  # fmt: skip
        body = await get_json(web, f"/open311/v2/requests.json?{query}", 400)
        assert body[0]["code"] == 400 and body[0]["description"], query


async def test_no_answer_names_a_person(web: TestClient[Any, Any], world: World) -> None:
    urls = [
        f"{API}/districts", f"{API}/meetings", f"{API}/meetings/{world.meeting_id}",
        f"{API}/measures?limit=500", f"{API}/measures.csv", f"{API}/departments",
        f"{API}/stats?district=almaly", f"{API}/stats.csv?district=almaly",
        "/open311/v2/requests.json", "/open311/v2/services.json", "/", "/d/almaly",
        f"/meetings/{world.meeting_id}", "/departments", "/nothing",
    ]  # fmt: skip
    urls += [f"{API}/measures/{i}" for i in world.measure_ids]
    urls += [f"/m/{i}?lang={lang}" for i in world.measure_ids for lang in ("ru", "kk", "en")]
    urls += [f"/open311/v2/requests/{ref}.json" for ref in world.refs.values()]
    for url in urls:
        response = await web.get(url)
        assert response.status in {200, 404}, url
        assert_private(await response.text(), world, url)
        assert_private(str(dict(response.headers)), world, url)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(
        [
            "/api/v1/measures",
            "/api/v1/meetings",
            "/api/v1/stats",
            "/api/v1/measures.csv",
            "/open311/v2/requests.json",
            "/d/almaly",
            "/",
            "/departments",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "limit",
                "offset",
                "district",
                "meeting",
                "department",
                "q",
                "from",
                "to",
                "page",
                "page_size",
                "start_date",
                "end_date",
                "service_code",
                "service_request_id",
                "lang",
            ]
        ),
        st.text(max_size=30) | st.integers(-(2**70), 2**70).map(str),
        max_size=4,
    ),
)
async def test_query_parameters_never_get_a_500(
    web: TestClient[Any, Any], world: World, path: str, params: dict[str, str]
) -> None:
    response = await web.get(path, params=params)
    assert response.status in {200, 400, 404}, (path, params, await response.text())
    if path.startswith(("/api/", "/open311/")) and response.status == 400:
        assert response.content_type == "application/json"
