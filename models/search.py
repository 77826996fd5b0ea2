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

from models.commitments import MeasureRow
from models.entities import (
    Department,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    Meeting,
    ProblemIssue,
)
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


async def search_measures(
    session: AsyncSession,
    query: str,
    *,
    district_id: int | None,
    page: int,
    per_page: int,
    today: dt.date,
) -> SearchPage:
    """One page of measures matching every word of ``query`` (two queries).

    The words are matched once: the first query gives the page's ids in display order with,
    beside each, the totals (window functions, SQLite ≥ 3.25 and PostgreSQL); the second loads
    those rows by id. (Counting and then paging matched every measure twice.) Only a page past
    the end, when the results shrank meanwhile, needs the count apart.
    """
    terms = search_terms(query)
    if not terms:
        return SearchPage(terms, [], 0, 0, 0)
    condition = _matching(terms, await _uses_fts(session))
    mine = Meeting.district_id == (district_id if district_id is not None else -1)
    here = case((mine, 1), else_=0)
    ids = (
        select(Measure.id, func.count().over(), func.sum(here).over())
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .where(condition)
        .order_by(
            case((mine, 0), else_=1),
            Meeting.starts_at.desc(),
            ProblemIssue.number,
            Measure.position,
            Measure.id,
        )
    )
    page = max(page, 0)
    shown = (await session.execute(ids.offset(page * per_page).limit(per_page))).all()
    if shown:
        total, in_district = int(shown[0][1]), int(shown[0][2] or 0)
    elif page == 0:
        total, in_district = 0, 0
    else:
        counts = (
            await session.execute(
                select(func.count(Measure.id), func.sum(here))
                .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
                .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
                .where(condition)
            )
        ).one()
        total, in_district = int(counts[0] or 0), int(counts[1] or 0)
        page = min(page, max(0, -(-total // per_page) - 1))
        if total:
            shown = (await session.execute(ids.offset(page * per_page).limit(per_page))).all()
    page_ids = [row[0] for row in shown]
    if not page_ids:
        return SearchPage(terms, [], total, in_district, page)
    result = await session.execute(
        select(Measure, ProblemIssue, Meeting, District)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .join(District, District.id == Meeting.district_id)
        .where(Measure.id.in_(page_ids))
    )
    loaded = {m.id: (m, p, mt, d) for m, p, mt, d in result.all()}
    rows = [_row(*loaded[i], today) for i in page_ids if i in loaded]  # one may be gone
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
        select(Measure, ProblemIssue, Meeting, District)
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .join(District, District.id == Meeting.district_id)
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
