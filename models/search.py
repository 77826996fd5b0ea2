"""Search of measures by words: measure text, problem title and responsible department names.

The stored ``search_text`` columns are already folded (:func:`models.text.fold`), and so are the
query words, so a plain ``LIKE`` finds «САЙРАН» in «Сайран» on SQLite (whose ``lower()`` does
not fold Cyrillic) exactly as on PostgreSQL. Every word must match (AND); a word may match any
of the three sources. Results in the user's district come first, then the rest of the city.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    case,
    column,
    func,
    select,
    table,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.commitments import MeasureRow, joined_to_district, names_columns, names_of
from models.entities import (
    Department,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    Meeting,
    ProblemIssue,
)
from models.statuses import effective_status
from models.text import like_escape, search_terms


@dataclass
class SearchPage:
    terms: list[str]
    rows: list[MeasureRow]
    total: int
    in_district: int
    page: int


# The SQLite full-text table of migration 0002 (trigram tokenizer): it answers LIKE '%word%'
# from its index. PostgreSQL answers the same LIKE on ``measures`` from a pg_trgm GIN index.
_fts = table("measures_fts", column("rowid", Integer), column("search_text", Text))
_fts_present: dict[str, bool] = {}


async def _uses_fts(session: AsyncSession) -> bool:
    """SQLite with the FTS table (checked once per database); False elsewhere."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    key = str(bind.engine.url)
    if key not in _fts_present:
        found = await session.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'measures_fts'")
        )
        _fts_present[key] = found is not None
    return _fts_present[key]


def _term_condition(term: str, fts: bool) -> ColumnElement[bool]:
    pattern = f"%{like_escape(term)}%"
    if fts and pattern == f"%{term}%":  # the FTS index serves LIKE without an ESCAPE clause
        text_ids = select(_fts.c.rowid).where(_fts.c.search_text.like(pattern))
    else:
        inner = aliased(Measure)
        text_ids = select(inner.id).where(inner.search_text.like(pattern, escape="\\"))
    # Measures' search text already holds their problem issue's title and executor codes
    # (models/plans.measure_search_text); department full names are matched apart, once.
    department_ids = (
        select(MeasureDepartment.measure_id)
        .join(Department, Department.id == MeasureDepartment.department_id)
        .where(Department.search_text.like(pattern, escape="\\"))
    )
    # One id set per word (not an OR over each measure's columns), so the planner drives the
    # search from the index instead of scanning every measure.
    return Measure.id.in_(union(text_ids, department_ids))


def _matching(terms: list[str], fts: bool) -> ColumnElement[bool]:
    return and_(*[_term_condition(t, fts) for t in terms])


async def _matches(
    session: AsyncSession, terms: list[str], district_id: int | None
) -> list[tuple[int, int]]:
    """Every measure matching ``terms`` (its id and district): the district's own first, then
    the rest of the city, newest meeting first, then plan order."""
    in_district = case((Meeting.district_id == (district_id or -1), 0), else_=1)
    result = await session.execute(
        select(Measure.id, Meeting.district_id)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .where(_matching(terms, await _uses_fts(session)))
        .order_by(
            in_district, Meeting.starts_at.desc(), ProblemIssue.number, Measure.position, Measure.id
        )
    )
    return [(row.id, row.district_id) for row in result]


async def search_measures(
    session: AsyncSession,
    query: str,
    *,
    district_id: int | None,
    page: int,
    per_page: int,
    today: dt.date,
) -> SearchPage:
    """One page of measures matching every word of ``query``: the user's district first, then
    the rest of the city, newest meetings first. A page past the end (the results shrank
    meanwhile) is the last page."""
    terms = search_terms(query)
    if not terms:
        return SearchPage(terms, [], 0, 0, 0)
    matches = await _matches(session, terms, district_id)
    ordered = [measure_id for measure_id, _district in matches]
    in_district = sum(1 for _id, district in matches if district == district_id)
    total = len(ordered)
    if not total:
        return SearchPage(terms, [], 0, 0, 0)
    page = min(max(page, 0), (total - 1) // per_page)
    page_ids = ordered[page * per_page : (page + 1) * per_page]
    found = await session.execute(
        joined_to_district(
            select(
                Measure.id.label("id"),
                Measure.text.label("text"),
                Measure.status.label("status"),
                Measure.due_date.label("due_date"),
                Measure.deadline_text.label("deadline_text"),
                Measure.position.label("position"),
                Measure.source.label("source"),
                ProblemIssue.number.label("problem_number"),
                ProblemIssue.title.label("problem_title"),
                Meeting.starts_at.label("meeting_starts_at"),
                District.id.label("district_id"),
                *names_columns(District, "district"),
            )
        ).where(Measure.id.in_(page_ids))
    )
    loaded = {
        row["id"]: MeasureRow(
            id=row["id"],
            text=row["text"],
            status=effective_status(row["status"], row["due_date"], today),
            due_date=row["due_date"],
            deadline_text=row["deadline_text"],
            position=row["position"],
            problem_number=row["problem_number"],
            problem_title=row["problem_title"],
            meeting_starts_at=row["meeting_starts_at"],
            district_id=row["district_id"],
            district=names_of(row, "district"),
            source=row["source"],
        )
        for row in found.mappings()
    }
    rows = [loaded[i] for i in page_ids if i in loaded]  # one may be gone
    return SearchPage(terms, rows, total, in_district, page)


def _row(
    measure: Measure, problem: ProblemIssue, meeting: Meeting, district: District, today: dt.date
) -> MeasureRow:
    return MeasureRow.of(measure, problem.number, problem.title, today, district, meeting.starts_at)


async def popular_measures(
    session: AsyncSession, *, district_id: int | None, limit: int, today: dt.date
) -> list[MeasureRow]:
    """For an empty inline query: the district's most followed, then newest, measures."""
    followers = (
        select(Follow.measure_id, func.count(Follow.id).label("n"))
        .where(Follow.measure_id.is_not(None))
        .group_by(Follow.measure_id)
        .subquery()
    )
    query = (
        joined_to_district(select(Measure, ProblemIssue, Meeting, District))
        .outerjoin(followers, followers.c.measure_id == Measure.id)
        .order_by(
            case((Meeting.district_id == (district_id or -1), 0), else_=1),
            func.coalesce(followers.c.n, 0).desc(),
            Meeting.starts_at.desc(),
            ProblemIssue.number,
            Measure.position,
        )
        .limit(limit)
    )
    result = await session.execute(query)
    return [_row(m, p, mt, d, today) for m, p, mt, d in result.all()]
