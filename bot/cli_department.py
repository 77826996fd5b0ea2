"""Sub-commands of the department area."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Adds this area's sub-commands to the ``kezdesu`` command line."""
