"""The admin sub-commands: grant, revoke, list, and importing a plan file from the shell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import build_parser
from models.demo import demo_rows
from models.entities import District, Measure, Meeting, MeetingStatus, User
from models.importer import rows_to_csv, rows_to_xlsx
from models.settings import Settings
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, last_message


async def run(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    code: int = await args.handler(settings, args)
    return code


async def _user(session: AsyncSession, tg_id: int) -> User | None:
    session.expire_all()
    return (await session.execute(select(User).where(User.tg_id == tg_id))).scalar_one_or_none()


async def test_grant_list_revoke(
    settings: Settings,
    session: AsyncSession,
    make_client: Callable[..., BotClient],
    capsys: pytest.CaptureFixture[str],
) -> None:
    staff = make_client(user_id=4242, language_code="en")
    await onboard(staff, "en")
    sent = await staff.send("/admin")
    assert "I do not know this command" in last_message(sent).text

    assert await run(settings, "admin", "grant", "4242") == 0
    assert "4242 is now an admin" in capsys.readouterr().out
    user = await _user(session, 4242)
    assert user is not None and user.is_admin
    # the running bot (another process) reads the profile, and so the role, on every update
    sent = await staff.send("/admin")
    assert "Admin panel" in last_message(sent).text

    # someone who has never written to the bot: the profile is created
    assert await run(settings, "admin", "grant", "5555") == 0
    created = await _user(session, 5555)
    assert created is not None and created.is_admin
    assert await run(settings, "admin", "grant", "5555") == 0
    assert "5555 was already an admin" in capsys.readouterr().out

    assert await run(settings, "admin", "list") == 0
    listed = capsys.readouterr().out
    assert "4242\tgranted\tАйгерим Сейткали @aigerim" in listed
    assert "5555\tgranted" in listed
    assert f"{ADMIN_ID}\tADMIN_IDS" in listed

    assert await run(settings, "admin", "revoke", "4242") == 0
    assert "4242 is no longer an admin" in capsys.readouterr().out
    revoked = await _user(session, 4242)
    assert revoked is not None and not revoked.is_admin
    sent = await staff.send("/admin")  # an admin's profile is never cached: at once
    assert "I do not know this command" in last_message(sent).text
    assert await run(settings, "admin", "revoke", str(ADMIN_ID)) == 0
    assert "stays an admin through ADMIN_IDS" in capsys.readouterr().out


@pytest.fixture
async def meeting_id(session: AsyncSession) -> int:
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    meeting = Meeting(
        district_id=almaly.id,
        starts_at=dt.datetime(2022, 6, 23, 9, 0, tzinfo=dt.UTC),
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    await session.commit()
    return meeting.id


async def _measures(session: AsyncSession) -> int:
    session.expire_all()
    return int((await session.execute(select(func.count(Measure.id)))).scalar_one())


async def test_import_preview_apply_and_reimport(
    settings: Settings,
    session: AsyncSession,
    meeting_id: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = demo_rows()[1]
    path = tmp_path / "plan.xlsx"
    path.write_bytes(rows_to_xlsx(rows))

    assert await run(settings, "import", str(path), "--meeting", str(meeting_id)) == 0
    out = capsys.readouterr().out
    assert "plan.xlsx: rows: 12; problems: 10; measures: 12." in out
    assert "2023-09-30  УО, УКС" in out
    assert "Would add problems: 10, measures: 12" in out
    assert "--apply" in out
    assert await _measures(session) == 0  # a preview changes nothing

    assert await run(settings, "admin", "import", str(path), "--meeting", str(meeting_id),
                     "--apply") == 0  # fmt: skip
    assert "Imported: added problems: 10, measures: 12" in capsys.readouterr().out
    assert await _measures(session) == 12

    csv_path = tmp_path / "plan.csv"
    csv_path.write_bytes(rows_to_csv(rows))
    assert (
        await run(settings, "import", str(csv_path), "--meeting", str(meeting_id), "--apply") == 0
    )
    assert "Nothing to change" in capsys.readouterr().out
    assert await _measures(session) == 12


async def test_import_errors(
    settings: Settings, meeting_id: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "plan.csv"
    bad.write_bytes(b"Name;Phone\nA;1\n")
    assert await run(settings, "import", str(bad), "--meeting", str(meeting_id)) == 1
    assert "lacks columns: problem, measure, deadline, executors" in capsys.readouterr().out
    good = tmp_path / "good.csv"
    good.write_bytes(rows_to_csv(demo_rows()[1]))
    assert await run(settings, "import", str(good), "--meeting", "999") == 1
    assert "there is no meeting #999" in capsys.readouterr().out
    assert await run(settings, "import", str(tmp_path / "missing.csv"), "--meeting", "1") == 1
    assert "no such file" in capsys.readouterr().out
