"""The search index of migration 0002: SQLite answers ``LIKE '%word%'`` from an FTS5 trigram
table kept in sync by triggers, PostgreSQL from a pg_trgm GIN index; results stay the same."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Measure
from models.search import _matching, search_measures
from models.text import fold

TODAY = dt.date(2022, 9, 1)


async def _found(session: AsyncSession, query: str) -> list[str]:
    page = await search_measures(session, query, district_id=None, page=0, per_page=50, today=TODAY)
    return [row.text for row in page.rows]


async def test_index_follows_inserts_updates_and_deletes(session: AsyncSession, demo: int) -> None:
    assert any("Сайран" in t for t in await _found(session, "сайран"))
    measure = (
        await session.execute(
            select(Measure).where(Measure.text.like("%дна водохранилища «Сайран»%"))
        )
    ).scalar_one()
    measure.search_text = fold("Озеро Сайран: очистка дна и новый пляж")
    await session.commit()
    assert await _found(session, "пляж") == [measure.text]
    assert await _found(session, "экспертизы водохранилища") == []  # old words are gone
    await session.execute(delete(Measure).where(Measure.id == measure.id))
    await session.commit()
    assert await _found(session, "пляж") == []
    # words of two letters (below a trigram) and LIKE wildcards still work, literally
    assert await _found(session, "%") == []
    assert len(await _found(session, "УО")) == 4  # substrings: УО twice, УОЗ twice


async def test_indexed_and_plain_matching_agree(session: AsyncSession, demo: int) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL has one matching path: its index serves the plain LIKE")
    for words in (["сайран"], ["уо"], ["байтурсынова"], ["школ", "16"], ["2022"], ["нет такого"]):
        found = []
        for fts in (True, False):
            query = select(Measure.id).where(_matching(words, fts=fts)).order_by(Measure.id)
            found.append(list((await session.execute(query)).scalars()))
        assert found[0] == found[1], words


async def test_the_database_uses_its_index(session: AsyncSession, demo: int) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        query = select(Measure.id).where(_matching(["сайран"], fts=True))
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
        details = " ".join(str(row[-1]) for row in plan)
        assert "VIRTUAL TABLE INDEX" in details and "measures_fts" in details, details
    else:
        indexes = (
            await session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_measures_search_trgm'")
            )
        ).scalars()
        assert "gin_trgm_ops" in " ".join(indexes)
