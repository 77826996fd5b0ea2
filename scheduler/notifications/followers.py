"""Messages to followers when a promise slips or changes, each in the follower's language:

- a followed measure is overdue (the day after its due date; ``scheduler/followers.py``);
- the monthly summary of a follower's measures still overdue (``scheduler/followers.py``);
- a re-imported plan changed followed measures' deadline, text or responsible departments: one
  message per follower and import, old → new;
- a plan is imported for a followed district, a meeting's outcome is recorded;
- a followed district's meeting changed its place, stream link or question deadline (a new time
  is told by ``meetings.meeting_changed``).

Private messages to residents: the queue holds them through the quiet hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.formatting import district_args, fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.builder import Keyboard
from bot.keyboards.resident import MeetingCb
from bot.labels import status_label
from models.entities import Department, District, Meeting
from models.followers import (
    SUMMARY_LIMIT,
    FollowedMeasure,
    followed_measures,
    measure_followers_of,
    recipients_of,
)
from models.meetings import plan_counts
from models.plans import ApplyResult, MeasureChange
from models.recipients import Recipient, district_followers
from models.text import truncate
from models.translation import N_
from scheduler.notifications import Outgoing, messages, per_locale, queue_each
from scheduler.notifications.measures import OPEN_BUTTON, open_card_keyboard

CHANGES_LIMIT = 8  # changed measures listed in one message; the rest are counted
FOLLOWING_MEASURE = N_("You get this because you follow the commitment.")
FOLLOWING_DISTRICT = N_("You get this because you follow the district.")
NOT_GIVEN = N_("not given")


def _deadline(text: str, due: dt.date | None, locale: str) -> str:
    written = html.quote(truncate(text, 150)) if text else _(NOT_GIVEN)
    return f"{written} ({fmt_date(due, locale)})" if due is not None else written


def _departments(departments: Sequence[Department], locale: str) -> str:
    return ", ".join(html.quote(d.short(locale)) for d in departments) or _(NOT_GIVEN)


def _overdue_days(due: dt.date, today: dt.date) -> str:
    days = (today - due).days
    return _("Overdue by {days} day", "Overdue by {days} days", days).format(days=days)


# --- (a) a followed measure slipped past its due date -------------------------------------------


def render_overdue(item: FollowedMeasure, today: dt.date) -> Outgoing:
    """The day after the due date, in the current language."""
    locale = current_locale()
    row = item.row
    assert row.due_date is not None
    lines = [
        _("🔴 <b>A commitment you follow is overdue</b>"),
        f"<b>{item.row.number}</b> {html.quote(truncate(row.text, 900))}",
        "",
        _("Deadline: {deadline}").format(
            deadline=_deadline(row.deadline_text, row.due_date, locale)
        ),
        f"<b>{html.quote(_overdue_days(row.due_date, today))}</b>",
        _("Responsible: {departments}").format(departments=_departments(item.departments, locale)),
    ]
    if row.district is not None:
        lines.append(f"🏙 {html.quote(row.district.name(locale))}")
    lines += ["", _(FOLLOWING_MEASURE)]
    return Outgoing("\n".join(lines), open_card_keyboard(row.id))


async def measure_overdue(
    session: AsyncSession,
    i18n: I18n,
    item: FollowedMeasure,
    followers: Iterable[Recipient],
    today: dt.date,
) -> int:
    """Once per follower and due date: a later run, or a second replica, queues nothing."""
    assert item.row.due_date is not None
    return await queue_each(
        session,
        i18n,
        followers,
        per_locale(partial(render_overdue, item, today)),
        kind="follow_overdue",
        key=f"follow-overdue:{item.row.id}:{item.row.due_date:%Y-%m-%d}",
    )


# --- (b) the monthly summary ---------------------------------------------------------------------


def _latest_line(i18n: I18n, item: FollowedMeasure, locale: str) -> str:
    latest = item.latest
    if latest is None:
        return _("No updates yet.")
    parts = [fmt_date(latest.created_at.date(), locale)]
    if latest.kind == "import":
        parts.append(_("the published plan was corrected"))
    if latest.status:
        parts.append(status_label(i18n, latest.status, locale))
    if latest.progress is not None:
        parts.append(f"{latest.progress}%")
    if latest.comment and latest.kind != "import":
        parts.append(html.quote(truncate(latest.comment, 150)))
    return _("Latest update: {update}").format(update=" · ".join(parts))


def render_summary(i18n: I18n, items: Sequence[FollowedMeasure], today: dt.date) -> Outgoing:
    """A follower's measures still overdue, most overdue first, in the current language."""
    locale = current_locale()
    count = len(items)
    lines = [
        _("📋 <b>Your monthly summary</b>"),
        _(
            "{count} commitment you follow is still overdue:",
            "{count} commitments you follow are still overdue:",
            count,
        ).format(count=count),
    ]
    keyboard = Keyboard()
    for item in items[:SUMMARY_LIMIT]:
        row = item.row
        assert row.due_date is not None
        lines += [
            "",
            f"🔴 <b>{item.row.number}</b> {html.quote(truncate(row.text, 160))}",
            f"<i>{html.quote(_overdue_days(row.due_date, today))}</i>",
            _latest_line(i18n, item, locale),
        ]
        keyboard.button(text=f"🔴 {item.row.number}", callback_data=OpenMeasureCb(id=row.id))
    if count > SUMMARY_LIMIT:
        rest = count - SUMMARY_LIMIT
        lines += ["", _("…and {count} more", "…and {count} more", rest).format(count=rest)]
    lines += ["", _("You can switch this summary off in ⚙️ Settings.")]
    keyboard.adjust(5)
    return Outgoing("\n".join(lines), keyboard.as_markup())


SUMMARY_KEY = "follow-summary:{month:%Y-%m}:{recipient}"


def summary_key(today: dt.date, recipient: Recipient) -> str:
    return SUMMARY_KEY.format(month=today, recipient=recipient.key)


def summary_rows(
    i18n: I18n, recipient: Recipient, items: Sequence[FollowedMeasure], today: dt.date
) -> list[dict[str, Any]]:
    """The follower's summary of the month, as a queue row (once per follower and month)."""
    return messages(
        i18n,
        [recipient],
        partial(render_summary, i18n, items, today),
        kind="follow_summary",
        key=partial(summary_key, today),
    )


# --- (c) a re-import changed followed measures ---------------------------------------------------


def _change_lines(
    item: FollowedMeasure, change: MeasureChange, names: dict[int, Department], locale: str
) -> list[str]:
    lines = [f"<b>{item.row.number}</b> {html.quote(truncate(item.row.text, 300))}"]
    if change.old_deadline is not None and change.new_deadline is not None:
        lines.append(
            _("Deadline: {old} → {new}").format(
                old=_deadline(*change.old_deadline, locale),
                new=_deadline(*change.new_deadline, locale),
            )
        )
    if change.old_text is not None and change.new_text is not None:
        lines.append(
            _("Text was: {old}").format(old=f"<i>{html.quote(truncate(change.old_text, 300))}</i>")
        )
    if change.old_departments is not None and change.new_departments is not None:

        def who(ids: Sequence[int]) -> str:
            return _departments([names[i] for i in ids if i in names], locale)

        lines.append(
            _("Responsible: {old} → {new}").format(
                old=who(change.old_departments), new=who(change.new_departments)
            )
        )
    return lines


def render_plan_changes(
    pairs: Sequence[tuple[FollowedMeasure, MeasureChange]], names: dict[int, Department]
) -> Outgoing:
    """What a re-import changed in the follower's measures, old → new, in the current
    language."""
    locale = current_locale()
    count = len(pairs)
    lines = [
        _(
            "✏️ <b>The published plan changed {count} commitment you follow</b>",
            "✏️ <b>The published plan changed {count} commitments you follow</b>",
            count,
        ).format(count=count)
    ]
    for item, change in pairs[:CHANGES_LIMIT]:
        lines += ["", *_change_lines(item, change, names, locale)]
    if count > CHANGES_LIMIT:
        rest = count - CHANGES_LIMIT
        lines += ["", _("…and {count} more", "…and {count} more", rest).format(count=rest)]
    lines += ["", _(FOLLOWING_MEASURE)]
    keyboard = Keyboard()
    if count == 1:
        keyboard.button(text=_(OPEN_BUTTON), callback_data=OpenMeasureCb(id=pairs[0][0].row.id))
    else:
        for item, _change in pairs[:CHANGES_LIMIT]:
            keyboard.button(text=item.row.number, callback_data=OpenMeasureCb(id=item.row.id))
        keyboard.adjust(4)
    return Outgoing(_fit("\n".join(lines)), keyboard.as_markup())


def _fit(text: str) -> str:
    return text if len(text) <= 4000 else text[:3999] + "…"


def _digest(changes: Sequence[MeasureChange]) -> str:
    """A short fingerprint of one import's changes: the same import queued twice is one key,
    a later import that changes something again is another."""
    raw = repr(sorted(repr(c) for c in changes))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


async def plan_changed(
    session: AsyncSession, i18n: I18n, changes: Sequence[MeasureChange], today: dt.date
) -> int:
    """One message to each follower of the changed measures, listing all of theirs."""
    if not changes:
        return 0
    by_measure = {c.measure_id: c for c in changes}
    followers = await measure_followers_of(session, by_measure)
    if not followers:
        return 0
    items = await followed_measures(session, followers, today)
    department_ids = {
        i
        for c in changes
        for ids in (c.old_departments or (), c.new_departments or ())
        for i in ids
    }
    names = (
        {
            d.id: d
            for d in (
                await session.execute(select(Department).where(Department.id.in_(department_ids)))
            ).scalars()
        }
        if department_ids
        else {}
    )
    per_user: dict[int, list[tuple[FollowedMeasure, MeasureChange]]] = defaultdict(list)
    for measure_id, user_ids in followers.items():
        if measure_id not in items:
            continue
        for user_id in user_ids:
            per_user[user_id].append((items[measure_id], by_measure[measure_id]))
    people = await recipients_of(session, per_user)
    fingerprint = _digest(changes)
    queued = 0
    for user_id, pairs in per_user.items():
        recipient = people.get(user_id)
        if recipient is None:
            continue
        pairs.sort(key=lambda pair: (pair[0].row.problem_number, pair[0].row.position))
        queued += await queue_each(
            session,
            i18n,
            [recipient],
            partial(render_plan_changes, pairs, names),
            kind="follow_plan_change",
            key=f"plan-change:{fingerprint}",
        )
    return queued


# --- (d) a plan imported for a followed district; a meeting's outcome ----------------------------


def _plan_button(meeting: Meeting) -> InlineKeyboardMarkup:
    keyboard = Keyboard()
    keyboard.button(
        text=_("📋 Open the plan"), callback_data=MeetingCb(id=meeting.id, page=0, dp=0)
    )
    return keyboard.as_markup()


def render_plan_imported(
    meeting: Meeting, district: District, problems: int, measures: int
) -> Outgoing:
    locale = current_locale()
    lines = [
        _("📋 <b>An action plan is published</b>"),
        _("Meeting of the akim with residents of {district}: {date}").format(
            **district_args(district, locale),
            date=fmt_datetime(meeting.starts_at, locale),
        ),
        _("{n} problem issue", "{n} problem issues", problems).format(n=problems)
        + ", "
        + _("{n} measure", "{n} measures", measures).format(n=measures),
        "",
        _("Open the plan to see each commitment and follow the ones that matter to you."),
        _(FOLLOWING_DISTRICT),
    ]
    return Outgoing("\n".join(lines), _plan_button(meeting))


async def plan_imported(
    session: AsyncSession,
    i18n: I18n,
    meeting: Meeting,
    district: District,
    problems: int,
    measures: int,
) -> int:
    """The district's followers hear of the meeting's plan once (later corrections reach the
    followers of the changed measures, :func:`plan_changed`)."""
    followers = (await district_followers(session, [district.id])).get(district.id, [])
    return await queue_each(
        session,
        i18n,
        followers,
        per_locale(partial(render_plan_imported, meeting, district, problems, measures)),
        kind="follow_plan_imported",
        key=f"plan-imported:{meeting.id}",
    )


OUTCOME_LINES = (
    ("participants", N_("Participants: {count}")),
    ("speakers", N_("Residents who spoke: {count}")),
    ("questions_raised", N_("Questions raised: {count}")),
    ("answered_at_meeting", N_("Answered at the meeting: {count}")),
    ("questions_done", N_("Already done: {count}")),
    ("questions_in_work", N_("In work: {count}")),
)


def render_outcome(meeting: Meeting, district: District) -> Outgoing:
    locale = current_locale()
    lines = [
        _("🗳 <b>The outcome of the akim's meeting with residents of {district}</b>").format(
            **district_args(district, locale)
        ),
        _("Date: {date}").format(date=fmt_datetime(meeting.starts_at, locale)),
        "",
    ]
    for name, line in OUTCOME_LINES:
        value = getattr(meeting, name)
        if value is not None:
            lines.append(_(line).format(count=value))
    lines += ["", _(FOLLOWING_DISTRICT)]
    return Outgoing("\n".join(lines), _plan_button(meeting))


async def outcome_recorded(
    session: AsyncSession, i18n: I18n, meeting: Meeting, district: District
) -> int:
    """The district's followers hear the outcome once (a later correction is not sent again)."""
    followers = (await district_followers(session, [district.id])).get(district.id, [])
    return await queue_each(
        session,
        i18n,
        followers,
        per_locale(partial(render_outcome, meeting, district)),
        kind="follow_meeting_outcome",
        key=f"meeting-outcome:{meeting.id}",
    )


# --- (e) a followed district's meeting changed --------------------------------------------------

FIELD_LINES = {
    "place": N_("Place: {old} → {new}"),
    "stream_url": N_("Livestream: {old} → {new}"),
    "intake_closes_at": N_("Questions accepted until: {old} → {new}"),
}


def _field_value(meeting: Meeting, name: str, value: object, locale: str) -> str:
    if name == "intake_closes_at":
        moment = value if isinstance(value, dt.datetime) else meeting.starts_at
        return fmt_datetime(moment, locale)
    return html.quote(truncate(str(value), 300)) if value else _(NOT_GIVEN)


def render_meeting_edit(
    meeting: Meeting, district: District, name: str, old: object, new: object
) -> Outgoing:
    locale = current_locale()
    lines = [
        _("✏️ <b>The meeting of the akim with the residents of {district} has changed</b>").format(
            **district_args(district, locale)
        ),
        _("When: {when}").format(when=fmt_datetime(meeting.starts_at, locale)),
        _(FIELD_LINES[name]).format(
            old=_field_value(meeting, name, old, locale),
            new=_field_value(meeting, name, new, locale),
        ),
        "",
        _(FOLLOWING_DISTRICT),
    ]
    return Outgoing("\n".join(lines))


async def meeting_edited(
    session: AsyncSession,
    i18n: I18n,
    meeting: Meeting,
    district: District,
    name: str,
    old: object,
) -> int:
    """A scheduled meeting's place, stream link or question deadline changed (``name`` is the
    column; ``old`` its value before): the district's followers hear old → new. The key holds the
    new value, so the same edit saved twice sends once and a further edit sends again."""
    if name not in FIELD_LINES:
        raise ValueError(name)
    new = getattr(meeting, name)
    if new == old:
        return 0
    fingerprint = hashlib.sha256(repr(new).encode("utf-8")).hexdigest()[:12]
    followers = (await district_followers(session, [district.id])).get(district.id, [])
    return await queue_each(
        session,
        i18n,
        followers,
        per_locale(partial(render_meeting_edit, meeting, district, name, old, new)),
        kind="meeting_changed",
        key=f"meeting:{meeting.id}:{name}:{fingerprint}",
    )


async def plan_applied(
    session: AsyncSession,
    i18n: I18n,
    meeting: Meeting,
    district: District,
    result: ApplyResult,
    today: dt.date,
) -> int:
    """After a plan import (the admin area, the command line): the followers of the changed
    measures hear what changed; when it added measures, the district's followers hear of the
    plan (once per meeting)."""
    queued = await plan_changed(session, i18n, result.changes, today)
    if result.measures_created:
        problems, measures = await plan_counts(session, meeting.id)
        queued += await plan_imported(session, i18n, meeting, district, problems, measures)
    return queued
