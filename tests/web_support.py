"""What the web tests share: the web application on the test's database with the demo plan,
people whose names, usernames and Telegram ids must never appear in a response, their
questions in every status, a department's report on a measure, and a validator of answers
against the OpenAPI document's schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import (
    Category,
    DepartmentMember,
    Dispute,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    MeasureUpdate,
    QuestionStatus,
    User,
)
from models.questions import create_question
from models.settings import Settings
from web.app import create_web_app
from web.openapi import document

# People whose traces must never be published.
PEOPLE = (
    (770_001_234, "Айгерим Секретова", "aigerim_secret"),
    (770_005_678, "Bolat Hiddenov", "bolat_hidden_42"),
    (770_009_999, "Official Dana Privatova", "dana_official_x"),
)


@dataclass
class World:
    meeting_id: int
    measure_ids: list[int]
    users: list[User]
    refs: dict[str, str] = field(default_factory=dict)  # status → ref
    secrets: list[str] = field(default_factory=list)


async def build_world(pool: async_sessionmaker[AsyncSession], meeting_id: int) -> World:
    """On top of the demo: three people, questions in every status (the accepted one with an
    address and a location, shown with its author's name), a department member's report with a
    comment, a dispute and follows."""
    async with pool() as session:
        users = [User(tg_id=i, full_name=n, username=u, locale="ru") for i, n, u in PEOPLE]
        session.add_all(users)
        await session.flush()
        almaly = (
            await session.execute(select(District).where(District.slug == "almaly"))
        ).scalar_one()
        users[0].district_id = almaly.id
        category = (
            (await session.execute(select(Category).order_by(Category.order))).scalars().first()
        )
        assert category is not None
        measure_ids = list(
            (await session.execute(select(Measure.id).order_by(Measure.id))).scalars()
        )
        world = World(meeting_id, measure_ids, users)
        for index, status in enumerate(QuestionStatus):
            question = await create_question(
                session,
                district_id=almaly.id,
                category_id=category.id,
                text=f"Вопрос жителя номер {index}: когда отремонтируют двор на улице Шевченко?",
                meeting_id=meeting_id,
                author=users[index % 2],
                show_name=True,
                address="ул. Шевченко, 97" if status == QuestionStatus.ACCEPTED else None,
                latitude=43.2437 if status == QuestionStatus.ACCEPTED else None,
                longitude=76.9142 if status == QuestionStatus.ACCEPTED else None,
                status=status,
            )
            if status == QuestionStatus.DONE:
                question.answer = "Двор отремонтирован в августе."
            world.refs[str(status)] = question.ref or ""
        # a department member reports on the first measure, with a comment
        link = (
            (
                await session.execute(
                    select(MeasureDepartment).where(MeasureDepartment.measure_id == measure_ids[0])
                )
            )
            .scalars()
            .first()
        )
        assert link is not None
        session.add(DepartmentMember(department_id=link.department_id, user_id=users[2].id))
        measure = await session.get(Measure, measure_ids[0])
        assert measure is not None
        measure.status, measure.progress = MeasureStatus.IN_PROGRESS, 40
        update = MeasureUpdate(
            measure_id=measure.id,
            author_id=users[2].id,
            department_id=link.department_id,
            kind="status",
            old_status=MeasureStatus.PLANNED,
            status=MeasureStatus.IN_PROGRESS,
            progress=40,
            comment="Работы начаты, подрядчик на объекте.",
            created_at=dt.datetime(2022, 8, 1, 6, 0, tzinfo=dt.UTC),
        )
        session.add(update)
        await session.flush()
        session.add(Dispute(measure_id=measure.id, user_id=users[0].id, update_id=update.id,
                            comment="Ничего не сделано"))  # fmt: skip
        session.add(Follow(user_id=users[0].id, measure_id=measure.id))
        session.add(Follow(user_id=users[1].id, district_id=almaly.id))
        await session.commit()
    for tg_id, name, username in PEOPLE:
        world.secrets += [str(tg_id), name, username, *name.split()]
    return world


@pytest.fixture
async def world(session_pool: async_sessionmaker[AsyncSession], demo: int) -> World:
    return await build_world(session_pool, demo)


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"web_public_url": "https://kezdesu.example.kz"})


@pytest.fixture
async def web(
    web_settings: Settings, session_pool: async_sessionmaker[AsyncSession], i18n: Any
) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_web_app(web_settings, session_pool, i18n)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def assert_private(body: str, world: World, where: str) -> None:
    for secret in world.secrets:
        if len(secret) >= 4:
            assert secret not in body, f"{secret!r} is published by {where}"


# --- a validator of the OpenAPI document's JSON schemas (the subset it uses) -------------------

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _type_ok(kind: str, value: object) -> bool:
    if kind in {"integer", "number"} and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def validate(schema: dict[str, Any], value: object, path: str = "$") -> None:
    """Raise AssertionError naming the path where ``value`` breaks ``schema``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        validate(document()["components"]["schemas"][name], value, path)
        return
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        assert any(_type_ok(k, value) for k in kinds), f"{path}: {value!r} is not {kinds}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if schema.get("format") == "date" and isinstance(value, str):
        dt.date.fromisoformat(value)
    if schema.get("format") == "date-time" and isinstance(value, str):
        assert dt.datetime.fromisoformat(value).tzinfo is not None, f"{path}: no offset"
    if isinstance(value, dict):
        for name in schema.get("required", []):
            assert name in value, f"{path}: {name} is missing"
        for name, item in value.items():
            if name in schema.get("properties", {}):
                validate(schema["properties"][name], item, f"{path}.{name}")
            elif "additionalProperties" in schema:
                validate(schema["additionalProperties"], item, f"{path}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate(schema["items"], item, f"{path}[{index}]")


def response_schema(path: str) -> dict[str, Any]:
    operation = document()["paths"][path]["get"]
    content = operation["responses"]["200"]["content"]
    return dict(next(iter(content.values()))["schema"])


async def get_json(client: TestClient[Any, Any], url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status == status, (url, response.status, await response.text())
    assert response.content_type == "application/json"
    return await response.json()
