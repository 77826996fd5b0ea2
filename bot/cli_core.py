"""Core sub-commands: run, migrate, demo."""

from __future__ import annotations

import argparse
from typing import Any

from models.db import create_engine, create_session_pool
from models.db import migrate as apply_migrations
from models.demo import load_demo
from models.reference import ensure_reference_data
from models.settings import Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="run the bot (the default)")
    p.set_defaults(handler=run)
    p = subparsers.add_parser("migrate", help="apply database migrations and reference data")
    p.set_defaults(handler=migrate)
    p = subparsers.add_parser("demo", help="load the Almaly 23.06.2022 meeting and its plan")
    p.set_defaults(handler=demo)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_bot

    settings.token()  # fail with one clear line before touching anything
    await run_bot(settings)
    return 0


async def migrate(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            added = await ensure_reference_data(session)
            await session.commit()
    finally:
        await engine.dispose()
    print(f"Database is up to date; {added} reference rows added.")  # noqa: T201
    return 0


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            result = await load_demo(session)
            await session.commit()
    finally:
        await engine.dispose()
    plan = result.plan
    print(  # noqa: T201
        f"Demo meeting #{result.meeting_id} "
        f"({'created' if result.meeting_created else 'already present'}): "
        f"added problems: {plan.problems_created}, measures: {plan.measures_created}; "
        f"updated: {plan.measures_updated}; unchanged: {plan.measures_unchanged}; "
        f"promises stated at the meeting added: {result.spoken_added}."
    )
    return 0
