"""Documents Kezdesu writes: the meeting's report (as the akimat publishes it) and the progress
report on its action plan, as DOCX or PDF, in Russian, Kazakh or English.

``content`` says what a report says (translated, in the event loop); ``word`` and ``pdf`` lay it
out (in a worker thread: ``asyncio.to_thread(render, document, fmt)``). This package reads the
facts from ``models`` only.
"""

from __future__ import annotations

from enum import StrEnum

from documents.content import Document, meeting_report, progress_report
from models.clock import ALMATY
from models.meeting_report import MeetingReport
from models.translation import Translator


class DocFormat(StrEnum):
    DOCX = "docx"
    PDF = "pdf"


class ReportKind(StrEnum):
    MEETING = "meeting"  # the report on the meeting, laid out like the published one
    PROGRESS = "progress"  # the action plan's implementation as of a day


MIME_TYPES = {
    DocFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocFormat.PDF: "application/pdf",
}


def compose(
    report: MeetingReport, kind: ReportKind, translator: Translator, locale: str
) -> Document:
    if kind is ReportKind.PROGRESS:
        return progress_report(report, translator, locale)
    return meeting_report(report, translator, locale)


def render(document: Document, fmt: DocFormat) -> bytes:
    """The file's bytes (CPU-bound: run it off the event loop)."""
    if fmt is DocFormat.PDF:
        from documents.pdf import to_pdf  # fpdf2 is imported with the first PDF

        return to_pdf(document)
    from documents.word import to_docx  # python-docx is imported with the first DOCX

    return to_docx(document)


def file_name(report: MeetingReport, kind: ReportKind, fmt: DocFormat, locale: str) -> str:
    """``almaly-2022-06-23-report-ru.pdf``, ``almaly-2022-06-23-progress-2022-10-01-kk.docx``."""
    day = report.meeting.starts_at.astimezone(ALMATY).date().isoformat()
    stem = f"{report.district.slug}-{day}"
    if kind is ReportKind.PROGRESS:
        stem += f"-progress-{report.as_of.isoformat()}"
    else:
        stem += "-report"
    return f"{stem}-{locale}.{fmt.value}"


__all__ = [
    "MIME_TYPES",
    "DocFormat",
    "Document",
    "ReportKind",
    "compose",
    "file_name",
    "render",
]
