"""The hot path of a resident's update, in SQL statements (no timings): opening a card, a search
at the main menu and the text step of the question form each cost a small, fixed number of
statements on SQLite and PostgreSQL, whatever the size of the data; the folded card still tells
a department member from a resident."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from aiogram import Dispatcher, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import filters
from bot.callbacks import OpenMeasureCb
from bot.menu import MenuButton
from handlers import admin, common, department, get_routers, questions, resident
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
        # the profile; the card with its departments, counts, permission and plan page
        assert costs == [2, 2], costs
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


async def test_form_text_step_costs_five_statements(
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
    # the profile and the duplicate check; then "already promised or asked?": how many of the
    # district's measures have each word, the search of the rarest, the meeting's questions
    assert len(_data_statements(statements)) <= 5, statements


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


def _walk(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from _walk(sub)


def test_no_filter_or_handler_hops_to_a_thread(dp: Any) -> None:
    """aiogram runs a filter or handler that is not a coroutine through ``asyncio.to_thread``
    (a thread hand-off for each check): a magic filter used directly (``F.text``), an FSM state
    used as a filter (``AskForm.text``). Every one in the tree is a coroutine."""
    checked = 0
    for router in _walk(dp):
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                where = f"{router.name} {name} {handler.callback.__name__}"
                assert handler.awaitable, where
                for filter_object in handler.filters or ():
                    assert filter_object.awaitable, f"{where}: {filter_object.callback!r}"
                    checked += 1
    assert checked > 200  # the whole tree was walked


def test_the_router_level_filters_are_coroutines() -> None:
    """Routers' own filters are not reachable through aiogram's public API; they are all made of
    ``bot.filters`` classes and aiogram's ``StateFilter``, whose checks are coroutines."""
    classes = [c for c in vars(filters).values() if isinstance(c, type) and issubclass(c, Filter)]
    assert {"ChatType", "Content", "PlainText", "CommandLike", "IsAdmin", "CallbackPrefix"} <= {
        c.__name__ for c in classes
    }
    for cls in [*classes, StateFilter, MenuButton]:
        assert inspect.iscoroutinefunction(cls.__call__), cls


@pytest.mark.parametrize("area", [common, admin, department, questions, resident])
def test_an_area_takes_only_the_buttons_it_declares(area: ModuleType) -> None:
    """An area's router lets through only the buttons of the factories in its ``CALLBACKS``
    (``CallbackPrefix``: one check skips the area for any other button); every factory a handler
    of the area filters on must be among them, or its buttons would never arrive."""
    declared = set(area.CALLBACKS)
    used = set()
    for router in _walk(area.router()):
        for handler in router.observers["callback_query"].handlers:
            for filter_object in handler.filters or ():
                if isinstance(filter_object.callback, CallbackQueryFilter):
                    used.add(filter_object.callback.callback_data)
    assert used == declared, (used - declared, declared - used)


@pytest.mark.parametrize("area", [common, department, questions])
def test_an_area_takes_only_the_messages_it_declares(area: ModuleType) -> None:
    """An area's ``AreaInput`` lets through commands, the labels of its ``MENU`` buttons and input
    to its ``FORMS``: every message handler of the area must want one of these."""
    for router in _walk(area.router()):
        for handler in router.observers["message"].handlers:
            kinds = [f.callback for f in handler.filters or ()]
            commands = any(isinstance(f, Command) for f in kinds)
            menu = any(isinstance(f, MenuButton) and set(f.items) <= set(area.MENU) for f in kinds)
            form = any(
                isinstance(f, StateFilter)
                and all(
                    state is not None and any(state is g or state in g for g in area.FORMS)
                    for state in f.states
                )
                for f in kinds
            )
            assert commands or menu or form, (router.name, handler.callback.__name__)


def test_the_areas_are_tried_in_order_and_each_dispatcher_gets_new_routers(dp: Any) -> None:
    """The order of the areas (the plain-text search is in the last but one); a second
    Dispatcher gets routers of its own (aiogram lets a router have one parent)."""
    names = [router.name for router in dp.sub_routers]
    assert names == [
        "handlers.common",
        "handlers.admin",
        "handlers.department",
        "handlers.questions",
        "handlers.resident",
        "handlers.fallback",
    ]
    other = Dispatcher()
    other.include_routers(*get_routers())
    mine = list(_walk(dp))[1:]
    theirs = list(_walk(other))[1:]
    assert [r.name for r in theirs] == [r.name for r in mine]
    assert not {id(r) for r in mine} & {id(r) for r in theirs}


async def test_an_update_visits_only_the_routers_on_its_way(
    dp: Any,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    client: BotClient,
) -> None:
    """Each area before the one that takes an update turns it away with its own filters (one
    router visit, none of its sub-routers); within the area only the modules before the handler
    are visited. Counted with an outer middleware on every router (called when an update
    reaches it)."""
    _meeting_id, ids = await make_meeting(session, measures=5, text="Сайран {n}")
    await add_meeting(session_pool)
    await onboard(client, "en")
    visits: list[str] = []

    def visit(name: str) -> Any:
        async def seen(handler: Any, event: Any, data: dict[str, Any]) -> Any:
            visits.append(name)
            return await handler(event, data)

        return seen

    for router in list(_walk(dp))[1:]:
        for event in ("message", "callback_query"):
            router.observers[event].outer_middleware(visit(router.name.removeprefix("handlers.")))
    areas = ["common", "admin", "department", "questions"]
    for act, expected, path in (
        (lambda: client.send("Сайран"), "found 5", ["card", "browse", "follows", "search"]),
        (lambda: client.press(OpenMeasureCb(id=ids[0]).pack()), "Сайран", ["card"]),
        (lambda: client.send("🔔 Following"), "follow", ["card", "browse", "follows"]),
    ):
        visits.clear()
        assert expected in last_message(await act()).text
        assert visits == [*areas, "resident", *(f"resident.{m}" for m in path)]
    visits.clear()
    assert "eOtinish" in last_message(await client.send("/help")).text
    assert visits == ["common"]
    await go_to(client, session, "text", "en")
    visits.clear()
    sent = await client.send("The street lights on Tole bi 12 have been off for a month.")
    assert "send the address" in last_message(sent).text
    assert visits == [*areas, "questions.privacy", "questions.ask", "questions.ask.form"]
