"""Search of measures by words, in their word forms, with typos forgiven.

What is searched: a measure's text, its problem's title, its responsible departments' codes and
names, its district's names and aliases (ru, kk, en) and its meeting's place, as terms (stems,
:mod:`models.terms`) in the index of :mod:`models.search_index`. A query word matches a measure
when one of the word's terms is among the measure's terms: «поликлиника» finds «поликлиники»,
«мектеп» finds «мектептің», «16» finds «№16».

Ranking, the same on SQLite and PostgreSQL (every key is an integer, the last one unique):

1. measures that match every word of the query before those that match only some;
2. then the resident's district before the rest of the city;
3. then more words matched first;
4. then the newest meeting first, then the plan's order (problem number, position: the index's
   ``sort_key``), then the measure's id.

Typos: a query word that matches nothing is looked up in the vocabulary (``search_words``). The
database only proposes candidates — words sharing a trigram with it (SQLite: the FTS5 trigram
table; PostgreSQL: ``LIKE`` served by the pg_trgm GIN index; both exact, so both propose the same
words) whose term is in the index — and the trigram similarity and the choice are computed here
(:func:`models.terms.similarity`). The closest words (at least ``TYPO_SIMILARITY``, and within
``TYPO_MARGIN`` of the best, at most ``TYPO_WORDS``) then count as that word. When still nothing is
found, the page carries the closest words above ``SUGGEST_SIMILARITY`` as suggestions.

A generic word of department and district names («район», «управление», "district"; they are not
in those names' terms, :data:`models.search_index.GENERIC_TERMS`) is dropped from a query that
has other words, so «Алмалинский район» matches the district's measures in full.

At most ``RESULTS`` (100) measures are counted and ranked: beyond, the search says «more than
100», and the closest come first. That keeps a search's cost bounded by what it shows rather
than by how common its words are («ремонт» matches thousands of measures over five years).

Cost: a one-word search is one statement, which finds, counts (up to ``RESULTS + 1``; in the
resident's district, all of them, from the district's index) and reads the page's rows. With
several words, one statement first counts each word's postings on the index, so that the rarest
word drives: its postings are read in ranking order and each is probed for the others, until
the page is full. Measures matching only some of the words are grouped and ranked in one more
statement, and only when the page reaches past those matching every word. A typo costs one
statement for the candidates and one more search.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Subquery,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.commitments import MeasureRow, joined_to_district, names_columns, names_of
from models.entities import (
    District,
    Follow,
    Measure,
    Meeting,
    ProblemIssue,
    SearchTerm,
    SearchWord,
)
from models.search_index import GENERIC_TERMS
from models.statuses import effective_status
from models.terms import QueryWord, inner_trigrams, query_words, similarity
from models.text import like_escape

TYPO_SIMILARITY = 0.3  # pg_trgm's own default threshold
TYPO_MARGIN = 0.05
TYPO_WORDS = 3
SUGGEST_SIMILARITY = 0.2
SUGGESTIONS = 3
RESULTS = 100  # a search ranks and counts at most this many measures ("more than 100")


@dataclass
class SearchPage:
    terms: list[str]  # the query's words that were looked up
    rows: list[MeasureRow]
    total: int
    in_district: int
    page: int
    complete: int = 0  # how many of ``total`` match every word (they come first)
    more: bool = False  # more than ``total`` (= RESULTS) matched: only the first are ranked
    more_in_district: bool = False  # likewise in the district
    district_id: int | None = None  # the district that came first
    corrections: list[str] = field(default_factory=list)  # words used for typos
    suggestions: list[str] = field(default_factory=list)  # when nothing was found


@dataclass
class _Ranked:
    """What the search found: the page's rows in order and the (capped) totals."""

    rows: list[MeasureRow]
    total: int
    in_district: int
    complete: int
    matched: list[bool]  # per query word: did it match anything


def _has(column: Any, word: int) -> Any:
    return column.in_(bindparam(f"t{word}", expanding=True))


def _probed(words: int, driver: Any) -> list[Any]:
    """The other words' terms present on the driver's measure (a probe of the index each)."""
    probes = []
    for word in range(1, words):
        other = aliased(SearchTerm)
        probes.append(exists().where(other.measure_id == driver.measure_id, _has(other.term, word)))
    return probes


def _complete(words: int, mine: bool) -> Select[int, int]:
    """Measures matching every word, in the district or elsewhere, in ranking order, up to
    ``upto``: the postings of word 0 (the rarest: the caller puts it first) read in the index's
    order, each probed for the other words."""
    here = SearchTerm.district_id == bindparam("district_id", type_=Integer)
    return (
        select(SearchTerm.measure_id, SearchTerm.sort_key)
        .where(_has(SearchTerm.term, 0), here if mine else ~here, *_probed(words, SearchTerm))
        .distinct()
        .order_by(SearchTerm.sort_key, SearchTerm.measure_id)
        .limit(bindparam("upto", type_=Integer))
    )


def _counted(statement: Any) -> Any:
    """How many rows ``statement`` gives, counting no further than ``RESULTS + 1``."""
    capped = statement.limit(bindparam("cap", type_=Integer)).subquery()
    return select(func.count()).select_from(capped).scalar_subquery()


@functools.cache
def _statement(words: int) -> Select[Any]:
    """The page of the measures matching every one of ``words`` query words (the terms of word
    ``i`` bound as ``t<i>``), the district's first, with the capped totals; built once per
    number of words."""
    every = [SearchTerm.term.in_(bindparam(f"t{i}", expanding=True)) for i in range(words)]
    anyword = or_(*every) if words > 1 else every[0]
    here = SearchTerm.district_id == bindparam("district_id", type_=Integer)
    matching = select(SearchTerm.measure_id).where(anyword).distinct()
    counts = select(
        _counted(matching).label("total"),
        # in the district: all of them, from the district's index (with a LIMIT, PostgreSQL's
        # planner may walk every posting in measure order to reach a district's last measures)
        select(func.count(SearchTerm.measure_id.distinct()))
        .where(anyword, here)
        .scalar_subquery()
        .label("in_district"),
        _counted(
            select(SearchTerm.measure_id)
            .where(_has(SearchTerm.term, 0), *_probed(words, SearchTerm))
            .distinct()
        ).label("complete"),
    ).subquery("counts")
    mine, others = _complete(words, True).subquery(), _complete(words, False).subquery()
    page = union_all(
        select(literal(0, Integer).label("segment"), mine.c.measure_id, mine.c.sort_key),
        select(literal(1, Integer).label("segment"), others.c.measure_id, others.c.sort_key),
    ).subquery("page")
    rows = _with_rows(page).subquery("rows")
    # one row with the counts even when nothing matches every word
    return select(counts, rows).select_from(counts).outerjoin(rows, true())


def _partial(words: int, mine: bool) -> Select[Any]:
    """Measures matching some but not all of the words, in the district or elsewhere: more
    words matched first, then ranking order, up to ``upto``."""
    here = SearchTerm.district_id == bindparam("district_id", type_=Integer)
    hits = union_all(
        *(
            select(
                SearchTerm.measure_id, SearchTerm.sort_key, literal(i, Integer).label("w")
            ).where(_has(SearchTerm.term, i), here if mine else ~here)
            for i in range(words)
        )
    ).subquery("hits")
    matched = func.count(hits.c.w.distinct())
    return (
        select(
            literal(2 if mine else 3, Integer).label("segment"),
            hits.c.measure_id,
            hits.c.sort_key,
            matched.label("matched"),
        )
        .group_by(hits.c.measure_id, hits.c.sort_key)
        .having(matched < words)
        .order_by(matched.desc(), hits.c.sort_key, hits.c.measure_id)
        .limit(bindparam("upto", type_=Integer))
    )


@functools.cache
def _partial_statement(words: int) -> Select[Any]:
    mine, others = _partial(words, True).subquery(), _partial(words, False).subquery()
    page = union_all(select(mine), select(others)).subquery("page")
    return _with_rows(page)


@functools.cache
def _sizes_statement(words: int) -> Select[Any]:
    """How many postings each word has (counted on the index alone)."""
    return select(
        *(
            select(func.count())
            .select_from(SearchTerm)
            .where(_has(SearchTerm.term, i))
            .scalar_subquery()
            .label(f"n{i}")
            for i in range(words)
        )
    )


def _with_rows(page: Subquery) -> Select[Any]:
    """The page's measures with what a result line shows."""
    return joined_to_district(
        select(
            page,
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
        ).join(Measure, Measure.id == page.c.measure_id)
    )


def _found_row(found: Any, today: dt.date) -> MeasureRow:
    return MeasureRow(
        id=found["measure_id"],
        text=found["text"],
        status=effective_status(found["status"], found["due_date"], today),
        due_date=found["due_date"],
        deadline_text=found["deadline_text"],
        position=found["position"],
        problem_number=found["problem_number"],
        problem_title=found["problem_title"],
        meeting_starts_at=found["meeting_starts_at"],
        district_id=found["district_id"],
        district=names_of(found, "district"),
        source=found["source"],
    )


@functools.cache
def _rows_statement() -> Select[Any]:
    """The result lines of the measures ``ids`` (an expanding parameter), built once."""
    ids = Measure.id.in_(bindparam("ids", type_=Integer, expanding=True))
    page = select(Measure.id.label("measure_id")).where(ids)
    return _with_rows(page.subquery("page"))


async def measure_rows(
    session: AsyncSession, ids: Sequence[int], today: dt.date
) -> list[MeasureRow]:
    """The result lines of the measures ``ids``, in that order (one statement)."""
    if not ids:
        return []
    found = {
        r["measure_id"]: r
        for r in (await session.execute(_rows_statement(), {"ids": list(ids)})).mappings()
    }
    return [_found_row(found[i], today) for i in ids if i in found]


async def _ranked(
    session: AsyncSession,
    words: Sequence[Sequence[str]],
    district_id: int | None,
    offset: int,
    limit: int,
    today: dt.date,
) -> _Ranked:
    """The page at ``offset`` of the ranked matches. Measures matching every word come first
    (read in ranking order, so only as many as the page needs); those matching only some are
    ranked only when the page reaches past them."""
    params: dict[str, Any] = {"district_id": -1 if district_id is None else district_id}
    params.update(upto=min(offset + limit, RESULTS), cap=RESULTS + 1)
    matched = [True] * len(words)
    if len(words) > 1:  # the rarest word drives the search; a word matching nothing, none
        sizes = (await session.execute(_sizes_statement(len(words)), _terms(words))).one()
        matched = [bool(n) for n in sizes]
        words = sorted(words, key=lambda terms: sizes[list(words).index(terms)])
    found = (await session.execute(_statement(len(words)), params | _terms(words))).mappings()
    head = found.all()
    total, in_district, complete = (int(head[0][k]) for k in ("total", "in_district", "complete"))
    if len(words) == 1:
        matched = [total > 0]
    rows = sorted(
        (r for r in head if r["measure_id"] is not None),
        key=lambda r: (r["segment"], r["sort_key"], r["measure_id"]),
    )
    if len(rows) < params["upto"] and total > complete:  # the page reaches the partial ones
        more = await session.execute(_partial_statement(len(words)), params | _terms(words))
        rows += sorted(
            more.mappings(),
            key=lambda r: (r["segment"], -r["matched"], r["sort_key"], r["measure_id"]),
        )
    page = [_found_row(r, today) for r in rows[offset : offset + limit]]
    return _Ranked(page, total, in_district, complete, matched)


def _terms(words: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    return {f"t{i}": list(terms) for i, terms in enumerate(words)}


# --- typos ---------------------------------------------------------------------------------------

# FTS5's trigram tokenizer came with SQLite 3.34; migration 0003 made the table where it could.
_SQLITE_TRIGRAMS = sqlite3.sqlite_version_info >= (3, 34)


async def _candidates(session: AsyncSession, words: Sequence[str]) -> list[tuple[str, str]]:
    """Vocabulary words (with their terms) that share a trigram with one of ``words`` and whose
    term is in the index."""
    grams = sorted({gram for word in words for gram in inner_trigrams(word)})
    if not grams:
        return []
    query = select(SearchWord.word, SearchWord.term).where(
        exists().where(SearchTerm.term == SearchWord.term)
    )
    if session.get_bind().dialect.name == "sqlite" and _SQLITE_TRIGRAMS:
        match = " OR ".join('"{}"'.format(gram.replace('"', '""')) for gram in grams)
        indexed = query.where(
            SearchWord.id.in_(
                select(text("rowid"))
                .select_from(text("search_words_fts"))
                .where(text("search_words_fts MATCH :match").bindparams(match=match))
            )
        )
        try:
            return [(row.word, row.term) for row in (await session.execute(indexed)).all()]
        except OperationalError:  # no FTS5 table (built without FTS5): the same, unindexed
            pass
    query = query.where(
        or_(*(SearchWord.word.like(f"%{like_escape(g)}%", escape="\\") for g in grams))
    )
    return [(row.word, row.term) for row in (await session.execute(query)).all()]


def _closest(word: str, candidates: Sequence[tuple[str, str]]) -> list[tuple[float, str, str]]:
    """(similarity, word, term) of the candidates that share a trigram with ``word``, closest
    first (ties: alphabetical)."""
    grams = set(inner_trigrams(word))
    scored = {
        (similarity(word, other), other, term)
        for other, term in candidates
        if other != word and grams.intersection(inner_trigrams(other))
    }
    return sorted(scored, key=lambda item: (-item[0], item[1], item[2]))


def _corrections(closest: list[tuple[float, str, str]]) -> list[tuple[str, str]]:
    """The (word, term) pairs that stand for a mistyped word."""
    if not closest or closest[0][0] < TYPO_SIMILARITY:
        return []
    floor = max(TYPO_SIMILARITY, closest[0][0] - TYPO_MARGIN)
    chosen: dict[str, list[str]] = {}
    for score, word, term in closest:
        if score < floor:
            break
        if word in chosen or len(chosen) < TYPO_WORDS:
            chosen.setdefault(word, []).append(term)
    return [(word, term) for word, terms in chosen.items() for term in terms]


def _suggestions(closest: list[list[tuple[float, str, str]]]) -> list[str]:
    best: dict[str, float] = {}
    for items in closest:
        for score, word, _term in items:
            if score >= SUGGEST_SIMILARITY:
                best[word] = max(best.get(word, 0.0), score)
    ordered = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _score in ordered[:SUGGESTIONS]]


# --- the search ----------------------------------------------------------------------------------


async def search_measures(
    session: AsyncSession,
    query: str,
    *,
    district_id: int | None,
    page: int,
    per_page: int,
    today: dt.date,
) -> SearchPage:
    """One page of the measures matching the words of ``query``, ranked as the module's
    docstring says. A page past the end (the results shrank meanwhile) is the last page."""
    words = query_words(query)
    if any(not GENERIC_TERMS.issuperset(w.terms) for w in words):
        # «Алмалинский район», «управление образования»: the generic word, left out of the
        # names' terms, would make every match a partial one
        words = [w for w in words if not GENERIC_TERMS.issuperset(w.terms)]
    looked_up = [w.word for w in words]
    if not words:
        return SearchPage(looked_up, [], 0, 0, 0, district_id=district_id)
    terms: list[list[str]] = [list(w.terms) for w in words]

    async def page_of(wanted: int) -> tuple[_Ranked, int]:
        found = await _ranked(session, terms, district_id, wanted * per_page, per_page, today)
        if found.rows or wanted == 0:
            return found, wanted
        first = await _ranked(session, terms, district_id, 0, per_page, today)
        last = max(min(first.total, RESULTS) - 1, 0) // per_page
        if last == 0:
            return first, 0
        return await _ranked(session, terms, district_id, last * per_page, per_page, today), last

    found, page = await page_of(max(page, 0))
    corrections: list[str] = []
    suggestions: list[str] = []
    missing = [i for i, matched in enumerate(found.matched) if not matched]
    if missing:
        corrections, suggestions = await _correct(session, words, missing, terms)
        if corrections:
            found, page = await page_of(page)
    if found.total:
        suggestions = []
    return SearchPage(
        looked_up,
        found.rows,
        min(found.total, RESULTS),
        min(found.in_district, RESULTS),
        page,
        complete=min(found.complete, RESULTS),
        more=found.total > RESULTS,
        more_in_district=found.in_district > RESULTS,
        district_id=district_id,
        corrections=corrections,
        suggestions=suggestions,
    )


async def _correct(
    session: AsyncSession, words: Sequence[QueryWord], missing: list[int], terms: list[list[str]]
) -> tuple[list[str], list[str]]:
    """Add the terms of the closest vocabulary words to each word in ``missing`` (in place);
    returns the words used, and the suggestions for a search that still finds nothing."""
    candidates = await _candidates(session, [words[i].word for i in missing])
    corrections: list[str] = []
    closest = []
    for i in missing:
        near = _closest(words[i].word, candidates)
        closest.append(near)
        for word, term in _corrections(near):
            if term not in terms[i]:
                terms[i].append(term)
            if word not in corrections:
                corrections.append(word)
    return corrections, _suggestions(closest)


# --- popular measures (an empty inline query) ----------------------------------------------------


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
