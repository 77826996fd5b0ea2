"""Handlers of the resident area."""

from __future__ import annotations

from typing import Final

from aiogram import Router

router: Final[Router] = Router(name=__name__)
