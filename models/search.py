"""Search of measures by words: measure text, problem title and responsible department names.

The stored ``search_text`` columns are already folded (:func:`models.text.fold`), and so are the
query words, so a plain ``LIKE`` finds «САЙРАН» in «Сайран» on SQLite (whose ``lower()`` does
not fold Cyrillic) exactly as on PostgreSQL. Every word must match (AND); a word may match any
of the three sources. Results in the user's district come first, then the rest of the city.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    case,
    column,
    func,
    select,
    table,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from bot.labels import effective_status
from models.cache import PoolCache, pool_cache
from models.commitments import MeasureRow, card_names, joined_to_district, names_columns
from models.entities import (
    Department,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    Meeting,
    ProblemIssue,
)
from models.reads import read_rows
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


@dataclass
class _Matches:
    """Every measure matching one set of words, newest meeting first (then plan order)."""

    ids: list[int]
    districts: list[int]
    # per district: the same ids with the district's own first, and how many those are
    orders: dict[int, tuple[list[int], int]] = field(default_factory=dict)

    def ordered(self, district_id: int | None) -> tuple[list[int], int]:
        key = district_id if district_id is not None else -1
        found = self.orders.get(key)
        if found is None:
            here = [i for i, d in zip(self.ids, self.districts, strict=True) if d == key]
            rest = [i for i, d in zip(self.ids, self.districts, strict=True) if d != key]
            found = self.orders[key] = (here + rest, len(here))
        return found


class SearchCache(PoolCache[tuple[str, ...], _Matches]):
    """Which measures match a set of words (:mod:`models.cache`).

    Residents search the same few words (a street, «школа», «освещение») over and over; the
    matching and ordering of thousands of measures is the expensive part of a search, the page
    of rows is then loaded fresh by id (statuses and texts are always current). Any change to
    measures, their problems, meetings, departments or links made through the pool empties the
    cache at once; a change by another process (an import on another replica) shows within
    ``ttl`` seconds.
    """

    watches = (Measure, ProblemIssue, Meeting, Department, MeasureDepartment)

    def __init__(self, ttl: float = 60.0, size: int = 512) -> None:
        super().__init__(ttl, size)


def search_cache(session: AsyncSession | Session) -> SearchCache | None:
    return pool_cache(session, SearchCache)


async def _matches(session: AsyncSession, terms: list[str]) -> _Matches:
    cache = search_cache(session)
    key = tuple(terms)
    found = cache.get(key) if cache is not None else None
    if found is not None:
        return found
    rows = (
        await session.execute(
            select(Measure.id, Meeting.district_id)
            .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
            .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
            .where(_matching(terms, await _uses_fts(session)))
            .order_by(Meeting.starts_at.desc(), ProblemIssue.number, Measure.position, Measure.id)
        )
    ).all()
    found = _Matches([row[0] for row in rows], [row[1] for row in rows])
    if cache is not None:
        cache.put(key, found)
    return found


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
    the rest of the city, newest meetings first.

    The matching ids come from the pool's :class:`SearchCache` or one query; the page's rows are
    then loaded by id. A page past the end (the results shrank meanwhile) is the last page.
    """
    terms = search_terms(query)
    if not terms:
        return SearchPage(terms, [], 0, 0, 0)
    ordered, in_district = (await _matches(session, terms)).ordered(district_id)
    total = len(ordered)
    if not total:
        return SearchPage(terms, [], 0, 0, 0)
    page = min(max(page, 0), (total - 1) // per_page)
    page_ids = ordered[page * per_page : (page + 1) * per_page]
    # Plain columns, no ORM objects to build (models/reads.py).
    by_array = session.bind is not None and session.bind.dialect.name == "postgresql"
    statement = _PAGE_ROWS_ANY if by_array else _PAGE_ROWS
    found_rows = await read_rows(session, statement, {"ids": page_ids})
    loaded = {
        row[0]: MeasureRow(
            id=row[0],
            text=row[1],
            status=effective_status(row[2], row[3], today),
            due_date=row[3],
            deadline_text=row[4],
            position=row[5],
            problem_number=row[6],
            problem_title=row[7],
            meeting_starts_at=row[8],
            district_id=row[9],
            district=card_names(row[10:]),
        )
        for row in found_rows
    }
    rows = [loaded[i] for i in page_ids if i in loaded]  # one may be gone
    return SearchPage(terms, rows, total, in_district, page)


# A page of results by id, built once: the columns of a list row (not whole measures, problems
# and meetings: loading those as objects cost more than the query).
_PAGE_COLUMNS = joined_to_district(
    select(
        Measure.id,
        Measure.text,
        Measure.status,
        Measure.due_date,
        Measure.deadline_text,
        Measure.position,
        ProblemIssue.number,
        ProblemIssue.title,
        Meeting.starts_at,
        District.id,
        District.code,
        *names_columns(District),
    )
)
_PAGE_ROWS = _PAGE_COLUMNS.where(Measure.id.in_(bindparam("ids", expanding=True)))
# PostgreSQL: the ids as one array parameter (``= ANY``), so the statement is compiled once and
# run as it is by the read connections (models/reads.ReadConnections), not expanded each time.
_PAGE_ROWS_ANY = _PAGE_COLUMNS.where(Measure.id == any_(bindparam("ids", type_=ARRAY(Integer))))


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
