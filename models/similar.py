""" "Already promised or asked?": the district's measures and the meeting's accepted questions
close to a question's text, found with the same words and stems as the search
(:mod:`models.terms`, the index of :mod:`models.search_index`).

A question is a paragraph, not a query, so its words are weighed first: a word counts for more
the fewer texts have it (its inverse document frequency, among the district's indexed measures or
among the meeting's accepted questions); words no measure has, or that half of them have, say
nothing about which one is meant. The district's measures having one of the rarest words of
the question (at most the search's six) are scored in the database, on the search index alone
(its district index, migration 0009), by the weight of those words they have over the weight of
all of them; the best ``CANDIDATES`` are then scored alike in Python on their text and problem
title. The meeting's accepted questions (the most supported ``QUESTION_POOL``) are scored alike.
An item is close when it has at least half of the weight, or two words and ``MIN_SHARE`` of it.

Shown to a resident after the question's text is written, and to moderators on the question's
card: the same function, so both see the same items.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from models.commitments import MeasureRow, joined_to_district
from models.entities import Measure, Meeting, Question, SearchTerm
from models.questions import PUBLIC_STATUSES
from models.search import measure_rows
from models.terms import MAX_QUERY_WORDS, QueryWord, query_words, text_terms

LIMIT = 3
QUESTION_POOL = 300  # the meeting's most supported accepted questions compared
CANDIDATES = 20  # measures read and scored on their text
TEXT_WORDS = 80  # words of the question's text weighed
HALF = 0.5
MIN_SHARE = 0.3


@dataclass(frozen=True)
class SimilarQuestion:
    id: int
    ref: str | None
    text: str
    supporters: int
    meeting_id: int | None
    score: float


@dataclass
class Similar:
    measures: list[MeasureRow] = field(default_factory=list)
    questions: list[SimilarQuestion] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.measures or self.questions)


@functools.lru_cache(maxsize=8192)
def _terms_of(text: str) -> frozenset[str]:
    """A text's terms; accepted questions are compared again and again, so they are kept."""
    return frozenset(text_terms([text]))


def _weights(words: Sequence[QueryWord], df: dict[str, int], total: int) -> dict[str, float]:
    """Each informative word's weight: in fewer than half of ``total`` texts, but in one."""
    weights: dict[str, float] = {}
    for word in words:
        count = max((df.get(term, 0) for term in word.terms), default=0)
        if count and (total < 4 or count <= total * HALF):
            weights[word.word] = math.log(1 + total / count)
    return weights


def _score(words: Sequence[QueryWord], weights: dict[str, float], terms: frozenset[str]) -> float:
    """The share of the weight of the question's words that ``terms`` has, 0 when not close."""
    total = sum(weights.values())
    if not total:
        return 0.0
    matched = [w.word for w in words if w.word in weights and terms.intersection(w.terms)]
    share = sum(weights[w] for w in matched) / total
    return share if _close(share, len(matched)) else 0.0


def _close(share: float, matched: int) -> bool:
    """Close: half of the weight, or two words and ``MIN_SHARE`` of it."""
    return share >= HALF or (matched >= 2 and share >= MIN_SHARE)


@functools.cache
def _df_statement() -> Select[Any]:
    """How many of the district's measures have each of the ``terms``, and how many it has
    (built once)."""
    district = bindparam("district_id", type_=Integer)
    measures = (
        joined_to_district(select(func.count(Measure.id)))
        .where(Meeting.district_id == district)
        .scalar_subquery()
    )
    return (
        select(SearchTerm.term, func.count().label("df"), measures.label("total"))
        .where(
            SearchTerm.district_id == district,
            SearchTerm.term.in_(bindparam("terms", expanding=True)),
        )
        .group_by(SearchTerm.term)
    )


async def _district_df(
    session: AsyncSession, district_id: int, terms: set[str]
) -> tuple[dict[str, int], int]:
    """How many of the district's measures have each term, and how many it has: one statement
    (no term found: no count either, as nothing is close then)."""
    found = await session.execute(_df_statement(), {"district_id": district_id, "terms": terms})
    rows = found.all()
    return {row.term: int(row.df) for row in rows}, int(rows[0].total) if rows else 0


@functools.cache
def _candidates_statement(words: int) -> Select[Any]:
    """The close measures of the district among those having one of ``words`` words (the terms
    of word ``i`` bound as ``t<i>``, its weight as ``p<i>``, the thresholds of :func:`_close` as
    ``half`` and ``least``), built once per number of words."""
    district = bindparam("district_id", type_=Integer)
    has_word = union_all(
        *(
            select(
                SearchTerm.measure_id,
                SearchTerm.sort_key,
                bindparam(f"p{i}", type_=Integer).label("points"),
            )
            .where(
                SearchTerm.district_id == district,
                SearchTerm.term.in_(bindparam(f"t{i}", expanding=True)),
            )
            .distinct()
            for i in range(words)
        )
    ).subquery()
    weight = func.sum(has_word.c.points)
    half, least = bindparam("half", type_=Float), bindparam("least", type_=Float)
    return (
        select(has_word.c.measure_id)
        .group_by(has_word.c.measure_id)
        .having(  # _close(): half of the weight, or two words and MIN_SHARE of it
            or_(weight >= half, and_(func.count() >= 2, weight >= least))
        )
        .order_by(weight.desc(), func.min(has_word.c.sort_key), has_word.c.measure_id)
        .limit(CANDIDATES)
    )


async def _candidates(
    session: AsyncSession,
    district_id: int,
    chosen: Sequence[QueryWord],
    weights: dict[str, float],
) -> list[int]:
    """The district's measures having one of the chosen words (the index alone), scored in the
    database on the chosen words they have (a word counts once, whichever of its terms matched):
    close ones first, by their share of the weight, then in ranking order. Weights are whole
    thousandths, so that both databases add them exactly."""
    points = [round(weights[word.word] * 1000) for word in chosen]
    total = sum(points)
    params: dict[str, Any] = {
        "district_id": district_id,
        "half": total * HALF,
        "least": total * MIN_SHARE,
    }
    for i, (word, point) in enumerate(zip(chosen, points, strict=True)):
        params |= {f"t{i}": list(word.terms), f"p{i}": point}
    return list(await session.scalars(_candidates_statement(len(chosen)), params))


async def similar_measures(
    session: AsyncSession,
    words: Sequence[QueryWord],
    district_id: int,
    today: dt.date,
    *,
    limit: int = LIMIT,
) -> list[MeasureRow]:
    df, total = await _district_df(session, district_id, {t for w in words for t in w.terms})
    weights = _weights(words, df, total)
    if not weights:
        return []
    rarest = sorted(weights, key=lambda w: (-weights[w], w))[:MAX_QUERY_WORDS]
    chosen = [w for w in words if w.word in rarest]
    weights = {w.word: weights[w.word] for w in chosen}
    candidates = await _candidates(session, district_id, chosen, weights)
    rows = await measure_rows(session, candidates, today)
    scored = [
        (score, index, row)
        for index, row in enumerate(rows)
        if (score := _score(chosen, weights, _terms_of(f"{row.text}\n{row.problem_title}")))
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [row for _score_, _index, row in scored[:limit]]


async def similar_questions(
    session: AsyncSession,
    words: Sequence[QueryWord],
    meeting_id: int,
    *,
    exclude_id: int | None = None,
    limit: int = LIMIT,
) -> list[SimilarQuestion]:
    pool = [
        q
        for q in await session.execute(
            select(Question.id, Question.ref, Question.text, Question.supporters)
            .where(Question.meeting_id == meeting_id, Question.status.in_(PUBLIC_STATUSES))
            .order_by(Question.supporters.desc(), Question.created_at, Question.id)
            .limit(QUESTION_POOL)
        )
        if q.id != exclude_id
    ]
    if not pool:
        return []
    # each question's terms that the text has too (most have none): the rest says nothing
    wanted = frozenset(term for word in words for term in word.terms)
    shared = [wanted.intersection(_terms_of(q.text)) for q in pool]
    df: Counter[str] = Counter(term for found in shared for term in found)
    weights = _weights(words, df, len(pool))
    scored = [
        SimilarQuestion(q.id, q.ref, q.text, q.supporters, meeting_id, score)
        for q, found in zip(pool, shared, strict=True)
        if found and (score := _score(words, weights, found))
    ]
    scored.sort(key=lambda s: (-s.score, -s.supporters, s.id))
    return scored[:limit]


async def similar_items(
    session: AsyncSession,
    text: str,
    *,
    district_id: int,
    meeting_id: int | None,
    today: dt.date,
    exclude_question_id: int | None = None,
) -> Similar:
    """Up to ``LIMIT`` close measures of the district and accepted questions of the meeting."""
    words = query_words(text, limit=TEXT_WORDS)  # the question's words, stemmed once
    if not words:
        return Similar()
    measures = await similar_measures(session, words, district_id, today)
    questions = (
        await similar_questions(session, words, meeting_id, exclude_id=exclude_question_id)
        if meeting_id is not None
        else []
    )
    return Similar(measures, questions)
