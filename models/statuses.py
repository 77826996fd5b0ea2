"""What a status means to a person: the status they see (an open measure past its due date is
overdue; overdue is derived, never stored), its mark and its label (translated where shown)."""

from __future__ import annotations

import datetime as dt

from models.entities import OPEN_STATUSES, MeasureStatus, QuestionStatus
from models.translation import N_

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
