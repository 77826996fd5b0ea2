"""What a report says, in one language, before it is laid out: a title, paragraphs and tables.

:func:`meeting_report` follows the akimat's published report section for section (the seed,
«Информация об итогах встречи …»): the legal basis; date, time and place; participants,
speakers and questions; the moderator; the classification of the questions; the livestream;
the table «Перечень проблемных вопросов и план действий по их решению»; then the promises
stated at the meeting that the plan lacks. :func:`progress_report` is the quarterly
«Исполнение плана мероприятий по состоянию на …». ``documents.docx`` and ``documents.pdf`` lay
out the same :class:`Document`, so the two formats say exactly the same.

Translation goes through a :class:`models.translation.Translator` (the bot's ``I18n``); this
runs in the event loop, the layout (``render``) in a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from babel.dates import format_date
from babel.numbers import format_decimal

from models.clock import ALMATY
from models.meeting_report import MeetingReport, ReportMeasure
from models.stats import format_percent
from models.statuses import MEASURE_LABELS, OVERDUE
from models.translation import Translator


@dataclass(frozen=True)
class Cell:
    text: str
    rowspan: int = 1  # > 1: this cell spans the rows below it (a problem with several measures)
    bold: bool = False


@dataclass(frozen=True)
class Table:
    headers: list[str]
    widths: list[float]  # relative column widths
    rows: list[list[Cell | None]]  # None: covered by a cell above that spans it


@dataclass(frozen=True)
class Paragraph:
    text: str
    bold: bool = False
    centred: bool = False
    heading: bool = False  # a section title (kept with what follows)


@dataclass
class Document:
    title: str
    subtitle: str
    blocks: list[Paragraph | Table] = field(default_factory=list)
    landscape: bool = False
    footer: str = ""

    @property
    def text(self) -> str:
        """All the words, in reading order (what a test or a search sees)."""
        parts = [self.title, self.subtitle]
        for block in self.blocks:
            if isinstance(block, Paragraph):
                parts.append(block.text)
            else:
                parts.extend(block.headers)
                parts.extend(c.text for row in block.rows for c in row if c is not None)
        return "\n".join(parts)


class Words:
    """``_("…")`` in one locale; the name ``_`` lets the catalogs' extraction find the
    messages (``pybabel extract -k _:1,1t -k _:1,2``)."""

    def __init__(self, translator: Translator, locale: str) -> None:
        self.translator = translator
        self.locale = locale

    def __call__(self, message: str, plural: str | None = None, n: int = 1) -> str:
        return self.translator.gettext(message, plural, n, locale=self.locale)


def long_date(day: dt.date, locale: str) -> str:
    return format_date(day, format="long", locale=locale)


def short_date(day: dt.date, locale: str) -> str:
    return format_date(day, format="dd.MM.yyyy", locale=locale)


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def category_label(figure_name: str, seed_label: str, locale: str) -> str:
    """The category as the report's sentence names it: in Russian the published report's own
    words (``земельных отношений``), elsewhere the name with a small first letter."""
    if locale == "ru" and seed_label:
        return seed_label
    return figure_name[:1].lower() + figure_name[1:]


def classification(report: MeetingReport, locale: str) -> str:
    """``жилищные отношения – 8 (10,8%); …; другие – 8 (10,8%)``: every category, in order."""
    return "; ".join(
        f"{category_label(f.category.name(locale), f.category.seed_label_ru, locale)} – "
        f"{number(f.count, locale)} ({format_percent(f.percent, locale)})"
        for f in report.categories
    )


def departments_cell(measure: ReportMeasure, locale: str) -> str:
    """The responsible departments: in Russian by the codes of the published table (УЭиВ, УО),
    which the Russian document reproduces; in Kazakh and English by their short names in that
    language, since the codes are Russian abbreviations those readers cannot expand."""
    if locale == "ru":
        return ", ".join(d.code for d in measure.departments) or "—"
    return ", ".join(d.short(locale) for d in measure.departments) or "—"


def _meeting_header(report: MeetingReport, _: Words, locale: str) -> str:
    local = report.meeting.starts_at.astimezone(ALMATY)
    return _("{district}, meeting of {date}").format(
        district=report.district.name(locale), date=short_date(local.date(), locale)
    )


def meeting_report(report: MeetingReport, translator: Translator, locale: str) -> Document:
    _ = Words(translator, locale)
    meeting = report.meeting
    local = meeting.starts_at.astimezone(ALMATY)
    doc = Document(
        title=_("Information on the results of the akim's meeting with residents"),
        subtitle=_("{district}, {date}").format(
            district=report.district.name(locale), date=short_date(local.date(), locale)
        ),
    )
    add = doc.blocks.append
    add(
        Paragraph(
            _(
                "In accordance with Decree No. 826 of the President of the Republic of "
                "Kazakhstan of 3 March 2022 «On holding meetings of akims with the population», "
                "the akim held a meeting with the residents of the district."
            )
        )
    )
    add(
        Paragraph(
            _("Date and time: {when}").format(
                when=f"{long_date(local.date(), locale)}, {local:%H:%M}"
            )
        )
    )
    add(Paragraph(_("Place: {place}").format(place=meeting.place or "—")))
    if meeting.akim:
        add(Paragraph(_("Akim: {akim}").format(akim=meeting.akim)))
    _outcome(doc, report, _, locale)
    if meeting.moderator:
        add(
            Paragraph(
                _("Moderator of the meeting: {moderator}").format(moderator=meeting.moderator)
            )
        )
    if report.classified:
        add(
            Paragraph(
                _(
                    "The analysis classifies the questions raised at the meeting as follows: "
                    "{categories}."
                ).format(categories=classification(report, locale))
            )
        )
    else:
        add(Paragraph(_("The questions of this meeting have not been classified yet.")))
    if meeting.stream_url:
        add(Paragraph(_("The meeting was streamed live: {url}").format(url=meeting.stream_url)))
    if meeting.source_url:
        add(
            Paragraph(
                _(
                    "The results of the meeting, the list of problem issues and the action plan "
                    "are published at: {url}"
                ).format(url=meeting.source_url)
            )
        )
    add(
        Paragraph(
            _("List of problem issues and the action plan for solving them"),
            bold=True,
            centred=True,
            heading=True,
        )
    )
    if report.problems:
        add(_plan_table(report, _, locale))
    else:
        add(Paragraph(_("The action plan of this meeting has not been imported yet.")))
    if report.spoken:
        add(_spoken_heading(_))
        add(_spoken_table(report, _, locale))
    return doc


def _outcome(doc: Document, report: MeetingReport, _: Words, locale: str) -> None:
    labels = {
        "participants": _("Residents who took part in the meeting – {count}"),
        "speakers": _("Took the floor – {count}"),
        "questions_raised": _("Questions raised in all – {count}"),
        "answered_at_meeting": _("Answered during the meeting – {count}"),
        "questions_done": _("Done to date – {count}"),
        "questions_in_work": _("Still in work – {count}"),
    }
    figures = [
        labels[name].format(count=number(value, locale))
        for name, value in report.outcome.items()
        if value is not None
    ]
    if figures:
        doc.blocks.append(Paragraph(". ".join(figures) + "."))
    else:
        doc.blocks.append(Paragraph(_("The outcome figures of the meeting are not recorded yet.")))


def _plan_table(report: MeetingReport, _: Words, locale: str) -> Table:
    rows: list[list[Cell | None]] = []
    for problem in report.problems:
        span = len(problem.measures)
        for index, measure in enumerate(problem.measures):
            head: list[Cell | None] = (
                [Cell(str(problem.number), rowspan=span), Cell(problem.title, rowspan=span)]
                if index == 0
                else [None, None]
            )
            rows.append(
                [
                    *head,
                    Cell(measure.text),
                    Cell(measure.deadline_text or "—"),
                    Cell(departments_cell(measure, locale)),
                ]
            )
    return Table(
        headers=[
            _("No."),
            _("Problem issue"),
            _("Planned measures"),
            _("Deadline for completion"),
            _("Responsible executor"),
        ],
        widths=[6, 20, 40, 14, 20],
        rows=rows,
    )


def _spoken_table(report: MeetingReport, _: Words, locale: str) -> Table:
    return Table(
        headers=[_("No."), _("Promise"), _("Deadline for completion"), _("Responsible executor")],
        widths=[6, 60, 14, 20],
        rows=[
            [
                Cell(str(m.position)),
                Cell(m.text),
                Cell(m.deadline_text or "—"),
                Cell(departments_cell(m, locale)),
            ]
            for m in report.spoken
        ],
    )


# --- the progress report -----------------------------------------------------------------------


def _status_cell(measure: ReportMeasure, _: Words, locale: str) -> str:
    label = _(MEASURE_LABELS.get(measure.status, measure.status))
    if measure.closed_on is not None:
        return f"{label}, {short_date(measure.closed_on, locale)}"
    return label


def _latest_cell(measure: ReportMeasure, _: Words, locale: str) -> str:
    latest = measure.latest
    if latest is None:
        return "—"
    parts = []
    if latest.status:
        parts.append(_(MEASURE_LABELS.get(latest.status, latest.status)))
    if latest.progress is not None:
        parts.append(f"{latest.progress}%")
    if latest.kind == "import":
        parts.append(_("the published plan was corrected"))
    elif latest.comment:
        parts.append(latest.comment)
    return f"{short_date(latest.day, locale)}: " + ("; ".join(parts) or "—")


def _progress_row(measure: ReportMeasure, _: Words, locale: str) -> list[Cell | None]:
    overdue = measure.status == OVERDUE
    return [
        Cell(measure.text),
        Cell(measure.deadline_text or "—"),
        Cell(departments_cell(measure, locale)),
        Cell(_status_cell(measure, _, locale), bold=overdue),
        Cell(number(measure.days_overdue, locale) if overdue else "—", bold=overdue),
        Cell(_latest_cell(measure, _, locale)),
    ]


def progress_report(report: MeetingReport, translator: Translator, locale: str) -> Document:
    _ = Words(translator, locale)
    doc = Document(
        title=_("Implementation of the action plan as of {date}").format(
            date=short_date(report.as_of, locale)
        ),
        subtitle=_meeting_header(report, _, locale),
        landscape=True,
    )
    add = doc.blocks.append
    columns = [
        _("Measure"),
        _("Deadline for completion"),
        _("Responsible executor"),
        _("Status"),
        _("Days overdue"),
        _("Latest update"),
    ]
    if report.problems:
        rows: list[list[Cell | None]] = []
        for problem in report.problems:
            span = len(problem.measures)
            for index, measure in enumerate(problem.measures):
                head: list[Cell | None] = (
                    [Cell(str(problem.number), rowspan=span), Cell(problem.title, rowspan=span)]
                    if index == 0
                    else [None, None]
                )
                rows.append([*head, *_progress_row(measure, _, locale)])
        add(
            Table(
                headers=[_("No."), _("Problem issue"), *columns],
                widths=[4, 13, 27, 10, 10, 12, 7, 17],
                rows=rows,
            )
        )
    else:
        add(Paragraph(_("The action plan of this meeting has not been imported yet.")))
    if report.spoken:
        add(_spoken_heading(_))
        add(
            Table(
                headers=[_("No."), *columns],
                widths=[4, 40, 10, 10, 12, 7, 17],
                rows=[[Cell(str(m.position)), *_progress_row(m, _, locale)] for m in report.spoken],
            )
        )
    add(Paragraph(_("Summary by responsible department"), bold=True, heading=True))
    if not report.departments:
        add(Paragraph(_("No measure has a responsible department.")))
    for row in report.departments:
        add(
            Paragraph(
                _(
                    "{department}: measures – {measures}; done on time – {on_time}; done late – "
                    "{late}; overdue – {overdue}"
                ).format(
                    department=row.department.name(locale),
                    measures=number(row.measures, locale),
                    on_time=number(row.on_time, locale),
                    late=number(row.late, locale),
                    overdue=number(row.overdue, locale),
                )
            )
        )
    return doc


def _spoken_heading(_: Words) -> Paragraph:
    return Paragraph(
        _("Promises stated at the meeting, not in the published plan"),
        bold=True,
        centred=True,
        heading=True,
    )
