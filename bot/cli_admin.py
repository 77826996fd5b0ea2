"""Sub-commands of the admin area.

kezdesu admin grant <telegram_id>     make a Telegram user an admin (creates the profile)
kezdesu admin revoke <telegram_id>    take the role back
kezdesu admin list                    admins from the database and from ADMIN_IDS
kezdesu import <path> --meeting <id> [--apply]   (also: kezdesu admin import …)
    preview an action plan file (CSV, XLSX, JSON); with --apply, import it in one transaction
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import create_i18n
from models.admins import grant_admin, list_admins, revoke_admin
from models.clock import local_today, to_local
from models.db import create_engine, create_session_pool
from models.db import migrate as apply_migrations
from models.entities import Department
from models.importer import MAX_FILE_SIZE, FileProblem, PlanFileError, read_plan_file
from models.meetings import get_meeting
from models.plans import ParsedPlan, PlanRow, RowProblem, apply_plan, parse_plan
from models.reference import ensure_reference_data
from models.settings import Settings
from scheduler.notifications import followers as follower_news

FILE_PROBLEMS = {
    FileProblem.NOT_TABLE: "not a table: use a .csv, .xlsx or .json file",
    FileProblem.EMPTY: "the file has no rows of the plan",
    FileProblem.TOO_LARGE: "the file is larger than 5 MB",
    FileProblem.WRONG_COLUMNS: "the table lacks columns",
    FileProblem.BROKEN: "the file is damaged or not in the format its name says",
    FileProblem.ENCODING: "the text is not UTF-8 (save the CSV as «CSV UTF-8»)",
}
ROW_PROBLEMS = {
    RowProblem.NO_MEASURE: "no measure text",
    RowProblem.BAD_NUMBER: "the number is not a whole number",
    RowProblem.NO_PROBLEM: "no problem issue above it",
    RowProblem.NUMBER_WITHOUT_TITLE: "a new number without the problem issue's text",
    RowProblem.TOO_LONG: "a cell is too long",
    RowProblem.NO_EXECUTORS: "no responsible executor",
}


def register(subparsers: Any) -> None:
    """Adds this area's sub-commands to the ``kezdesu`` command line."""
    p = subparsers.add_parser("admin", help="admins (grant, revoke, list) and plan import")
    sub = p.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    grant = sub.add_parser("grant", help="make a Telegram user an admin")
    grant.add_argument("telegram_id", type=int)
    grant.set_defaults(handler=grant_command)
    revoke = sub.add_parser("revoke", help="take the admin role back")
    revoke.add_argument("telegram_id", type=int)
    revoke.set_defaults(handler=revoke_command)
    sub.add_parser("list", help="list the admins").set_defaults(handler=list_command)
    _add_import(sub.add_parser("import", help="preview or import an action plan file"))
    _add_import(subparsers.add_parser("import", help="preview or import an action plan file"))


def _add_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the plan: .csv, .xlsx or .json")
    parser.add_argument("--meeting", type=int, required=True, help="the meeting's id")
    parser.add_argument(
        "--apply", action="store_true", help="import it (without: only print the preview)"
    )
    parser.set_defaults(handler=import_command)


async def _session_run(settings: Settings, work: Any) -> int:
    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            await ensure_reference_data(session)
            code: int = await work(session)
            await session.commit()
            return code
    finally:
        await engine.dispose()


async def grant_command(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        changed = await grant_admin(session, args.telegram_id)
        print(  # noqa: T201
            f"{args.telegram_id} is now an admin (a running bot sees it at the person's next "
            "update)."
            if changed
            else f"{args.telegram_id} was already an admin."
        )
        return 0

    return await _session_run(settings, work)


async def revoke_command(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        changed = await revoke_admin(session, args.telegram_id)
        if changed:
            print(f"{args.telegram_id} is no longer an admin.")  # noqa: T201
        else:
            print(f"{args.telegram_id} was not an admin granted here.")  # noqa: T201
        if args.telegram_id in settings.admin_ids:
            print(  # noqa: T201
                f"{args.telegram_id} stays an admin through ADMIN_IDS; remove it there too."
            )
        return 0

    return await _session_run(settings, work)


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session: AsyncSession) -> int:
        admins = await list_admins(session)
        granted = {u.tg_id for u in admins}
        for user in admins:
            name = user.full_name or "(has not written to the bot yet)"
            handle = f" @{user.username}" if user.username else ""
            print(f"{user.tg_id}\tgranted\t{name}{handle}")  # noqa: T201
        for tg_id in sorted(settings.admin_ids - granted):
            print(f"{tg_id}\tADMIN_IDS")  # noqa: T201
        if not admins and not settings.admin_ids:
            print("No admins yet: kezdesu admin grant <telegram_id>")  # noqa: T201
        return 0

    return await _session_run(settings, work)


def read_rows(path: Path) -> list[PlanRow] | str:
    """The plan's rows, or the reason the file cannot be used."""
    if not path.is_file():
        return f"no such file: {path}"
    if path.stat().st_size > MAX_FILE_SIZE:
        return f"{path.name}: {FILE_PROBLEMS[FileProblem.TOO_LARGE]}"
    try:
        return read_plan_file(path.name, path.read_bytes())
    except PlanFileError as error:
        reason = FILE_PROBLEMS[error.problem]
        if error.missing:
            reason += ": " + ", ".join(error.missing)
        return f"{path.name}: {reason}"


async def import_command(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.path
    rows = read_rows(path)
    if isinstance(rows, str):
        print(f"kezdesu: {rows}")  # noqa: T201
        return 1

    async def work(session: AsyncSession) -> int:
        meeting = await get_meeting(session, args.meeting)
        if meeting is None:
            print(f"kezdesu: there is no meeting #{args.meeting}")  # noqa: T201
            return 1
        departments = list((await session.execute(select(Department))).scalars())
        plan = parse_plan(rows, to_local(meeting.starts_at).date(), departments)
        print(  # noqa: T201
            f"Meeting #{meeting.id}: {meeting.district.name_en}, "
            f"{to_local(meeting.starts_at):%d.%m.%Y %H:%M} (Asia/Almaty)"
        )
        print(_preview(path.name, len(rows), plan))  # noqa: T201
        if not plan.problems:
            print("Nothing can be imported from this file.")  # noqa: T201
            return 1
        savepoint = await session.begin_nested()
        try:
            dry = await apply_plan(session, meeting.id, plan)
        finally:
            await savepoint.rollback()
        if not dry.changed:
            print(  # noqa: T201
                "Nothing to change: this plan is already imported "
                f"({dry.measures_unchanged} measures unchanged)."
            )
            return 0
        if not args.apply:
            print(  # noqa: T201
                f"Would add problems: {dry.problems_created}, measures: {dry.measures_created}; "
                f"update: {dry.measures_updated}; leave unchanged: {dry.measures_unchanged}."
                "\nPreview only: run again with --apply to import."
            )
            return 0
        result = await apply_plan(session, meeting.id, plan)
        told = await follower_news.plan_applied(
            session, create_i18n(settings.default_locale), meeting, meeting.district, result,
            local_today(),
        )  # fmt: skip
        await session.commit()
        print(  # noqa: T201
            f"Imported: added problems: {result.problems_created}, measures: "
            f"{result.measures_created}; updated: {result.measures_updated}; unchanged: "
            f"{result.measures_unchanged}; messages to followers queued: {told}."
        )
        return 0

    return await _session_run(settings, work)


def _preview(name: str, row_count: int, plan: ParsedPlan) -> str:
    lines = [
        f"{name}: rows: {row_count}; problems: {len(plan.problems)}; "
        f"measures: {len(plan.measures)}."
    ]
    for problem in plan.problems:
        lines.append(f"  {problem.number}. {problem.title}")
        for measure in problem.measures:
            due = measure.due_date.isoformat() if measure.due_date else "no date"
            text = " ".join(measure.text.split())
            text = text if len(text) <= 70 else text[:69] + "…"
            lines.append(f"     - {due}  {', '.join(measure.executor_codes)}  {text}")
            if measure.deadline_unreadable:
                lines.append(
                    f"       WARNING: quarter, half-year or month cannot be read, no due date: "
                    f"{measure.deadline_text!r}"
                )
            elif measure.due_date is None and measure.deadline_text:
                lines.append(f"       deadline not recognised: {measure.deadline_text!r}")
    if plan.unknown_codes:
        lines.append("Unknown executor codes: " + ", ".join(plan.unknown_codes))
    for error in plan.errors:
        lines.append(f"Row {error.row_no} left out: {ROW_PROBLEMS[error.problem]}")
    return "\n".join(lines)
