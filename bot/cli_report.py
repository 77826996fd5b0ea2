"""Sub-command of the reports: the meeting's report, or the progress report on its plan.

kezdesu report [MEETING_ID] [--format docx|pdf] [--lang ru|kk|en] [-o FILE]
kezdesu report [MEETING_ID] --progress [--as-of DATE] …

With no id: the latest meeting that has taken place. Bad input gets one line and exit code 2
(1 when the meeting is missing or the file cannot be written).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import documents
from bot.i18n import SUPPORTED_LOCALES, create_i18n
from models.clock import local_today, to_local
from models.db import create_engine, create_session_pool
from models.db import migrate as apply_migrations
from models.meeting_report import MeetingReport, build_meeting_report, latest_held_meeting
from models.settings import Settings

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def register(subparsers: Any) -> None:
    """Adds ``kezdesu report`` to the command line."""
    p = subparsers.add_parser(
        "report",
        help="write a meeting's report (or its plan's progress report) as DOCX or PDF",
        description="The meeting's report laid out like the akimat's published one, or with "
        "--progress the implementation of its action plan as of a day.",
    )
    p.add_argument("meeting", nargs="?", help="the meeting's id (default: the latest held)")
    p.add_argument("--format", default="pdf", help="docx or pdf (default: pdf)")
    p.add_argument("--lang", default=None, help="ru, kk or en (default: DEFAULT_LOCALE)")
    p.add_argument("--progress", action="store_true", help="the progress report on the plan")
    p.add_argument(
        "--as-of", dest="as_of", help="the progress report's day, 2022-10-01 (implies --progress)"
    )
    p.add_argument("-o", "--output", type=Path, help="the file to write (default: a name in .)")
    p.set_defaults(handler=report_command)


def _fail(message: str, code: int = 2) -> int:
    print(f"kezdesu: {message}", file=sys.stderr)  # noqa: T201
    return code


def _parse_day(text: str) -> dt.date | None:
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a day
        except ValueError:
            continue
    return None


async def report_command(settings: Settings, args: argparse.Namespace) -> int:
    fmt = str(args.format).lower()
    if fmt not in {f.value for f in documents.DocFormat}:
        return _fail(f"--format must be docx or pdf, not {args.format!r}")
    locale = str(args.lang or settings.default_locale).lower()
    if locale not in SUPPORTED_LOCALES:
        return _fail(f"--lang must be one of {', '.join(SUPPORTED_LOCALES)}, not {args.lang!r}")
    meeting_id: int | None = None
    if args.meeting is not None:
        if not str(args.meeting).isdigit():
            return _fail(f"the meeting's id is a whole number, not {args.meeting!r}")
        meeting_id = int(args.meeting)
    as_of = local_today()
    if args.as_of is not None:
        day = _parse_day(str(args.as_of))
        if day is None:
            return _fail(f"--as-of must be a date such as 2022-10-01, not {args.as_of!r}")
        as_of = day
    kind = (
        documents.ReportKind.PROGRESS
        if args.progress or args.as_of is not None
        else documents.ReportKind.MEETING
    )

    engine = create_engine(settings.database_url)
    try:
        await apply_migrations(engine)
        async with create_session_pool(engine)() as session:
            if meeting_id is None:
                latest = await latest_held_meeting(session, dt.datetime.now(dt.UTC))
                if latest is None:
                    return _fail("no meeting has taken place yet; give a meeting's id", 1)
                meeting_id = latest.id
            report = await build_meeting_report(session, meeting_id, as_of)
    finally:
        await engine.dispose()
    if report is None:
        return _fail(f"there is no meeting #{meeting_id}", 1)
    return await _write(report, kind, documents.DocFormat(fmt), locale, settings, args.output)


async def _write(
    report: MeetingReport,
    kind: documents.ReportKind,
    fmt: documents.DocFormat,
    locale: str,
    settings: Settings,
    output: Path | None,
) -> int:
    document = documents.compose(report, kind, create_i18n(settings.default_locale), locale)
    data = await asyncio.to_thread(documents.render, document, fmt)
    path = output or Path(documents.file_name(report, kind, fmt, locale))
    try:
        path.write_bytes(data)
    except OSError as error:
        return _fail(f"cannot write {path}: {error.strerror or error}", 1)
    print(  # noqa: T201
        f"Wrote {path} ({len(data):,} bytes): meeting #{report.meeting.id}, "
        f"{report.district.name_en}, {to_local(report.meeting.starts_at):%d.%m.%Y}."
    )
    return 0
