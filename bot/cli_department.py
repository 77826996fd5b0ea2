"""Sub-commands of the department area: invitations and the list of departments.

kezdesu department invite УЭиВ [--days 7] [--bot-username kezdesu_bot]
kezdesu department list
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from models.db import create_engine, create_session_pool
from models.db import migrate as apply_migrations
from models.departments import (
    INVITE_PREFIX,
    create_invitation,
    department_overview,
    find_department,
    open_invitations,
)
from models.reference import ensure_reference_data
from models.settings import Settings

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Adds this area's sub-commands to the ``kezdesu`` command line."""
    p = subparsers.add_parser("department", help="department invitations and the departments")
    sub = p.add_subparsers(dest="department_command", metavar="ACTION", required=True)
    invite = sub.add_parser(
        "invite",
        help="create an invitation: prints the deep link (one official) and the /join code "
        "(a group chat)",
    )
    invite.add_argument("code", help="the department's code as in plans (УЭиВ) or its slug")
    invite.add_argument(
        "--days", type=int, default=None, help="valid for N days (default INVITATION_TTL_DAYS)"
    )
    invite.add_argument(
        "--bot-username",
        default=None,
        help="the bot's @username for the link (asked from Telegram when BOT_TOKEN is set)",
    )
    invite.set_defaults(handler=invite_command)
    listing = sub.add_parser("list", help="list departments with members, chats, invitations")
    listing.set_defaults(handler=list_command)


async def _bot_username(settings: Settings, given: str | None) -> str:
    if given:
        return given.lstrip("@")
    if settings.bot_token is None:
        return "<bot_username>"
    from bot.app import create_bot

    bot = create_bot(settings)
    try:
        me = await bot.get_me()
        return me.username or "<bot_username>"
    except Exception as exc:  # noqa: BLE001 - offline or wrong token: the token still works
        logger.warning("Could not ask Telegram for the bot's username: %s", exc)
        return "<bot_username>"
    finally:
        await bot.session.close()


async def invite_command(settings: Settings, args: argparse.Namespace) -> int:
    days = args.days if args.days is not None else settings.invitation_ttl_days
    if not 1 <= days <= 365:
        print("kezdesu: --days must be between 1 and 365")  # noqa: T201
        return 2
    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            await ensure_reference_data(session)
            department = await find_department(session, args.code)
            if department is None:
                print(  # noqa: T201
                    f"kezdesu: no department with code {args.code!r}; see `kezdesu department list`"
                )
                return 1
            invitation = await create_invitation(
                session, department.id, created_by_id=None, ttl_days=days
            )
            await session.commit()
            token, expires = invitation.token, invitation.expires_at
            name = f"{department.code} ({department.name_en})"
    finally:
        await engine.dispose()
    username = await _bot_username(settings, args.bot_username)
    print(f"Invitation to {name}, single use, valid until {expires:%Y-%m-%d %H:%M} UTC")  # noqa: T201
    print(f"Deep link (one official): https://t.me/{username}?start={INVITE_PREFIX}{token}")  # noqa: T201
    print(f"Group chat (sent by a group administrator): /join {token}")  # noqa: T201
    return 0


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            await ensure_reference_data(session)
            await session.commit()
            overview = await department_overview(session)
            invitations = await open_invitations(session)
    finally:
        await engine.dispose()
    print(f"{'code':<36} {'members':>7} {'chats':>5} {'invites':>7}  name")  # noqa: T201
    for item in overview:
        d = item.department
        print(  # noqa: T201
            f"{d.code:<36} {item.members:>7} {item.chats:>5} "
            f"{invitations.get(d.id, 0):>7}  {d.name_en}"
        )
    return 0
