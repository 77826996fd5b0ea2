"""Callback data: every factory in the bot has its own prefix, the resident area's packed
buttons stay within Telegram's 64 bytes even with the largest ids and page numbers, and
``bot.callbacks.packed`` packs exactly as aiogram does."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from enum import Enum
from typing import Any, get_args

import pytest
from aiogram.filters.callback_data import CallbackData
from pydantic import ValidationError

import bot
import handlers
import scheduler
from bot.callbacks import LangCb, OpenMeasureCb, Origin, ReportMeasureCb, packed
from bot.keyboards.resident import (
    CardCb,
    CardFollowCb,
    DistrictFollowCb,
    DistrictPageCb,
    DistrictsCb,
    FollowingCb,
    FollowKind,
    HistoryCb,
    MeetingCb,
    OverviewCb,
    ProofCb,
    SearchCb,
    Src,
    UnfollowCb,
)

MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases
MAX_PAGE = 99_999


def _import_all() -> None:
    for package in (bot, handlers, scheduler):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.endswith("__main__"):
                continue
            importlib.import_module(module.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_callback_prefix_is_unique() -> None:
    _import_all()
    owners: dict[str, str] = {}
    clashes = []
    for cls in _subclasses(CallbackData):
        if not cls.__module__.startswith(("bot.", "handlers.", "scheduler.")):
            continue
        prefix = cls.__prefix__  # type: ignore[attr-defined]
        name = f"{cls.__module__}.{cls.__qualname__}"
        if prefix in owners and owners[prefix] != name:
            clashes.append(f"{prefix!r}: {owners[prefix]} and {name}")
        owners.setdefault(prefix, name)
        separator = cls.__separator__  # type: ignore[attr-defined]
        assert separator not in prefix
    assert not clashes, clashes
    assert {"om", "rpt", "rc", "rn", "rm", "rd"} <= set(owners)


@pytest.mark.parametrize(
    "data",
    [
        DistrictsCb(),
        OverviewCb(),
        DistrictPageCb(id=MAX_ID, page=MAX_PAGE),
        MeetingCb(id=MAX_ID, page=MAX_PAGE, dp=MAX_PAGE),
        *[CardCb(id=MAX_ID, src=src, page=MAX_PAGE, dp=MAX_PAGE) for src in Src],
        HistoryCb(id=MAX_ID, hp=MAX_PAGE, src=Src.FOLLOWING, page=MAX_PAGE, dp=MAX_PAGE),
        CardFollowCb(id=MAX_ID, on=1, src=Src.SEARCH, page=MAX_PAGE, dp=MAX_PAGE),
        DistrictFollowCb(id=MAX_ID, on=0, page=MAX_PAGE),
        *[UnfollowCb(kind=kind, id=MAX_ID, page=MAX_PAGE) for kind in FollowKind],
        FollowingCb(page=MAX_PAGE),
        SearchCb(page=MAX_PAGE),
        ProofCb(id=MAX_ID),
        OpenMeasureCb(id=MAX_ID),
        ReportMeasureCb(id=MAX_ID),
    ],
    ids=lambda d: type(d).__name__,
)
def test_resident_callbacks_fit_64_bytes(data: CallbackData) -> None:
    packed = data.pack()
    assert len(packed.encode()) <= 64, packed
    assert type(data).unpack(packed) == data


def _sample(annotation: Any) -> Any:
    """A value of the field's type, as a keyboard passes it."""
    options = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    kind = options[0]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind)[-1]
    if kind is bool:
        return True
    if kind is int:
        return 2_147_483
    return "ru"


def test_packed_gives_exactly_what_aiogram_packs_for_every_factory() -> None:
    _import_all()
    checked = 0
    for cls in _subclasses(CallbackData):
        if not cls.__module__.startswith(("bot.", "handlers.", "scheduler.")):
            continue
        values = {name: _sample(f.annotation) for name, f in cls.model_fields.items()}
        assert packed(cls, **values) == cls(**values).pack(), cls
        defaults_only = {n: v for n, v in values.items() if cls.model_fields[n].is_required()}
        assert packed(cls, **defaults_only) == cls(**defaults_only).pack(), cls
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    "data",
    [
        MeetingCb(id=MAX_ID, page=MAX_PAGE, dp=MAX_PAGE),
        *[CardCb(id=MAX_ID, src=src, page=MAX_PAGE, dp=MAX_PAGE) for src in Src],
        CardFollowCb(id=MAX_ID, on=0, src=Src.NONE, page=0, dp=0),
        SearchCb(page=MAX_PAGE),
    ],
    ids=lambda d: type(d).__name__,
)
def test_packed_round_trips_through_aiogram(data: CallbackData) -> None:
    text = packed(type(data), **dict(data))
    assert text == data.pack() and type(data).unpack(text) == data


def test_packed_refuses_what_aiogram_refuses() -> None:
    with pytest.raises(ValidationError):
        packed(CardCb, id=1)  # required fields missing
    with pytest.raises(ValueError, match="Separator"):
        packed(LangCb, code="r:u", origin=Origin.START)
    with pytest.raises(ValueError, match="too long"):
        packed(LangCb, code="x" * 70, origin=Origin.START)
