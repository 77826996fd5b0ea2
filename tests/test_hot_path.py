"""The hot path of a resident's update, in SQL statements (no timings): opening a card, a search
at the main menu and the text step of the question form each cost a small, fixed number of
statements on SQLite and PostgreSQL, whatever the size of the data; the folded card still tells
a department member from a resident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from aiogram.dispatcher.event.handler import FilterObject
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.callbacks import OpenMeasureCb
from bot.fast_filters import GatedDispatcher, router_gate
from models import commitments
from models.entities import (
    DepartmentMember,
    District,
    Measure,
    MeasureDepartment,
    Notification,
    User,
)
from models.measures import record_change
from models.search import SearchPage, search_measures
from scheduler.queue import enqueue, enqueue_many
from tests.conftest import onboard
from tests.harness import BotClient, last_message
from tests.test_questions_form import add_meeting, go_to
from tests.test_resident_browse import count_statements, make_meeting

REPORT = "📝 Report progress"


def _data_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT")]


async def test_card_costs_one_statement_and_keeps_the_report_right(
    engine: AsyncEngine, session: AsyncSession, make_client: Callable[..., BotClient]
) -> None:
    _meeting_id, ids = await make_meeting(session, measures=20, departments=("УО", "УКС"))
    measure = await session.get(Measure, ids[12])
    assert measure is not None
    for n in range(3):
        await record_change(session, measure, author_id=None, department_id=None, progress=n * 10)
    await session.commit()
    resident = make_client(user_id=7301, language_code="en")
    member = make_client(user_id=7302, language_code="en")
    await onboard(resident, "en")
    await onboard(member, "en")
    member_id = (await session.execute(select(User.id).where(User.tg_id == 7302))).scalar_one()
    department_id = (
        await session.execute(
            select(MeasureDepartment.department_id)
            .where(MeasureDepartment.measure_id == ids[12])
            .order_by(MeasureDepartment.position.desc())
            .limit(1)
        )
    ).scalar_one()
    session.add(DepartmentMember(department_id=department_id, user_id=member_id))
    await session.commit()

    for client, may_report in ((resident, False), (member, True)):
        costs = []
        for measure_id in (ids[0], ids[12]):
            with count_statements(engine) as statements:
                sent = await client.press(OpenMeasureCb(id=measure_id).pack())
            costs.append(len(_data_statements(statements)))
            card = last_message(sent)
            assert (REPORT in card.buttons) is may_report
        # the profile (read once, then served by the profile cache); the card with its
        # departments, counts, permission and plan page
        assert costs == [2, 1], costs
    card = last_message(await resident.press(OpenMeasureCb(id=ids[12]).pack()))
    assert "20%" in card.text  # the latest update, loaded with the card
    session.expunge_all()
    loaded = await commitments.load_card(session, ids[12], per_page=8)
    assert loaded is not None
    assert [d.code for d in loaded.departments] == ["УО", "УКС"]  # in their order, once each
    assert (loaded.updates, loaded.plan_page, loaded.latest is not None) == (3, 1, True)
    assert loaded.measure.id == ids[12] and not loaded.can_report


async def test_search_at_the_menu_costs_three_statements(
    engine: AsyncEngine, session: AsyncSession, make_client: Callable[..., BotClient]
) -> None:
    await make_meeting(session, measures=30, departments=("УО", "УКС"))
    client = make_client(user_id=7311, language_code="en")
    await onboard(client, "en")
    with count_statements(engine) as statements:
        sent = await client.send("Сайран")
    assert "found" in last_message(sent).text or "Nothing" in last_message(sent).text
    # the profile, the count and the page
    assert len(_data_statements(statements)) <= 3, statements


async def test_search_totals_come_with_the_page_and_a_page_past_the_end_is_the_last(
    session: AsyncSession,
) -> None:
    await make_meeting(session, measures=25, text="Сайран {n}", district="almaly")
    await make_meeting(
        session, measures=4, text="Сайран {n}", district="medeu",
        starts_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    today = dt.date(2023, 1, 1)

    async def find(page: int) -> SearchPage:
        return await search_measures(
            session, "сайран", district_id=almaly.id, page=page, per_page=10, today=today
        )

    pages = [await find(n) for n in range(3)]
    assert [(p.total, p.in_district, p.page, len(p.rows)) for p in pages] == [
        (29, 25, 0, 10), (29, 25, 1, 10), (29, 25, 2, 9)
    ]  # fmt: skip
    ids = [r.id for p in pages for r in p.rows]
    assert len(set(ids)) == 29  # no row twice, none left out
    assert all(r.district_id == almaly.id for r in pages[0].rows + pages[1].rows)
    assert [r.district_id == almaly.id for r in pages[2].rows] == [True] * 5 + [False] * 4
    beyond = await find(7)
    assert (beyond.page, beyond.total, [r.id for r in beyond.rows]) == (2, 29, ids[20:])
    nothing = await search_measures(
        session, "zzqqxx", district_id=None, page=3, per_page=10, today=today
    )
    assert (nothing.total, nothing.in_district, nothing.rows, nothing.page) == (0, 0, [], 0)


async def test_form_text_step_costs_two_statements(
    engine: AsyncEngine,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    client: BotClient,
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    with count_statements(engine) as statements:
        sent = await client.send("The street lights on Tole bi 12 have been off for a month.")
    assert "send the address" in last_message(sent).text
    # the profile and the duplicate check
    assert len(_data_statements(statements)) <= 2, statements


async def test_enqueue_many_inserts_in_batches_and_skips_queued_keys(session: AsyncSession) -> None:
    """The reminders' multi-row insert keeps ``enqueue``'s dedup: a key queued before, or twice
    in the same call, gives one row; the count is of rows really inserted."""
    assert await enqueue(session, chat_id=1, text="first", kind="t", dedup_key="k1")
    messages = [
        {"chat_id": 1, "text": "again", "kind": "t", "dedup_key": "k1"},
        {"chat_id": 2, "text": "two", "kind": "t", "dedup_key": "k2", "is_group": True},
        {"chat_id": 3, "text": "three", "kind": "t", "dedup_key": "k3"},
        {"chat_id": 3, "text": "three again", "kind": "t", "dedup_key": "k3"},
        {"chat_id": 4, "text": "no key", "kind": "t"},
    ]
    assert await enqueue_many(session, messages, batch=2) == 3
    assert await enqueue_many(session, messages[:4], batch=3) == 0
    await session.commit()
    rows = (await session.execute(select(Notification).order_by(Notification.id))).scalars().all()
    assert [(n.chat_id, n.text, n.dedup_key) for n in rows] == [
        (1, "first", "k1"), (2, "two", "k2"), (3, "three", "k3"), (4, "no key", None)
    ]  # fmt: skip
    assert rows[1].is_group and not rows[1].quiet_hours and rows[2].quiet_hours


async def test_an_update_meets_only_the_filters_of_routers_that_may_take_it(
    session: AsyncSession, client: BotClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routers are gated by the prefixes of their buttons and the commands, states and menu
    labels of their message handlers (bot/fast_filters.py): a search typed at the main menu, a
    form answer and a button press each meet a few filters, not every filter of every router."""
    _meeting_id, ids = await make_meeting(session, measures=5, text="Сайран {n}")
    await onboard(client, "en")
    checks = 0
    original = FilterObject.call

    async def counted(self: FilterObject, *args: Any, **kwargs: Any) -> Any:
        nonlocal checks
        checks += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(FilterObject, "call", counted)
    costs = {}
    for name, act, expected in (
        ("search", lambda: client.send("Сайран"), "found 5"),
        ("card", lambda: client.press(OpenMeasureCb(id=ids[0]).pack()), "Сайран"),
        ("menu", lambda: client.send("🔔 Following"), "follow"),
        ("command", lambda: client.send("/help"), "eOtinish"),
    ):
        checks = 0
        assert expected in last_message(await act()).text, name
        costs[name] = checks
    # the routers' gates and own filters, and the handlers tried in the routers that may take it
    # (ungated, a search at the main menu met about 100)
    assert all(cost <= 30 for cost in costs.values()), costs


def test_every_router_but_the_fallback_is_gated(dp: Any) -> None:
    """A handler whose filters name no command, state, menu label or button prefix leaves its
    router ungated: every message or button would then go through all its handlers (the
    admin area's form catch-all did, until StatesGroup filters were understood)."""
    assert isinstance(dp, GatedDispatcher)
    for router in dp.sub_routers:
        for event in ("message", "callback_query"):
            if router.name == "handlers.fallback" or not router.observers[event].handlers:
                continue
            assert router_gate(router, event) is not None, (router.name, event)
