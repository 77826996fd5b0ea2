"""Statuses as a person reads them: ``✅ done`` in their language."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from models.statuses import MEASURE_LABELS, QUESTION_LABELS, status_mark


def status_label(i18n: I18n, status: str, locale: str | None = None) -> str:
    """``✅ done`` in the given (or current) locale."""
    text = i18n.gettext(MEASURE_LABELS.get(status, status), locale=locale)
    return f"{status_mark(status)} {text}"


def question_label(i18n: I18n, status: str, locale: str | None = None) -> str:
    return i18n.gettext(QUESTION_LABELS.get(status, status), locale=locale)
