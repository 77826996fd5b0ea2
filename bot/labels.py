"""Translated labels and marks for statuses, shared by every area."""

from __future__ import annotations

import datetime as dt

from aiogram.utils.i18n import I18n

from bot.i18n import N_
from models.entities import OPEN_STATUSES, MeasureStatus, QuestionStatus

OVERDUE = "overdue"

MEASURE_MARKS: dict[str, str] = {
    MeasureStatus.DONE: "✅",
    MeasureStatus.IN_PROGRESS: "🔄",
    MeasureStatus.PLANNED: "🗓",
    MeasureStatus.CANCELLED: "⛔",
    OVERDUE: "🔴",
}

MEASURE_LABELS: dict[str, str] = {
    MeasureStatus.DONE: N_("done"),
    MeasureStatus.IN_PROGRESS: N_("in progress"),
    MeasureStatus.PLANNED: N_("planned"),
    MeasureStatus.CANCELLED: N_("cancelled"),
    OVERDUE: N_("overdue"),
}

QUESTION_LABELS: dict[str, str] = {
    QuestionStatus.SUBMITTED: N_("submitted, awaiting moderation"),
    QuestionStatus.ACCEPTED: N_("accepted for the meeting"),
    QuestionStatus.REJECTED: N_("rejected"),
    QuestionStatus.ANSWERED_AT_MEETING: N_("answered at the meeting"),
    QuestionStatus.IN_WORK: N_("in work"),
    QuestionStatus.DONE: N_("done"),
    QuestionStatus.MERGED: N_("merged with a similar question"),
}


def effective_status(status: str, due_date: dt.date | None, today: dt.date) -> str:
    """The status a person should see: an open measure past its due date is overdue."""
    if status in OPEN_STATUSES and due_date is not None and due_date < today:
        return OVERDUE
    return status


def status_mark(status: str) -> str:
    return MEASURE_MARKS.get(status, "•")


def status_label(i18n: I18n, status: str, locale: str | None = None) -> str:
    """``✅ done`` in the given (or current) locale."""
    text = i18n.gettext(MEASURE_LABELS.get(status, status), locale=locale)
    return f"{status_mark(status)} {text}"


def question_label(i18n: I18n, status: str, locale: str | None = None) -> str:
    return i18n.gettext(QUESTION_LABELS.get(status, status), locale=locale)
