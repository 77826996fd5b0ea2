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

Cost: one statement finds, ranks and counts the matches and reads the page's rows; a typo costs
one statement for the candidates and one more search.
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
    union_all,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

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


@dataclass
class SearchPage:
    terms: list[str]  # the query's words that were looked up
    rows: list[MeasureRow]
    total: int
    in_district: int
    page: int
    complete: int = 0  # how many of ``total`` match every word (they come first)
    district_id: int | None = None  # the district that came first
    corrections: list[str] = field(default_factory=list)  # words used for typos
    suggestions: list[str] = field(default_factory=list)  # when nothing was found


@dataclass
class _Ranked:
    """What the search statement found: the page's rows in order and the totals."""

    rows: list[MeasureRow]
    total: int
    in_district: int
    complete: int
    matched: list[bool]  # per query word: did it match anything


@functools.cache
def _statement(words: int, grouped: bool = True) -> Select[Any]:
    """The search of ``words`` query words, built once: the terms of word ``i`` are bound as
    ``t<i>``; ``district_id``, ``limit`` and ``offset`` too. Not ``grouped``: one word of one
    term (:func:`_one_term`)."""
    if not grouped:
        return _with_rows(_one_term(), 1)
    hits = union_all(
        *(
            select(
                SearchTerm.measure_id,
                SearchTerm.district_id,
                SearchTerm.sort_key,
                literal(i, Integer).label("w"),
            ).where(SearchTerm.term.in_(bindparam(f"t{i}", expanding=True)))
            for i in range(words)
        )
    ).subquery("hits")
    flags = [func.max(case((hits.c.w == i, 1), else_=0)).label(f"m{i}") for i in range(words)]
    scored = (
        select(hits.c.measure_id, hits.c.district_id, hits.c.sort_key, *flags)
        .group_by(hits.c.measure_id, hits.c.district_id, hits.c.sort_key)
        .subquery("scored")
    )
    matched = sum((scored.c[f"m{i}"] for i in range(1, words)), scored.c.m0)
    partial = case((matched == words, 0), else_=1)
    elsewhere = case((scored.c.district_id == bindparam("district_id", type_=Integer), 0), else_=1)
    ranked = (
        select(
            scored.c.measure_id,
            scored.c.sort_key,
            matched.label("matched"),
            partial.label("partial"),
            elsewhere.label("elsewhere"),
            func.count().over().label("total"),
            func.sum(1 - elsewhere).over().label("in_district"),
            func.sum(1 - partial).over().label("complete"),
        )
        .order_by(partial, elsewhere, matched.desc(), scored.c.sort_key, scored.c.measure_id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("ranked")
    )
    return _with_rows(ranked, words)


def _one_term() -> Subquery:
    """One word of one term, which a measure has at most once: the page read in the index's
    order (term, sort key) from the district's rows and from the others', each up to the end of
    the page, and the totals counted on the term's range of the index; nothing is grouped."""
    term: Any = bindparam("t0", expanding=True)
    district_id = bindparam("district_id", type_=Integer)
    upto = bindparam("upto", type_=Integer)  # offset + limit
    columns = (SearchTerm.measure_id, SearchTerm.district_id, SearchTerm.sort_key)
    order = (SearchTerm.sort_key, SearchTerm.measure_id)
    mine = select(*columns).where(SearchTerm.term.in_(term), SearchTerm.district_id == district_id)
    others = select(*columns).where(
        SearchTerm.term.in_(term), SearchTerm.district_id != district_id
    )
    head = union_all(
        select(mine.order_by(*order).limit(upto).subquery("mine")),
        select(others.order_by(*order).limit(upto).subquery("others")),
    ).subquery("head")
    elsewhere = case((head.c.district_id == district_id, 0), else_=1)
    count = select(func.count()).select_from(SearchTerm).where(SearchTerm.term.in_(term))
    in_district = count.where(SearchTerm.district_id == district_id)
    return (
        select(
            head.c.measure_id,
            head.c.sort_key,
            literal(1, Integer).label("matched"),
            literal(0, Integer).label("partial"),
            elsewhere.label("elsewhere"),
            count.scalar_subquery().label("total"),
            in_district.scalar_subquery().label("in_district"),
            count.scalar_subquery().label("complete"),
        )
        .order_by(elsewhere, head.c.sort_key, head.c.measure_id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("ranked")
    )


def _with_rows(ranked: Subquery, words: int) -> Select[Any]:
    """The page of ``ranked`` with its measures' rows, and whether each word matched anything
    (a probe of the index each)."""
    found_any = [
        exists().where(SearchTerm.term.in_(bindparam(f"t{i}", expanding=True))).label(f"any{i}")
        for i in range(words)
    ]
    return joined_to_district(
        select(
            ranked,
            *found_any,
            Measure.text.label("text"),
            Measure.status.label("status"),
            Measure.due_date.label("due_date"),
            Measure.deadline_text.label("deadline_text"),
            Measure.position.label("position"),
            ProblemIssue.number.label("problem_number"),
            ProblemIssue.title.label("problem_title"),
            Meeting.starts_at.label("meeting_starts_at"),
            District.id.label("district_id"),
            *names_columns(District, "district"),
        ).join(Measure, Measure.id == ranked.c.measure_id)
    )


async def _ranked(
    session: AsyncSession,
    words: Sequence[Sequence[str]],
    district_id: int | None,
    offset: int,
    limit: int,
    today: dt.date,
) -> _Ranked:
    params: dict[str, Any] = {f"t{i}": list(terms) for i, terms in enumerate(words)}
    params.update(district_id=-1 if district_id is None else district_id, limit=limit)
    params.update(offset=offset, upto=offset + limit)
    grouped = len(words) > 1 or len(words[0]) > 1
    statement = _statement(len(words), grouped)
    found = (await session.execute(statement, params)).mappings().all()
    ordered = sorted(
        found,
        key=lambda r: (r["partial"], r["elsewhere"], -r["matched"], r["sort_key"], r["measure_id"]),
    )
    rows = [
        MeasureRow(
            id=row["measure_id"],
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
        )
        for row in ordered
    ]
    if not ordered:
        return _Ranked([], 0, 0, 0, [False] * len(words))
    first = ordered[0]
    return _Ranked(
        rows,
        total=int(first["total"]),
        in_district=int(first["in_district"]),
        complete=int(first["complete"]),
        matched=[bool(first[f"any{i}"]) for i in range(len(words))],
    )


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
        last = max(first.total - 1, 0) // per_page
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
        found.total,
        found.in_district,
        page,
        complete=found.complete,
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
