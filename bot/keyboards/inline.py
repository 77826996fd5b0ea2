"""What inline mode posts when a resident shares a commitment (``@bot сайран`` in any chat)."""

from __future__ import annotations

import datetime as dt

from aiogram import html

from bot.keyboards.resident import deadline_line, label, problem_line
from models.commitments import MeasureRow
from models.text import truncate


def compact_card(row: MeasureRow, locale: str, today: dt.date) -> str:
    """The message posted when a measure is shared through inline mode."""
    district = html.quote(row.district.name(locale)) if row.district else ""
    lines = [
        f"<b>{label(row.status, locale)}</b>",
        html.quote(truncate(row.text, 1500)),
        "",
        problem_line(row.problem_number, row.problem_title, row.source, 200),
        deadline_line(row.deadline_text, row.due_date, row.status, today, locale, 150),
    ]
    if district:
        lines.append(f"🏙 {district}")
    return "\n".join(lines)


def compact_description(row: MeasureRow, locale: str) -> str:
    parts = [row.district.short(locale) if row.district else "", row.deadline_text]
    return truncate(" · ".join(p for p in parts if p), 200)
