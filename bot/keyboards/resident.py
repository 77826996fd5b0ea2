"""The resident area's callbacks and views: district chooser, city overview, a district's
meetings, a meeting's plan, the measure card and its history, and follows.

Views are pure functions ``(data, locale, …) -> (text, markup)``: texts come from the current
gettext locale, dates from Babel in ``locale`` (Asia/Almaty). Every view keeps within Telegram's
4096 characters by truncating long parts, and every callback carries ids and short enums only.
:func:`render_card` is reusable by other areas (with ``nav=None`` it has no "back" button). The
search results' views are in ``bot.keyboards.search``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.callbacks import ReportMeasureCb
from bot.formatting import fmt_date, fmt_datetime
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import page_count, pagination_row
from bot.labels import status_label
from models.clock import to_local
from models.commitments import (
    CardUpdate,
    DistrictPage,
    DistrictSummary,
    FollowingPage,
    HistoryPage,
    MeasureCard,
    MeasureRow,
    MeetingPage,
    Tally,
)
from models.entities import OPEN_STATUSES, MeasureSource, MeasureStatus
from models.spoken import SPOKEN_MARK
from models.statuses import OVERDUE, status_mark
from models.text import truncate
from models.translation import N_

MAX_TEXT = 4096

MEETINGS_PER_PAGE = 5
MEASURES_PER_PAGE = 8
SEARCH_PER_PAGE = 6
FOLLOWING_PER_PAGE = 6
HISTORY_PER_PAGE = 6
SPOKEN_HEADING = N_("<b>{mark} Stated at the meeting, not in the published plan</b>")


class Src(StrEnum):
    """Where a card was opened from, so that "back" returns there."""

    MEETING = "m"  # a meeting's plan: page = plan page, dp = district page
    SEARCH = "s"  # search results: page = results page
    FOLLOWING = "f"  # /following: page = list page
    NONE = "n"  # a notification, reminder, deep link: page = the plan page of the measure


class FollowKind(StrEnum):
    MEASURE = "m"
    DISTRICT = "d"


class DistrictsCb(CallbackData, prefix="rd"):
    """The district chooser of Commitments."""


class OverviewCb(CallbackData, prefix="ro"):
    """The city overview."""


class DistrictPageCb(CallbackData, prefix="rm"):
    id: int
    page: int


class MeetingCb(CallbackData, prefix="rn"):
    id: int
    page: int
    dp: int  # the district page to go back to


class CardCb(CallbackData, prefix="rc"):
    id: int
    src: Src
    page: int
    dp: int


class HistoryCb(CallbackData, prefix="rh"):
    id: int
    hp: int  # history page
    src: Src
    page: int
    dp: int


class CardFollowCb(CallbackData, prefix="rf"):
    id: int
    on: int  # 1 follow, 0 unfollow
    src: Src
    page: int
    dp: int


class DistrictFollowCb(CallbackData, prefix="rg"):
    id: int
    on: int
    page: int


class UnfollowCb(CallbackData, prefix="ru"):
    """Unfollow from the /following list (re-shows the list at ``page``)."""

    kind: FollowKind
    id: int
    page: int


class FollowingCb(CallbackData, prefix="rl"):
    page: int


class SearchCb(CallbackData, prefix="rs"):
    page: int


class ProofCb(CallbackData, prefix="rx"):
    id: int


@dataclass(frozen=True)
class CardNav:
    """Where the card's "back" button leads (see :class:`Src`)."""

    src: Src = Src.NONE
    page: int = 0
    dp: int = 0


View = tuple[str, InlineKeyboardMarkup]


@dataclass(frozen=True)
class WebLink:
    """The card's "Open on the web": a Mini App button where Telegram allows one (private
    chats), a plain link elsewhere (groups, inline messages)."""

    url: str
    mini_app: bool

    @classmethod
    def for_measure(
        cls, public_url: str | None, measure_id: int, locale: str, chat_type: str | None
    ) -> WebLink | None:
        if not public_url:
            return None
        return cls(f"{public_url}/m/{measure_id}?lang={locale}", chat_type == "private")

    def button(self) -> InlineKeyboardButton:
        text = _("🌐 Open on the web")
        if self.mini_app:
            return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=self.url))
        return InlineKeyboardButton(text=text, url=self.url)


# --- small pieces ------------------------------------------------------------------------------


def label(status: str, locale: str) -> str:
    return status_label(get_i18n(), status, locale)


def tally_line(tally: Tally) -> str:
    """``12 measures: 5 done, 4 in progress, 3 overdue``."""
    total = _("{n} measure", "{n} measures", tally.total).format(n=tally.total)
    parts = []
    if tally.done:
        parts.append(_("{n} done").format(n=tally.done))
    if tally.in_progress:
        parts.append(_("{n} in progress").format(n=tally.in_progress))
    if tally.planned:
        parts.append(_("{n} planned").format(n=tally.planned))
    if tally.overdue:
        parts.append(_("{n} overdue").format(n=tally.overdue))
    if tally.cancelled:
        parts.append(_("{n} cancelled").format(n=tally.cancelled))
    if not parts:
        return total
    return _("{total}: {parts}").format(total=total, parts=", ".join(parts))


def legend(locale: str) -> str:
    statuses = (MeasureStatus.DONE, MeasureStatus.IN_PROGRESS, MeasureStatus.PLANNED, OVERDUE)
    return " · ".join(label(s, locale) for s in statuses)


def days_note(due: dt.date | None, status: str, today: dt.date) -> str:
    """``30 days left`` / ``3 days overdue`` / ``due today``; empty for closed or undated."""
    if due is None or status not in (*OPEN_STATUSES, OVERDUE):
        return ""
    delta = (due - today).days
    if delta > 0:
        return _("{n} day left", "{n} days left", delta).format(n=delta)
    if delta == 0:
        return _("due today")
    return _("{n} day overdue", "{n} days overdue", -delta).format(n=-delta)


def deadline_line(deadline_text: str, due: dt.date | None, status: str, today: dt.date, locale: str,
                  written_limit: int = 200) -> str:  # fmt: skip
    written = html.quote(truncate(deadline_text, written_limit)) if deadline_text else ""
    if due is None:
        if not written:
            return _("<b>Deadline:</b> not set")
        return _("<b>Deadline:</b> {written} (no exact date)").format(written=written)
    date = fmt_date(due, locale)
    note = days_note(due, status, today)
    if written:
        line = _("<b>Deadline:</b> {written} → {date}").format(written=written, date=date)
    else:
        line = _("<b>Deadline:</b> {date}").format(date=date)
    return f"{line} ({note})" if note else line


def meeting_date(starts_at: dt.datetime, locale: str) -> str:
    return fmt_datetime(starts_at, locale)


def short_date(moment: dt.datetime, locale: str) -> str:
    return fmt_date(to_local(moment).date(), locale, "medium")


def measure_button_text(row: MeasureRow, prefix: str = "") -> str:
    number = row.number
    return f"{prefix}{status_mark(row.status)} {number} {truncate(row.text, 40)}"


def row_mark(row: MeasureRow) -> str:
    """The status mark, and 🗣 for a promise stated at the meeting, not in the plan."""
    spoken = row.source == MeasureSource.SPOKEN
    return f"{status_mark(row.status)} {SPOKEN_MARK}" if spoken else status_mark(row.status)


def problem_line(number: int, title: str, source: str, limit: int) -> str:
    """The heading a measure sits under: its problem issue, or the promises stated at the
    meeting that the published plan lacks."""
    if source == MeasureSource.SPOKEN:
        return _(SPOKEN_HEADING).format(mark=SPOKEN_MARK)
    return _("<b>Problem issue {number}. {title}</b>").format(
        number=number, title=html.quote(truncate(title, limit))
    )


def fit_text(parts: list[str], limit: int = MAX_TEXT) -> str:
    """Join, dropping whole trailing lines (never cutting a tag) if it would be too long."""
    text = "\n".join(parts)
    while len(text) > limit and len(parts) > 1:
        parts = parts[:-1]
        text = "\n".join([*parts, "…"])
    return text


# --- district chooser and city overview --------------------------------------------------------


def districts_view(summaries: list[DistrictSummary], own_id: int | None, locale: str) -> View:
    builder = Keyboard()
    ordered = sorted(summaries, key=lambda s: (s.district.id != own_id, s.district.order))
    for summary in ordered:
        name = summary.district.short(locale)
        mark = "📍 " if summary.district.id == own_id else ""
        count = f" ({summary.tally.total})" if summary.tally.total else ""
        builder.button(
            text=f"{mark}{name}{count}",
            callback_data=DistrictPageCb(id=summary.district.id, page=0),
        )
    builder.button(text=_("🏙 City overview"), callback_data=OverviewCb())
    rows = [2] * (len(ordered) // 2) + ([1] if len(ordered) % 2 else [])
    builder.adjust(*rows, 1)
    text = _(
        "<b>📋 Commitments</b>\n"
        "What the akim promised at the meetings with residents, and how it is going. "
        "Choose a district (📍 marks yours); the number is how many commitments it has."
    )
    return text, builder.as_markup()


def overview_view(summaries: list[DistrictSummary], locale: str, today: dt.date) -> View:
    city = Tally()
    lines = [
        _("🏙 <b>City overview</b> on {date}").format(date=fmt_date(today, locale)),
        "",
    ]
    builder = Keyboard()
    for summary in summaries:
        name = html.quote(summary.district.short(locale))
        for attr in ("done", "in_progress", "planned", "overdue", "cancelled"):
            setattr(city, attr, getattr(city, attr) + getattr(summary.tally, attr))
        if summary.tally.total:
            meetings = _("{n} meeting", "{n} meetings", summary.meetings).format(n=summary.meetings)
            lines.append(f"<b>{name}</b> ({meetings}): {tally_line(summary.tally)}")
        else:
            lines.append(_("<b>{district}</b>: no published commitments yet").format(district=name))
        builder.button(
            text=summary.district.short(locale),
            callback_data=DistrictPageCb(id=summary.district.id, page=0),
        )
    lines += ["", _("<b>Whole city</b>: {tally}").format(tally=tally_line(city)), legend(locale)]
    builder.button(text=_("⬅️ Back"), callback_data=DistrictsCb())
    count = len(summaries)
    builder.adjust(*([2] * (count // 2) + ([1] if count % 2 else [])), 1)
    return fit_text(lines), builder.as_markup()


# --- a district's meetings ---------------------------------------------------------------------


def district_view(page: DistrictPage, locale: str) -> View:
    district = page.district
    lines = [f"<b>{html.quote(district.name(locale))}</b>"]
    builder = Keyboard()
    if not page.meetings:
        lines.append(
            _(
                "No meetings of this district with the akim have been published yet. "
                "Follow the district to hear when there is news."
            )
        )
    else:
        lines += [_("Meetings of the akim with residents, newest first:"), ""]
    for summary in page.meetings:
        meeting = summary.meeting
        lines.append(f"📅 <b>{meeting_date(meeting.starts_at, locale)}</b>")
        if meeting.place:
            lines.append(html.quote(truncate(meeting.place, 200)))
        lines += [tally_line(summary.tally), ""]
        builder.row(
            InlineKeyboardButton(
                text=f"📅 {short_date(meeting.starts_at, locale)}",
                callback_data=MeetingCb(id=meeting.id, page=0, dp=page.page).pack(),
            )
        )
    pages = page_count(page.total, MEETINGS_PER_PAGE)
    nav = pagination_row(page.page, pages, lambda p: DistrictPageCb(id=district.id, page=p))
    if nav:
        builder.row(*nav)
    follow = (
        InlineKeyboardButton(
            text=_("🔕 Unfollow this district"),
            callback_data=DistrictFollowCb(id=district.id, on=0, page=page.page).pack(),
        )
        if page.following
        else InlineKeyboardButton(
            text=_("🔔 Follow this district"),
            callback_data=DistrictFollowCb(id=district.id, on=1, page=page.page).pack(),
        )
    )
    builder.row(
        follow, InlineKeyboardButton(text=_("📤 Share"), switch_inline_query=f"d{district.slug}")
    )
    builder.row(InlineKeyboardButton(text=_("⬅️ All districts"), callback_data=DistrictsCb().pack()))
    return fit_text(lines), builder.as_markup()


# --- a meeting's plan --------------------------------------------------------------------------


def meeting_view(page: MeetingPage, locale: str, dp: int) -> View:
    meeting = page.meeting
    lines = [
        _("<b>Meeting of {date}</b>").format(date=meeting_date(meeting.starts_at, locale)),
        html.quote(page.district.name(locale)),
    ]
    if meeting.place:
        lines.append(html.quote(truncate(meeting.place, 200)))
    lines += [tally_line(page.tally), ""]
    builder = Keyboard()
    if not page.rows:
        lines.append(_("The action plan of this meeting has not been published yet."))
    current_problem = None
    for row in page.rows:
        if row.problem_number != current_problem:
            current_problem = row.problem_number
            title = html.quote(truncate(row.problem_title, 200))
            spoken = row.source == MeasureSource.SPOKEN
            lines.append(
                _(SPOKEN_HEADING).format(mark=SPOKEN_MARK)
                if spoken
                else f"<b>{row.problem_number}. {title}</b>"
            )
        text = html.quote(truncate(row.text, 150))
        number = row.number
        lines.append(f"{status_mark(row.status)} {number} {text}")
        builder.row(
            InlineKeyboardButton(
                text=measure_button_text(row),
                callback_data=CardCb(id=row.id, src=Src.MEETING, page=page.page, dp=dp).pack(),
            )
        )
    lines += ["", legend(locale)]
    pages = page_count(page.total, MEASURES_PER_PAGE)
    nav = pagination_row(page.page, pages, lambda p: MeetingCb(id=meeting.id, page=p, dp=dp))
    if nav:
        builder.row(*nav)
    builder.row(
        InlineKeyboardButton(
            text=_("⬅️ Back"),
            callback_data=DistrictPageCb(id=page.district.id, page=dp).pack(),
        )
    )
    return fit_text(lines), builder.as_markup()


# --- the measure card --------------------------------------------------------------------------


def _who(update: CardUpdate, locale: str) -> str:
    if update.department is not None:
        return html.quote(update.department.short(locale))
    if update.kind == "import":
        return _("plan import")
    return _("akimat staff")


def _update_summary(update: CardUpdate, locale: str) -> str:
    parts = []
    if update.kind == "import":
        parts.append(_("the published plan was corrected"))
    if update.status:
        parts.append(label(update.status, locale))
    if update.progress is not None:
        parts.append(f"{update.progress}%")
    return ", ".join(parts)


def _card_text(card: MeasureCard, locale: str, today: dt.date, measure_limit: int) -> str:
    measure, problem = card.measure, card.problem
    status = card.status(today)
    lines = [
        _("<i>{district} · meeting of {date}</i>").format(
            district=html.quote(card.district.name(locale)),
            date=fmt_date(to_local(card.meeting.starts_at).date(), locale),
        ),
        problem_line(problem.number, problem.title, measure.source, 250),
        "",
        html.quote(truncate(measure.text, measure_limit)),
        "",
        _("<b>Status:</b> {status}").format(status=label(status, locale)),
        deadline_line(measure.deadline_text, measure.due_date, status, today, locale, 150),
    ]
    if measure.progress is not None:
        lines.append(_("<b>Progress:</b> {progress}%").format(progress=measure.progress))
    if card.departments:
        lines.append(_("<b>Responsible:</b>"))
        shown = card.departments[:6]
        lines += [f"• {html.quote(truncate(d.name(locale), 150))}" for d in shown]
        if len(card.departments) > len(shown):
            rest = len(card.departments) - len(shown)
            lines.append(_("• and {n} more").format(n=rest))
    if card.latest is not None:
        latest = card.latest
        head = _("<b>Latest update</b> ({date}, {who})").format(
            date=short_date(latest.created_at, locale), who=_who(latest, locale)
        )
        summary = _update_summary(latest, locale)
        lines.append(f"{head}: {summary}" if summary else head)
        if latest.comment and latest.kind != "import":
            lines.append(f"<i>{html.quote(truncate(latest.comment, 500))}</i>")
    if card.disputes:
        lines.append(
            _(
                "⚠️ {n} resident disagrees that it is done",
                "⚠️ {n} residents disagree that it is done",
                card.disputes,
            ).format(n=card.disputes)
        )
    if card.followers:
        lines.append(
            _("🔔 {n} person follows this", "🔔 {n} people follow this", card.followers).format(
                n=card.followers
            )
        )
    return "\n".join(lines)


def card_back_button(card: MeasureCard, nav: CardNav) -> InlineKeyboardButton:
    match nav.src:
        case Src.MEETING:
            data = MeetingCb(id=card.meeting.id, page=nav.page, dp=nav.dp).pack()
            text = _("⬅️ Back")
        case Src.SEARCH:
            data, text = SearchCb(page=nav.page).pack(), _("⬅️ Back to the results")
        case Src.FOLLOWING:
            data, text = FollowingCb(page=nav.page).pack(), _("⬅️ Back to what I follow")
        case _:
            data = MeetingCb(id=card.meeting.id, page=nav.page, dp=0).pack()
            text = _("📋 The whole plan of the meeting")
    return InlineKeyboardButton(text=text, callback_data=data)


def render_card(
    card: MeasureCard,
    locale: str,
    today: dt.date,
    nav: CardNav | None = CardNav(),
    web: WebLink | None = None,
) -> View:
    """The measure card: text within 4096 characters and its buttons (follow, history, proof,
    report progress when ``card.can_report``, open on the web when ``web`` is given, back when
    ``nav`` is given)."""
    limit = 3000
    text = _card_text(card, locale, today, limit)
    for _attempt in range(6):
        if len(text) <= MAX_TEXT:
            break
        limit = max(100, limit - (len(text) - MAX_TEXT) - 50)
        text = _card_text(card, locale, today, limit)
    text = text[:MAX_TEXT] if len(text) > MAX_TEXT else text
    nav_ = nav or CardNav()
    builder = Keyboard()
    follow_data = CardFollowCb(
        id=card.measure.id,
        on=0 if card.following else 1,
        src=nav_.src,
        page=nav_.page,
        dp=nav_.dp,
    ).pack()
    builder.row(
        InlineKeyboardButton(
            text=_("🔕 Unfollow") if card.following else _("🔔 Follow"),
            callback_data=follow_data,
        ),
        InlineKeyboardButton(
            text=_("📜 History ({n})").format(n=card.updates),
            callback_data=HistoryCb(
                id=card.measure.id, hp=0, src=nav_.src, page=nav_.page, dp=nav_.dp
            ).pack(),
        ),
    )
    extra = []
    if card.measure.proof_photo_file_id:
        extra.append(
            InlineKeyboardButton(
                text=_("📷 Proof"), callback_data=ProofCb(id=card.measure.id).pack()
            )
        )
    if card.can_report:
        extra.append(
            InlineKeyboardButton(
                text=_("📝 Report progress"),
                callback_data=ReportMeasureCb(id=card.measure.id).pack(),
            )
        )
    if extra:
        builder.row(*extra)
    if web is not None:
        builder.row(web.button())
    builder.row(InlineKeyboardButton(text=_("📤 Share"), switch_inline_query=f"m{card.measure.id}"))
    if nav is not None:
        builder.row(card_back_button(card, nav))
    return text, builder.as_markup()


def history_view(history: HistoryPage, locale: str, nav: CardNav) -> View:
    measure = history.measure
    lines = [
        _("📜 <b>History</b>: {measure}").format(measure=html.quote(truncate(measure.text, 300))),
        "",
    ]
    if not history.entries:
        lines.append(
            _("No updates yet: the responsible departments have not reported on it so far.")
        )
    for entry in history.entries:
        head = f"<b>{short_date(entry.created_at, locale)}</b> · {_who(entry, locale)}"
        summary = _update_summary(entry, locale)
        lines.append(f"{head}: {summary}" if summary else head)
        if entry.comment and entry.kind != "import":
            lines.append(f"<i>{html.quote(truncate(entry.comment, 400))}</i>")
        lines.append("")
    builder = Keyboard()
    pages = page_count(history.total, HISTORY_PER_PAGE)
    row = pagination_row(
        history.page,
        pages,
        lambda p: HistoryCb(id=measure.id, hp=p, src=nav.src, page=nav.page, dp=nav.dp),
    )
    if row:
        builder.row(*row)
    builder.row(
        InlineKeyboardButton(
            text=_("⬅️ Back to the card"),
            callback_data=CardCb(id=measure.id, src=nav.src, page=nav.page, dp=nav.dp).pack(),
        )
    )
    return fit_text(lines), builder.as_markup()


# --- follows -----------------------------------------------------------------------------------


def following_view(page: FollowingPage, locale: str) -> View:
    builder = Keyboard()
    if not page.items:
        builder.button(text=_("📋 Browse by district"), callback_data=DistrictsCb())
        return (
            _(
                "🔔 You do not follow anything yet.\n\n"
                "Open a commitment and press «🔔 Follow» to hear when its status changes, or "
                "follow a whole district on its page to hear about its meetings."
            ),
            builder.as_markup(),
        )
    lines = [_("🔔 <b>What you follow</b>"), ""]
    for index, item in enumerate(page.items):
        number = page.page * FOLLOWING_PER_PAGE + index + 1
        if item.district is not None:
            name = html.quote(item.district.name(locale))
            lines.append(_("{number}. 🏙 District: {name}").format(number=number, name=name))
            builder.row(
                InlineKeyboardButton(
                    text=f"{number}. 🏙 {item.district.short(locale)}",
                    callback_data=DistrictPageCb(id=item.district.id, page=0).pack(),
                ),
                InlineKeyboardButton(
                    text=_("🔕 Unfollow"),
                    callback_data=UnfollowCb(
                        kind=FollowKind.DISTRICT, id=item.district.id, page=page.page
                    ).pack(),
                ),
            )
        elif item.measure is not None:
            row = item.measure
            lines.append(f"{number}. {row_mark(row)} {html.quote(truncate(row.text, 200))}")
            builder.row(
                InlineKeyboardButton(
                    text=f"{number}. {status_mark(row.status)} {truncate(row.text, 30)}",
                    callback_data=CardCb(id=row.id, src=Src.FOLLOWING, page=page.page, dp=0).pack(),
                ),
                InlineKeyboardButton(
                    text=_("🔕 Unfollow"),
                    callback_data=UnfollowCb(
                        kind=FollowKind.MEASURE, id=row.id, page=page.page
                    ).pack(),
                ),
            )
    lines += ["", legend(locale)]
    pages = page_count(page.total, FOLLOWING_PER_PAGE)
    nav = pagination_row(page.page, pages, lambda p: FollowingCb(page=p))
    if nav:
        builder.row(*nav)
    return fit_text(lines), builder.as_markup()
