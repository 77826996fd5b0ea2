"""Throughput and latency of the full Dispatcher on realistic resident updates.

The bot is the production one (``create_dispatcher``: every middleware and router, the
production session pool) over the test harness's recording Bot session (no
network), on a generated database. As in aiogram's own ``MockedBot``, the session records each
request and answers it; the tests' emulation of Telegram's checks on each message (parsing its
HTML, counting its visible characters) is off, as that is work Telegram's servers do
(``--telegram-checks`` turns it on for both sides). What was sent is dropped after each update:
kept for the whole run, the recorded messages made the garbage collector's
work grow with the run, and slowed the echo bot (which shares the process) more than the bot.
Both sides run after the bot process's own ``settle_heap()``. Three kinds of update, mixed in
equal parts:

- **card**: a resident opens a measure's card (``OpenMeasureCb``, as from a notification);
- **search**: a resident types words at the main menu (the plain-text search);
- **form**: a resident answers the text step of the question form (validation, duplicate check,
  the next prompt), the form restored before each answer.

The baseline is an aiogram echo bot fed the very same updates through the same harness: a bare
``Dispatcher`` whose handlers answer each message with its text and each button with a message.
Throughput is reported as a ratio to it, latency as p50/p99 with the echo's p50 beside it. The
two sides take turns (``BLOCK`` updates one at a time, twice that many in flight); the ratio is
given over all updates and as the median of the turns' ratios with its quartiles, the figure a
noisy neighbour's burst on one side of one turn moves least.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.generate import FIRST_TG_ID
from bot.app import create_dispatcher, settle_heap
from bot.callbacks import OpenMeasureCb
from bot.i18n import create_i18n
from models.db import create_session_pool
from models.entities import Measure, User
from models.settings import Settings
from tests.harness import TOKEN, BotClient, RecordingSession, last_message, make_bot

SEARCHES = (
    "ремонт Абая", "освещение", "школа", "детский сад Жандосова", "водопровод", "тротуар",
    "поликлиника", "Сайран", "light", "жарық", "дорога Толе би", "сквер", "парковка", "УЭиВ",
    # other word forms, typos, a district by name
    "поликлиники", "детского сада", "кабельные линии", "поликлинника", "тратуар",
    "Алмалинский район",
)  # fmt: skip
QUESTIONS = (
    "Во дворе дома на Толе би {n} третий месяц не работает уличное освещение.",
    "Когда отремонтируют дорогу на улице Жандосова возле дома {n}? Ямы глубокие.",
    "Просим установить детскую площадку во дворе дома {n} по улице Абая.",
    "Төле би {n} үйінің ауласында үшінші ай көше жарығы жұмыс істемейді.",
)
KINDS = ("card", "search", "form")
BLOCK = 100  # updates per turn of each side


@dataclass
class Action:
    kind: str
    user_id: int
    run: Callable[[], Awaitable[Any]]


@dataclass
class Sample:
    kind: str
    seconds: float


@dataclass
class Run:
    """One timed pass: every update's time, and the wall-clock total."""

    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall if self.wall else 0.0

    def add(self, other: Run) -> None:
        self.samples += other.samples
        self.wall += other.wall

    def times(self, kind: str | None = None) -> list[float]:
        return [s.seconds for s in self.samples if kind is None or s.kind == kind]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def echo_dispatcher() -> Dispatcher:
    """The baseline: aiogram's own echo bot (``examples/echo_bot.py``: a greeting on ``/start``,
    any other message copied back with ``send_copy``), a button answered with a message.

    No ``F.text`` on the echo handler: aiogram runs a filter that is not a coroutine through
    ``asyncio.to_thread``, a thread hand-off per message that the example does not pay (and the
    bot does not either: its filters are coroutines, ``bot/filters.py``); an earlier baseline
    had it, which made the echo about a fifth slower one update at a time and flattered the
    ratio."""
    router = Router(name="echo")

    @router.message(CommandStart())
    async def command_start(message: Message) -> None:
        await message.answer(f"Hello, {message.from_user.full_name if message.from_user else ''}!")

    @router.message()
    async def echo(message: Message) -> None:
        try:
            await message.send_copy(chat_id=message.chat.id)
        except TypeError:
            await message.answer("Nice try!")

    @router.callback_query()
    async def button(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer(query.data or "")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


class Workload:
    """Residents of the generated database and the updates they send."""

    def __init__(self, dp: Dispatcher, bot: Bot, users: list[User], measure_ids: list[int]) -> None:
        self.dp = dp
        self.bot = bot
        self.rnd = random.Random(7)
        self.measure_ids = measure_ids
        self.clients = [
            BotClient(
                dp=dp,
                bot=bot,
                user_id=u.tg_id,
                first_name=u.full_name.split(" ")[0] or "Resident",
                last_name=None,
                username=None,
                language_code=u.locale or "ru",
            )
            for u in users
        ]
        self.forms: dict[int, tuple[str | None, dict[str, Any]]] = {}
        self.counter = 0

    async def open_forms(self) -> int:
        """Walk each resident to the text step of the question form once (real handlers)."""
        opened = 0
        for client in self.clients:
            context = self._context(client)
            sent = await client.send("/ask")
            for _ in range(3):  # consent (when asked), then a category
                state = await context.get_state()
                if not sent or (state is not None and state.endswith(":text")):
                    break
                prompt = last_message(sent)
                if not prompt.buttons or not hasattr(prompt.markup, "inline_keyboard"):
                    break
                sent = await client.click(prompt, prompt.buttons[0])
            state = await context.get_state()
            if state is not None and state.endswith(":text"):
                self.forms[client.user_id] = (state, await context.get_data())
                opened += 1
            await context.clear()
        return opened

    def _context(self, client: BotClient) -> FSMContext:
        return self.dp.fsm.get_context(self.bot, client.user_id, client.user_id)

    def actions(self, n: int) -> list[Action]:
        kinds = [k for k in KINDS if k != "form" or self.forms]
        plan = []
        for i in range(n):
            kind = kinds[i % len(kinds)]
            client = self.rnd.choice(self.clients)
            if kind == "form":
                client = self.clients[
                    [c.user_id for c in self.clients].index(self.rnd.choice(list(self.forms)))
                ]
            plan.append(Action(kind, client.user_id, self._trimmed(self._action(kind, client))))
        return plan

    def _trimmed(self, run: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """The update, then its recorded requests dropped: a real Bot API keeps nothing in the
        bot's process (kept, they would make the collector's work grow with the run)."""

        async def run_and_trim() -> Any:
            result = await run()
            _trim(self.bot)
            return result

        return run_and_trim

    def _action(self, kind: str, client: BotClient) -> Callable[[], Awaitable[Any]]:
        if kind == "card":
            data = OpenMeasureCb(id=self.rnd.choice(self.measure_ids)).pack()
            return lambda: client.press(data)
        if kind == "search":
            words = self.rnd.choice(SEARCHES)

            async def search_at_menu() -> Any:
                # At the main menu: a form step left by an earlier update would take the words
                # as its answer (no search at all), so the state is cleared first.
                await self._context(client).clear()
                return await client.send(words)

            return search_at_menu
        state, data = self.forms.get(client.user_id, (None, {}))
        self.counter += 1
        question = self.rnd.choice(QUESTIONS).format(n=self.counter)

        async def answer_form_step() -> Any:
            context = self._context(client)
            if state is not None:  # the echo bot has no forms: the same text, no state
                await context.set_state(state)
                await context.set_data(data)
            return await client.send(question)

        return answer_form_step


async def load_residents(
    pool: async_sessionmaker[AsyncSession], count: int
) -> tuple[list[User], list[int]]:
    async with pool() as session:
        users = list(
            (
                await session.execute(
                    select(User)
                    .where(User.tg_id > FIRST_TG_ID + 50, User.district_id.is_not(None))
                    .order_by(User.id)
                    .limit(count)
                )
            ).scalars()
        )
        measure_ids = list(
            (await session.execute(select(Measure.id).order_by(Measure.id))).scalars()
        )
    return users, measure_ids


async def timed(plan: list[Action]) -> Run:
    """One update after another: each one's latency."""
    run = Run()
    started = time.perf_counter()
    for action in plan:
        t0 = time.perf_counter()
        await action.run()
        run.samples.append(Sample(action.kind, time.perf_counter() - t0))
    run.wall = time.perf_counter() - started
    return run


async def concurrently(plan: list[Action], width: int) -> Run:
    """As aiogram's polling and webhook run them: each update its own task, ``width`` in
    flight, one resident's updates in their order (a resident's lane). Throughput only: the
    time of each includes waiting for the others."""
    lanes: dict[int, list[Action]] = defaultdict(list)
    for action in plan:
        lanes[action.user_id % width].append(action)
    run = Run()

    async def lane(actions: list[Action]) -> None:
        for action in actions:
            t0 = time.perf_counter()
            await action.run()
            run.samples.append(Sample(action.kind, time.perf_counter() - t0))

    started = time.perf_counter()
    await asyncio.gather(*(lane(actions) for actions in lanes.values()))
    run.wall = time.perf_counter() - started
    return run


@dataclass
class Comparison:
    backend: str
    full: Run  # one update at a time: latencies
    echo: Run
    forms_opened: int
    width: int = 1
    full_concurrent: Run = field(default_factory=Run)  # ``width`` in flight: throughput
    echo_concurrent: Run = field(default_factory=Run)
    # The ratio of each turn (an echo block, then the same number of updates through the bot):
    # their median shrugs off a noisy neighbour's burst that lands on one side of one turn.
    turns_concurrent: list[float] = field(default_factory=list)
    turns_sequential: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Throughput as the bot runs: updates handled concurrently."""
        return _ratio(self.full_concurrent, self.echo_concurrent)

    @property
    def sequential_ratio(self) -> float:
        return _ratio(self.full, self.echo)

    def lines(self) -> list[str]:
        out = [
            f"  throughput ({self.backend}, {self.width} updates in flight as aiogram runs them): "
            f"full dispatcher {self.full_concurrent.rate:,.0f} updates/s, echo bot "
            f"{self.echo_concurrent.rate:,.0f} updates/s → ratio {self.ratio:.3f}"
            f"{_turns(self.turns_concurrent)}",
            f"  one update at a time: full dispatcher {self.full.rate:,.0f} updates/s, echo bot "
            f"{self.echo.rate:,.0f} updates/s → ratio {self.sequential_ratio:.3f}"
            f"{_turns(self.turns_sequential)}; latency:",
        ]
        echo_p50 = statistics.median(self.echo.times()) * 1000
        for kind in KINDS:
            times = self.full.times(kind)
            if not times:
                out.append(f"    {kind:<6} not measured (no form could be opened)")
                continue
            p50 = percentile(times, 50) * 1000
            p99 = percentile(times, 99) * 1000
            out.append(
                f"    {kind:<6} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
                f"(= {p50 / echo_p50:5.1f}× / {p99 / echo_p50:5.1f}× the echo p50 "
                f"{echo_p50:.2f} ms, n={len(times)})"
            )
        return out


def _ratio(full: Run, echo: Run) -> float:
    return full.rate / echo.rate if echo.rate else 0.0


def _turns(ratios: list[float]) -> str:
    if len(ratios) < 4:
        return ""
    low, median, high = statistics.quantiles(ratios, n=4)
    return f" (median of {len(ratios)} turns {median:.3f}, quartiles {low:.3f}–{high:.3f})"


async def compare(
    engine: AsyncEngine,
    backend: str,
    *,
    updates: int = 600,
    residents: int = 50,
    rounds: int = 3,
    width: int = 16,
    telegram_checks: bool = False,
) -> Comparison:
    """The full Dispatcher against the echo bot on the same updates, one at a time (latency) and
    ``width`` at a time (throughput). The two sides take turns every ``BLOCK`` updates, so that a
    noisy neighbour slows both alike; the rates are over all ``rounds``."""
    pool = create_session_pool(engine)
    settings = Settings(
        bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=str(engine.url.render_as_string(hide_password=False)),
        _env_file=None,  # type: ignore[call-arg]
    )
    users, measure_ids = await load_residents(pool, residents)
    full_dp = create_dispatcher(settings, pool, create_i18n("ru"), run_background=False)
    full_bot = make_bot(RecordingSession(checks=telegram_checks))
    full = Workload(full_dp, full_bot, users, measure_ids)
    opened = await full.open_forms()
    echo_dp = echo_dispatcher()
    echo_bot = make_bot(RecordingSession(checks=telegram_checks), prepare=False)
    echo = Workload(echo_dp, echo_bot, users, measure_ids)
    echo.forms = {uid: (None, {}) for uid in full.forms}
    settle_heap()  # as the bot's process does after start-up (bot/app.py), for both sides

    # warm-up: caches, prepared statements, the connection pool
    await concurrently(full.actions(120), width)
    await concurrently(echo.actions(120), width)
    full_seq, echo_seq, full_con, echo_con = Run(), Run(), Run(), Run()
    turns_seq: list[float] = []
    turns_con: list[float] = []
    for _ in range(rounds):
        for start in range(0, updates, BLOCK):
            size = min(BLOCK, updates - start)
            echo_turn = await timed(echo.actions(size))
            full_turn = await timed(full.actions(size))
            echo_seq.add(echo_turn)
            full_seq.add(full_turn)
            turns_seq.append(_ratio(full_turn, echo_turn))
        for start in range(0, updates, BLOCK * 2):
            size = min(BLOCK * 2, updates - start)
            echo_turn = await concurrently(echo.actions(size), width)
            full_turn = await concurrently(full.actions(size), width)
            echo_con.add(echo_turn)
            full_con.add(full_turn)
            turns_con.append(_ratio(full_turn, echo_turn))
        _trim(full_bot)
        _trim(echo_bot)
    return Comparison(
        backend,
        full_seq,
        echo_seq,
        opened,
        width,
        full_concurrent=full_con,
        echo_concurrent=echo_con,
        turns_concurrent=turns_con,
        turns_sequential=turns_seq,
    )


def _trim(bot: Bot) -> None:
    session = bot.session
    if isinstance(session, RecordingSession):
        session.requests.clear()
