"""The search index: the terms of every measure's searchable text, kept true by the session.

A measure is found by the words of its own text, its problem's title, its responsible
departments' codes and names (all three languages), its district's names and aliases (all three
languages) and its meeting's place. Each becomes terms (:mod:`models.terms`) in
``search_terms`` — one row per term and measure, with the measure's district and sort key, so a
search reads nothing else until its page — and the words themselves go to the vocabulary
``search_words``, where typo correction finds the closest ones (:mod:`models.search`).

Words that every department's or district's name has («управление», «города Алматы»,
«ауданы», "district") are left out of those names' terms: they would match every measure. Numbers
count only in the measure's text and its problem's title (not house numbers of places).

The index changes in the same transaction as what it is made of: a session's flush
(:func:`_reindex_after_flush`, registered for every ORM session) reindexes the measures whose
text, problem, departments, department names, meeting (place, time, district) or district names
changed, and new measures. Deleting a measure deletes its terms (``ON DELETE CASCADE``). Bulk
writers that bypass the ORM (the benchmark's generator, the migration's backfill) call
:func:`rebuild`. Vocabulary words are only added; a word left by a deleted text matches
nothing and is never proposed, since a proposal must have a term still in the index.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, UOWTransaction

from models.entities import (
    Department,
    District,
    Measure,
    MeasureDepartment,
    Meeting,
    ProblemIssue,
    SearchTerm,
    SearchWord,
)
from models.terms import text_words

BATCH = 500  # measures reindexed per round of statements
NAME_FIELDS = ("name_ru", "name_kk", "name_en", "short_ru", "short_kk", "short_en")
GENERIC_TERMS = frozenset(
    term
    for _word, term in text_words(
        (
            "управление города Алматы городской район",
            "Алматы қаласы қалалық басқармасы ауданы",
            "Almaty City Department district",
        )
    )
)
_MEASURE_FIELDS = {"text", "problem_id", "position"}
_PROBLEM_FIELDS = {"title", "number", "meeting_id"}
_MEETING_FIELDS = {"place", "starts_at", "district_id"}
_DEPARTMENT_FIELDS = {"code", "alias_codes", *NAME_FIELDS}
_DISTRICT_FIELDS = {"aliases", *NAME_FIELDS}


def sort_key(starts_at: dt.datetime, problem_number: int, position: int) -> int:
    """Newest meeting first, then the plan's order: one integer, smaller first."""
    minutes = int(starts_at.timestamp()) // 60
    return -minutes * 10_000_000 + min(problem_number, 9999) * 1000 + min(position, 999)


def _name_words(texts: Iterable[str]) -> list[tuple[str, str]]:
    """The words of names: no generic words, no numbers."""
    return [
        (word, term)
        for word, term in text_words(texts)
        if term not in GENERIC_TERMS and not word.isdigit()
    ]


def department_texts(department: Any) -> list[str]:
    return [department.code, department.alias_codes, *(getattr(department, f) for f in NAME_FIELDS)]


def district_texts(district: Any) -> list[str]:
    return [district.aliases, *(getattr(district, f) for f in NAME_FIELDS)]


@dataclass
class _Names:
    """The (word, term) pairs of every department and district, read once per reindex."""

    departments: dict[int, list[tuple[str, str]]]
    districts: dict[int, list[tuple[str, str]]]

    @classmethod
    def read(cls, connection: Connection) -> _Names:
        departments = connection.execute(
            select(Department.id, Department.code, Department.alias_codes, *_names(Department))
        )
        districts = connection.execute(select(District.id, District.aliases, *_names(District)))
        return cls(
            {row.id: _name_words(department_texts(row)) for row in departments},
            {row.id: _name_words(district_texts(row)) for row in districts},
        )


def _names(entity: Any) -> list[Any]:
    return [getattr(entity, field) for field in NAME_FIELDS]


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def reindex(connection: Connection, measure_ids: Iterable[int]) -> None:
    """Write the terms of these measures anew (a measure gone meanwhile is skipped)."""
    ids = sorted(set(measure_ids))
    if not ids:
        return
    names = _Names.read(connection)
    for chunk in _chunks(ids):
        _reindex_chunk(connection, chunk, names)


def _reindex_chunk(connection: Connection, ids: Sequence[int], names: _Names) -> None:
    measures = connection.execute(
        select(
            Measure.id,
            Measure.text,
            Measure.position,
            ProblemIssue.title,
            ProblemIssue.number,
            Meeting.place,
            Meeting.starts_at,
            Meeting.district_id,
        )
        .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
        .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
        .where(Measure.id.in_(ids))
    ).all()
    departments: dict[int, list[int]] = defaultdict(list)
    for link in connection.execute(
        select(MeasureDepartment.measure_id, MeasureDepartment.department_id).where(
            MeasureDepartment.measure_id.in_(ids)
        )
    ):
        departments[link.measure_id].append(link.department_id)
    terms: list[dict[str, Any]] = []
    vocabulary: set[tuple[str, str]] = set()
    for row in measures:
        pairs = list(text_words([row.text, row.title]))
        pairs += [p for p in text_words([row.place]) if not p[0].isdigit()]
        pairs += names.districts.get(row.district_id, [])
        for department_id in departments[row.id]:
            pairs += names.departments.get(department_id, [])
        key = sort_key(row.starts_at, row.number, row.position)
        for term in sorted({term for _word, term in pairs}):
            terms.append(
                {
                    "measure_id": row.id,
                    "term": term,
                    "district_id": row.district_id,
                    "sort_key": key,
                }
            )
        vocabulary.update((word, term) for word, term in pairs if not word.isdigit())
    connection.execute(delete(SearchTerm).where(SearchTerm.measure_id.in_(ids)))
    if terms:
        # a concurrent transaction that reindexed the same measure may have written the same
        # rows meanwhile (PostgreSQL): the last one's values win, no duplicate key fails
        upsert = _insert(connection, SearchTerm)
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=["measure_id", "term"],
                set_={
                    "district_id": upsert.excluded.district_id,
                    "sort_key": upsert.excluded.sort_key,
                },
            ),
            terms,
        )
    add_words(connection, vocabulary)


def _insert(connection: Connection, entity: Any) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(entity)


def add_words(connection: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """Add (word, term) pairs to the vocabulary; those it has are left alone."""
    rows = [{"word": word, "term": term} for word, term in sorted(set(pairs))]
    if rows:
        statement = _insert(connection, SearchWord)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["word", "term"]), rows)


def rebuild(connection: Connection) -> int:
    """Index every measure anew (after a bulk load); returns how many."""
    connection.execute(delete(SearchTerm))
    ids = list(connection.execute(select(Measure.id).order_by(Measure.id)).scalars())
    reindex(connection, ids)
    return len(ids)


# --- keeping the index true ----------------------------------------------------------------------


def _changed(obj: Any, fields: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[field].history.has_changes() for field in fields)


def _affected(session: Session) -> tuple[set[int], list[Any]]:
    """The measures to reindex after this flush: directly, and through what they are made of
    (as conditions on measures, resolved by one query)."""
    measures: set[int] = set()
    problems: set[int] = set()
    meetings: set[int] = set()
    departments: set[int] = set()
    districts: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        new = obj in session.new
        if isinstance(obj, Measure):
            if new or _changed(obj, _MEASURE_FIELDS):
                measures.add(obj.id)
        elif isinstance(obj, MeasureDepartment):
            measures.add(obj.measure_id)
        elif new or obj in session.deleted:
            continue  # a new problem, meeting or department has no measures yet
        elif isinstance(obj, ProblemIssue) and _changed(obj, _PROBLEM_FIELDS):
            problems.add(obj.id)
        elif isinstance(obj, Meeting) and _changed(obj, _MEETING_FIELDS):
            meetings.add(obj.id)
        elif isinstance(obj, Department) and _changed(obj, _DEPARTMENT_FIELDS):
            departments.add(obj.id)
        elif isinstance(obj, District) and _changed(obj, _DISTRICT_FIELDS):
            districts.add(obj.id)
    conditions: list[Any] = []
    if problems:
        conditions.append(ProblemIssue.id.in_(problems))
    if meetings:
        conditions.append(Meeting.id.in_(meetings))
    if districts:
        conditions.append(Meeting.district_id.in_(districts))
    if departments:
        conditions.append(
            Measure.id.in_(
                select(MeasureDepartment.measure_id).where(
                    MeasureDepartment.department_id.in_(departments)
                )
            )
        )
    return measures, conditions


@event.listens_for(Session, "after_flush")
def _reindex_after_flush(session: Session, _flush: UOWTransaction) -> None:
    measures, conditions = _affected(session)
    if not measures and not conditions:
        return
    connection = session.connection()
    for condition in conditions:
        measures.update(
            connection.execute(
                select(Measure.id)
                .join(ProblemIssue, ProblemIssue.id == Measure.problem_id)
                .join(Meeting, Meeting.id == ProblemIssue.meeting_id)
                .where(condition)
            ).scalars()
        )
    reindex(connection, measures)
