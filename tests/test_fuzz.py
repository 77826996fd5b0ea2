"""Robustness: thousands of random and malformed updates through the real Dispatcher.

Residents, an official-to-be and an akimat admin send random and huge texts, commands with junk
arguments, the menu's buttons, stickers, photos, voice, documents and locations, in private and
in groups; press made-up buttons, buttons with every real prefix and absurd ids, and real buttons
of other people's screens; type inline queries. Required: no exception reaches the caller, no
ERROR is logged (the errors middleware logs every unhandled exception at ERROR before its
apology), Telegram would have accepted every request (the recording session checks HTML, length
and button data), and the stored data stays consistent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import handlers  # noqa: F401 - every area's CallbackData classes get defined
from bot.i18n import create_i18n
from bot.menu import LABELS
from models.entities import (
    LOCALES,
    District,
    Follow,
    Measure,
    MeasureStatus,
    Notification,
    Question,
    QuestionStatus,
    QuestionSupport,
    User,
)
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

# Examples per test run: each example is a short burst of updates (about 6 on average).
EXAMPLES = {"sqlite": int(os.environ.get("FUZZ_EXAMPLES", "250")), "postgresql": 80}
MIN_EXAMPLES = 80
USERS = (7101, 7102, 7103, ADMIN_ID)
GROUP_ID = -100_777


def _all_callback_classes() -> list[type[CallbackData]]:
    found: list[type[CallbackData]] = []
    todo: list[type[CallbackData]] = [CallbackData]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if getattr(sub, "__prefix__", None):
                found.append(sub)
    return found


PREFIXES = sorted({cls.__prefix__ for cls in _all_callback_classes()})
COMMANDS = (
    "start", "menu", "find", "search", "following", "settings", "mydata", "forget", "cancel",
    "help", "ask", "commitments", "myquestions", "admin", "stats", "export", "moderate", "inbox",
    "join", "leave", "measures", "unknown",
)  # fmt: skip
_I18N = create_i18n("ru")
MENU = sorted({_I18N.gettext(label, locale=loc) for label in LABELS.values() for loc in LOCALES})
ABSURD = (
    "0", "-1", "1", "2", "3", "999999999999", "99999999999999999999999", "-99999999999",
    "", "x", "None", "null", "1e9", "１２", "0x10", "ru", "kk", "en", "s", "m", "d", "all",
)  # fmt: skip

texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі <>&\"'/\n", max_size=200),
    st.sampled_from(MENU),
    st.sampled_from(("ремонт", "Абая", "школа", "<b>", "&amp;", "%", "_", "\\", "'; DROP")),
    st.integers(min_value=4000, max_value=12000).map(lambda n: ("Ж<&" * n)[:n]),  # huge
)
commands = st.tuples(
    st.sampled_from(COMMANDS),
    st.one_of(st.just(""), st.text(max_size=40), st.sampled_from(ABSURD)),
).map(lambda c: f"/{c[0]} {c[1]}".strip())
callback_data = st.one_of(
    st.text(max_size=64),
    st.tuples(
        st.sampled_from(PREFIXES), st.lists(st.sampled_from(ABSURD), min_size=0, max_size=5)
    ).map(lambda p: ":".join([p[0], *p[1]])[:64]),
)
content = st.sampled_from(("sticker", "photo", "voice", "document", "location"))

action = st.one_of(
    st.tuples(st.just("text"), st.sampled_from(USERS), texts),
    st.tuples(st.just("text"), st.sampled_from(USERS), commands),
    st.tuples(st.just("press"), st.sampled_from(USERS), callback_data),
    st.tuples(st.just("content"), st.sampled_from(USERS), content),
    st.tuples(st.just("inline"), st.sampled_from(USERS), st.text(max_size=80)),
    st.tuples(st.just("group"), st.sampled_from(USERS), st.one_of(texts, commands)),
    st.tuples(st.just("replay"), st.sampled_from(USERS), st.integers(0, 10_000)),
)


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_records() -> Any:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


async def _check_consistency(session: AsyncSession) -> None:
    session.expire_all()
    districts = set((await session.execute(select(District.id))).scalars())
    for user in (await session.execute(select(User))).scalars():
        assert user.tg_id is not None
        assert user.locale in (None, *LOCALES), user.locale
        assert user.district_id is None or user.district_id in districts
        assert len(user.full_name) <= 300
    statuses = set(MeasureStatus)
    for status, progress in (await session.execute(select(Measure.status, Measure.progress))).all():
        assert status in statuses
        assert progress is None or 0 <= progress <= 100
    for measure_id, district_id in (
        await session.execute(select(Follow.measure_id, Follow.district_id))
    ).all():
        assert (measure_id is None) != (district_id is None), "a follow targets exactly one thing"
    supports = dict(
        (
            await session.execute(
                select(QuestionSupport.question_id, func.count()).group_by(
                    QuestionSupport.question_id
                )
            )
        ).all()
    )
    question_statuses = set(QuestionStatus)
    for q_id, status, supporters, text in (
        await session.execute(
            select(Question.id, Question.status, Question.supporters, Question.text)
        )
    ).all():
        assert status in question_statuses
        assert supporters == supports.get(q_id, 0), "supporters count matches its supports"
        assert text.strip()
    for (text,) in (await session.execute(select(Notification.text))).all():
        assert 0 < len(text) <= 4096


class FuzzState:
    def __init__(self, make_client: Callable[..., BotClient]) -> None:
        self.make_client = make_client
        self.clients: dict[int, BotClient] = {}
        self.groups: dict[int, BotClient] = {}
        self.seen_data: list[str] = []
        self.examples = 0
        self.updates = 0

    async def setup(self) -> None:
        for n, user_id in enumerate(USERS):
            locale = LOCALES[n % len(LOCALES)]
            self.clients[user_id] = self.make_client(user_id=user_id, language_code=locale)
            self.groups[user_id] = self.make_client(
                user_id=user_id, chat_id=GROUP_ID, chat_type="supergroup", chat_title="Отдел"
            )
            if user_id != USERS[0]:  # one stays brand-new: every update is its first contact
                await onboard(self.clients[user_id], locale)

    async def feed(self, kind: str, user_id: int, payload: Any) -> None:
        client = self.clients[user_id]
        if kind == "text":
            sent = await client.send(payload)
        elif kind == "press":
            sent = await client.press(payload)
        elif kind == "content":
            sent = await client.send_content(payload)
        elif kind == "inline":
            sent = await client.inline(payload)
        elif kind == "group":
            sent = await self.groups[user_id].send(payload)
        else:  # a real button seen earlier, pressed by anyone (stale or someone else's)
            if not self.seen_data:
                return
            sent = await client.press(self.seen_data[payload % len(self.seen_data)])
        self.updates += 1
        for request in sent:
            assert request.result is not None, f"Telegram would refuse {request.method!r}"
            for row in getattr(request.markup, "inline_keyboard", None) or []:
                self.seen_data.extend(b.callback_data for b in row if b.callback_data)
        del self.seen_data[:-300]


@pytest.fixture
async def fuzz(
    db_url: str,
    demo: int,
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    error_records: ErrorRecords,
) -> Any:
    state = FuzzState(make_client)
    await state.setup()
    yield state
    # after every example: nothing logged at ERROR, the data consistent
    assert not error_records.records, error_records.records[0].getMessage()
    await _check_consistency(session)
    if state.examples >= MIN_EXAMPLES:
        assert state.updates >= 5 * MIN_EXAMPLES, "thousands of updates at the default size"


@settings(
    max_examples=EXAMPLES["sqlite"],
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(actions=st.lists(action, min_size=1, max_size=12))
async def test_random_and_malformed_updates(
    fuzz: FuzzState,
    db_url: str,
    session: AsyncSession,
    error_records: ErrorRecords,
    actions: list[tuple[str, int, Any]],
) -> None:
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    if fuzz.examples >= EXAMPLES[backend]:
        return  # PostgreSQL runs fewer examples (the same sequence, cut short)
    fuzz.examples += 1
    for kind, user_id, payload in actions:
        await fuzz.feed(kind, user_id, payload)
    assert not error_records.records, error_records.records[0].getMessage()
    if fuzz.examples % 60 == 0:
        await _check_consistency(session)
