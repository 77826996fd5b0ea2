"""Command line: ``kezdesu`` / ``python -m bot`` runs the bot; sub-commands administer it.

Each area adds its sub-commands in its own ``bot/cli_<area>.py`` with a ``register(subparsers)``
function; a sub-command's handler is ``async def (settings, args) -> int``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot.logs import configure_logging
from models.settings import ConfigError, Settings, load_settings

SUBCOMMAND_MODULES = (
    "bot.cli_core",
    "bot.cli_admin",
    "bot.cli_department",
    "bot.cli_queue",
    "bot.cli_report",
    "bot.cli_backup",
)

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kezdesu",
        description="Kezdesu: the Telegram bot for the akim's meetings with residents. "
        "With no sub-command it runs the bot.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"kezdesu: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_level, settings.log_format)
    handler: Command = getattr(args, "handler", None) or _default_handler()
    try:
        return asyncio.run(handler(settings, args))
    except ConfigError as exc:
        print(f"kezdesu: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130


def _default_handler() -> Command:
    from bot.cli_core import run

    return run
