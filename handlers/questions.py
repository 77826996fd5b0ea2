"""Handlers of the questions area."""

from __future__ import annotations

from typing import Final

from aiogram import Router

router: Final[Router] = Router(name=__name__)
