"""Callback data: every factory in the bot has its own prefix, and the resident area's packed
buttons stay within Telegram's 64 bytes even with the largest ids and page numbers."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from aiogram.filters.callback_data import CallbackData

import bot
import handlers
import scheduler
from bot.callbacks import OpenMeasureCb, ReportMeasureCb
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
