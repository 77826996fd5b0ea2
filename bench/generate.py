"""A large, realistic database for the benchmarks, generated fast with bulk inserts.

At ``--scale 1``: the 8 districts (reference data), 5 years of meetings (every two months in
every district, the next one still open for questions), 20,000 measures in problem issues with
their departments and history, 200,000 residents, 1,000,000 questions, 100,000 follows,
department members and chats. ``--scale 0.01`` gives a CI-sized copy (meetings stay the same).

    python -m bench.generate --url sqlite+aiosqlite:///data/bench/bench.sqlite3 --scale 0.05
    python -m bench.generate --url postgresql+asyncpg://postgres@127.0.0.1/kezdesu_bench

SQLite gets multi-row ``executemany`` in a few large transactions; PostgreSQL gets ``COPY``.
The target must be empty (migrated, reference data only); ``--force`` empties it first.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.base import Base
from models.db import create_engine, create_session_pool, migrate
from models.entities import (
    Category,
    Department,
    DepartmentChat,
    DepartmentMember,
    District,
    Follow,
    Measure,
    MeasureDepartment,
    MeasureStatus,
    MeasureUpdate,
    Meeting,
    MeetingStatus,
    ProblemIssue,
    Question,
    QuestionStatus,
    User,
)
from models.questions import text_hash
from models.reference import ensure_reference_data
from models.search_index import rebuild

YEARS = 5
MEETING_EVERY_DAYS = 61
FIRST_TG_ID = 10_000_000  # generated residents: tg_id = FIRST_TG_ID + n
BATCH = 20_000
SEQUENCED = (
    "meetings", "problem_issues", "measures", "measure_updates", "users", "department_members",
    "department_chats", "questions", "follows",
)  # fmt: skip
DEMO = Path(__file__).resolve().parent.parent / "models" / "data" / "almaly-2022-06-23.json"

STREETS = (
    "Абая", "Толе би", "Райымбека", "Сейфуллина", "Жандосова", "Тимирязева", "Аль-Фараби",
    "Сатпаева", "Жибек Жолы", "Гагарина", "Розыбакиева", "Шевченко", "Байтурсынова",
    "Муканова", "Ауэзова", "Фурманова", "Желтоксан", "Манаса", "Утеген батыра", "Момышулы",
)  # fmt: skip
PROBLEMS = (
    "Инженерные сети", "Дефицит мест в школах", "Дефицит мест в детских садах",
    "Благоустройство дворов", "Освещение улиц", "Ремонт дорог", "Общественный транспорт",
    "Парковки", "Озеленение", "Спортивные площадки", "Правопорядок", "Поликлиники",
    "Водоснабжение", "Канализация", "Вывоз мусора", "Тротуары и пешеходные переходы",
)  # fmt: skip
MEASURE_VERBS = (
    "Провести ремонт", "Завершить строительство", "Обеспечить освещение", "Установить",
    "Реконструировать", "Благоустроить", "Заменить", "Проложить", "Построить", "Открыть",
)  # fmt: skip
MEASURE_OBJECTS = (
    "водопроводных сетей", "тротуара", "детской площадки", "остановочного павильона",
    "дороги", "школы на 1200 мест", "детского сада на 280 мест", "сквера", "ливневой канализации",
    "спортивной площадки", "пешеходного перехода", "поликлиники", "линий электропередачи",
)  # fmt: skip
QUESTION_OPENINGS = (
    "Когда отремонтируют", "Прошу решить вопрос", "Жители просят", "Почему до сих пор нет",
    "Просим установить", "Когда начнут", "Сколько ещё ждать", "Ауламызда жоқ", "Please fix",
)  # fmt: skip
QUESTION_TOPICS = (
    "освещения во дворе", "ямы на дороге", "детской площадки", "светофора", "горячей воды",
    "вывоза мусора", "парковки", "тротуара", "остановки", "камер видеонаблюдения", "арыков",
    "лифта в доме", "озеленения", "шума от стройки", "бродячих собак",
)  # fmt: skip
DEADLINES = (
    "{y} год",
    "4 квартал {y} года",
    "2 квартал {y} года",
    "до 1 сентября {y}",
    "постоянно",
)
FIRST_NAMES = ("Айгерим", "Нурлан", "Алия", "Ерлан", "Дана", "Сергей", "Марина", "Асель", "Тимур")
LAST_NAMES = ("Сейткали", "Ахметов", "Иванова", "Жумабаев", "Ким", "Омарова", "Петров", "Абенов")


@dataclass(frozen=True)
class Sizes:
    measures: int
    users: int
    questions: int
    follows: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(
            measures=max(60, round(20_000 * scale)),
            users=max(100, round(200_000 * scale)),
            questions=max(500, round(1_000_000 * scale)),
            follows=max(50, round(100_000 * scale)),
        )


@dataclass
class Report:
    rows: dict[str, int]
    seconds: float

    def line(self) -> str:
        total = sum(self.rows.values())
        parts = ", ".join(f"{n:,} {table}" for table, n in self.rows.items())
        return (
            f"{total:,} rows in {self.seconds:.1f} s ({total / self.seconds:,.0f} rows/s): {parts}"
        )


class Writer:
    """Bulk insert of plain tuples: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    async def insert(
        self, table: Table, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
    ) -> None:
        kinds = [table.c[name].type for name in columns]
        convert = [
            _sqlite_datetime if isinstance(getattr(k, "impl", k), DateTime)
            else _sqlite_date if isinstance(k, Date)
            else None
            for k in kinds
        ]  # fmt: skip
        # The database writes one batch while Python builds the next (two cores, not one).
        pending: asyncio.Task[None] | None = None
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.create_task(self._flush(table, columns, batch, convert))
                batch = []
                await asyncio.sleep(0)
        if pending is not None:
            await pending
        if batch:
            await self._flush(table, columns, batch, convert)

    async def _flush(
        self, table: Table, columns: Sequence[str], batch: list[tuple[Any, ...]], convert: list[Any]
    ) -> None:
        self.counts[table.name] = self.counts.get(table.name, 0) + len(batch)
        if self.postgres:
            raw = await self.connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table.name, records=batch, columns=list(columns))
            return
        slots = [(i, c) for i, c in enumerate(convert) if c is not None]
        if slots:
            converted = []
            for row in batch:
                values = list(row)
                for i, c in slots:
                    if values[i] is not None:
                        values[i] = c(values[i])
                converted.append(tuple(values))
            batch = converted
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        await self.connection.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
            batch,  # type: ignore[arg-type]
        )


def _sqlite_datetime(value: dt.datetime) -> str:
    return value.isoformat(" ", "microseconds")


def _sqlite_date(value: dt.date) -> str:
    return value.isoformat()


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


async def _reference(connection: AsyncConnection) -> tuple[list[Any], list[Any], list[Any]]:
    districts = (
        await connection.execute(select(District.id, District.code).order_by(District.order))
    ).all()
    departments = (
        await connection.execute(select(Department.id, Department.code).order_by(Department.id))
    ).all()
    categories = (
        await connection.execute(
            select(Category.id, Category.default_department_id).order_by(Category.order)
        )
    ).all()
    return list(districts), list(departments), list(categories)


def _demo_measures() -> list[str]:
    plan = json.loads(DEMO.read_text(encoding="utf-8"))["plan"]
    return [str(row["measure"]) for row in plan]


async def generate(engine: AsyncEngine, scale: float = 1.0, *, seed: int = 20220623) -> Report:
    """Fill an empty (migrated, reference-only) database; returns what was written."""
    rnd = random.Random(seed)
    sizes = Sizes.for_scale(scale)
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    demo_measures = _demo_measures()
    async with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql("PRAGMA synchronous=OFF")
        else:
            # The generated rows are consistent by construction: skip the per-row foreign-key
            # triggers during the load when allowed (a superuser; otherwise just slower).
            try:
                async with connection.begin_nested():
                    await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            except Exception:  # noqa: BLE001
                pass
        districts, departments, categories = await _reference(connection)
        writer = Writer(connection)

        # Meetings: every two months in each district for five years; the next one is open.
        meetings: list[tuple[int, int, dt.datetime]] = []  # id, district id, starts_at (naive)
        meeting_id = 0
        first = now - dt.timedelta(days=365 * YEARS)
        for d_index, (district_id, _code) in enumerate(districts):
            moment = first + dt.timedelta(days=7 * d_index)
            while True:
                meeting_id += 1
                starts = _naive(moment.replace(hour=9, minute=0))
                meetings.append((meeting_id, district_id, starts))
                if moment > now:
                    break
                moment += dt.timedelta(days=MEETING_EVERY_DAYS)

        def meeting_rows() -> Iterator[tuple[Any, ...]]:
            naive_now = _naive(now)
            for m_id, district_id, starts in meetings:
                held = starts < naive_now
                yield (
                    m_id, district_id, starts, f"ул. {rnd.choice(STREETS)}, {rnd.randint(1, 200)}",
                    "Досаев Е. А.", "", "", "", starts - dt.timedelta(days=1),
                    MeetingStatus.HELD if held else MeetingStatus.SCHEDULED,
                    rnd.randint(200, 600) if held else None, rnd.randint(20, 60) if held else None,
                    rnd.randint(50, 120) if held else None, None, None, None,
                    starts - dt.timedelta(days=30), starts,
                )  # fmt: skip

        await writer.insert(
            Meeting.__table__,  # type: ignore[arg-type]
            ("id", "district_id", "starts_at", "place", "akim", "moderator", "stream_url",
             "source_url", "intake_closes_at", "status", "participants", "speakers",
             "questions_raised", "answered_at_meeting", "questions_done", "questions_in_work",
             "created_at", "updated_at"),
            meeting_rows(),
        )  # fmt: skip

        # Problem issues and measures, on the meetings already held.
        held = [m for m in meetings if m[2] < _naive(now)]
        per_meeting = max(1, sizes.measures // len(held))
        problems: list[tuple[int, int, int, str]] = []  # id, meeting id, number, title
        measures: list[tuple[int, int, dt.datetime]] = []  # id, problem id, meeting start
        measure_id = 0
        for m_id, _district, starts in held:
            count = per_meeting if measure_id + per_meeting <= sizes.measures else 0
            if m_id == held[-1][0]:
                count = sizes.measures - measure_id
            number = 0
            while count > 0:
                number += 1
                title = rnd.choice(PROBLEMS)
                problems.append((len(problems) + 1, m_id, number, title))
                for _ in range(min(count, rnd.randint(2, 6))):
                    measure_id += 1
                    count -= 1
                    measures.append((measure_id, len(problems), starts))

        await writer.insert(
            ProblemIssue.__table__,  # type: ignore[arg-type]
            ("id", "meeting_id", "number", "title"),
            ((p_id, m_id, n, title) for p_id, m_id, n, title in problems),
        )

        measure_departments: list[tuple[int, int, int]] = []
        measure_updates: list[tuple[Any, ...]] = []
        position: dict[int, int] = {}

        def measure_rows() -> Iterator[tuple[Any, ...]]:
            for m_id, p_id, starts in measures:
                position[p_id] = position.get(p_id, 0) + 1
                if rnd.random() < 0.2:
                    body = rnd.choice(demo_measures)
                else:
                    body = (
                        f"{rnd.choice(MEASURE_VERBS)} {rnd.choice(MEASURE_OBJECTS)} по улице "
                        f"{rnd.choice(STREETS)} "
                        f"(от {rnd.choice(STREETS)} до {rnd.choice(STREETS)})."
                    )
                due = starts.date() + dt.timedelta(days=rnd.randint(60, 900))
                year = due.year
                deadline = rnd.choice(DEADLINES).format(y=year)
                due_date = None if deadline == "постоянно" else due
                age_days = (today - starts.date()).days
                roll = rnd.random()
                if roll < 0.04:
                    status = MeasureStatus.CANCELLED
                elif roll < min(0.9, age_days / 900):
                    status = MeasureStatus.DONE
                elif roll < 0.75:
                    status = MeasureStatus.IN_PROGRESS
                else:
                    status = MeasureStatus.PLANNED
                executors = rnd.sample(departments, k=1 if rnd.random() < 0.8 else 2)
                for index, (dep_id, _code) in enumerate(executors):
                    measure_departments.append((m_id, dep_id, index))
                closed = None
                if status == MeasureStatus.DONE:
                    closed = min(_naive(now), starts + dt.timedelta(days=rnd.randint(30, 800)))
                    measure_updates.append(
                        (len(measure_updates) + 1, m_id, None, executors[0][0], "status",
                         MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, 100, "Выполнено.", None,
                         closed)
                    )  # fmt: skip
                progress = 100 if status == MeasureStatus.DONE else rnd.choice((None, 10, 40, 70))
                yield (
                    m_id, p_id, position[p_id], body, deadline, due_date, status, progress, None,
                    closed, starts, closed or starts,
                )  # fmt: skip

        await writer.insert(
            Measure.__table__,  # type: ignore[arg-type]
            ("id", "problem_id", "position", "text", "deadline_text", "due_date", "status",
             "progress", "proof_photo_file_id", "closed_at", "created_at",
             "updated_at"),
            measure_rows(),
        )  # fmt: skip
        await writer.insert(
            MeasureDepartment.__table__,  # type: ignore[arg-type]
            ("measure_id", "department_id", "position"),
            iter(measure_departments),
        )
        await writer.insert(
            MeasureUpdate.__table__,  # type: ignore[arg-type]
            ("id", "measure_id", "author_id", "department_id", "kind", "old_status", "status",
             "progress", "comment", "photo_file_id", "created_at"),
            iter(measure_updates),
        )  # fmt: skip

        # Residents.
        locales = ("ru",) * 6 + ("kk",) * 3 + ("en",)
        district_ids = [d[0] for d in districts]
        user_district: list[int] = [0]  # index = user id

        def user_rows() -> Iterator[tuple[Any, ...]]:
            base = _naive(now) - dt.timedelta(days=365 * YEARS)
            span = 365 * YEARS * 86400
            for n in range(1, sizes.users + 1):
                district_id = rnd.choice(district_ids)
                user_district.append(district_id)
                created = base + dt.timedelta(seconds=rnd.randrange(span))
                yield (
                    n, FIRST_TG_ID + n, rnd.choice(locales), district_id,
                    f"{rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)}", None, created, False,
                    True, False, created,
                )  # fmt: skip

        await writer.insert(
            User.__table__,  # type: ignore[arg-type]
            ("id", "tg_id", "locale", "district_id", "full_name", "username", "consent_at",
             "is_admin", "reachable", "night_pushes", "created_at"),
            user_rows(),
        )  # fmt: skip

        # Department members (the first users) and one work chat per department.
        members = [
            (index + 1, dep_id, 1 + index, _naive(now))
            for index, (dep_id, _code) in enumerate(
                [d for d in departments for _ in range(3)][: sizes.users]
            )
        ]
        await writer.insert(
            DepartmentMember.__table__,  # type: ignore[arg-type]
            ("id", "department_id", "user_id", "joined_at"),
            iter(members),
        )
        await writer.insert(
            DepartmentChat.__table__,  # type: ignore[arg-type]
            ("id", "department_id", "chat_id", "title", "locale", "reachable", "joined_at"),
            (
                (
                    i + 1,
                    dep_id,
                    -1_000_000_000_000 - dep_id,
                    f"{code} — рабочий чат",
                    "ru",
                    True,
                    _naive(now),
                )
                for i, (dep_id, code) in enumerate(departments)
            ),
        )

        # Questions: each to a meeting of the author's district, asked before it.
        by_district: dict[int, list[tuple[int, dt.datetime]]] = {}
        for m_id, district_id, starts in meetings:
            by_district.setdefault(district_id, []).append((m_id, starts))
        codes = dict(districts)
        numbers: dict[int, int] = {}
        category_rows = [(c_id, dep) for c_id, dep in categories]
        naive_now = _naive(now)
        past = (QuestionStatus.ANSWERED_AT_MEETING, QuestionStatus.DONE, QuestionStatus.IN_WORK,
                QuestionStatus.REJECTED, QuestionStatus.ACCEPTED)  # fmt: skip

        texts = []
        for _ in range(4000):
            body = (
                f"{rnd.choice(QUESTION_OPENINGS)} {rnd.choice(QUESTION_TOPICS)} по адресу "
                f"{rnd.choice(STREETS)}, {rnd.randint(1, 300)}?"
            )
            texts.append((body, text_hash(body)))

        def question_rows() -> Iterator[tuple[Any, ...]]:
            for q_id in range(1, sizes.questions + 1):
                author = 1 + int(rnd.random() * sizes.users)
                district_id = user_district[author]
                m_id, starts = rnd.choice(by_district[district_id])
                created = starts - dt.timedelta(seconds=1 + int(rnd.random() * 40 * 86400))
                created = min(created, naive_now)
                numbers[district_id] = numbers.get(district_id, 0) + 1
                body, body_hash = rnd.choice(texts)
                category_id, department_id = rnd.choice(category_rows)
                if starts < naive_now:
                    status = rnd.choice(past)
                else:
                    status = rnd.choice((QuestionStatus.SUBMITTED, QuestionStatus.ACCEPTED))
                routed = status in (QuestionStatus.IN_WORK, QuestionStatus.DONE)
                queue = "answered" if status == QuestionStatus.DONE else "in_work"
                answered = status in (QuestionStatus.DONE, QuestionStatus.ANSWERED_AT_MEETING)
                yield (
                    q_id, f"{codes[district_id]}-{numbers[district_id]:04d}", district_id, m_id,
                    author, None, False, category_id, body,
                    body_hash, None, None, None, "bot",
                    status, None, "Ответ дан на встрече." if answered else None,
                    starts if answered else None, department_id if routed else None,
                    queue if routed else None,
                    None, None, 0, created, created + dt.timedelta(hours=5)
                    if status != QuestionStatus.SUBMITTED else None, created,
                )  # fmt: skip

        await writer.insert(
            Question.__table__,  # type: ignore[arg-type]
            ("id", "ref", "district_id", "meeting_id", "author_id", "author_name", "show_name",
             "category_id", "text", "text_hash", "address", "latitude", "longitude", "source",
             "status", "reject_reason", "answer", "answered_at", "department_id",
             "department_queue", "return_reason", "merged_into_id", "supporters", "created_at",
             "moderated_at", "updated_at"),
            question_rows(),
        )  # fmt: skip

        # Follows: mostly measures, some whole districts; unique per user.
        def follow_rows() -> Iterator[tuple[Any, ...]]:
            seen: set[tuple[int, int, bool]] = set()
            f_id = 0
            while f_id < sizes.follows:
                user_id = rnd.randint(1, sizes.users)
                if rnd.random() < 0.2:
                    key = (user_id, user_district[user_id], True)
                else:
                    key = (user_id, rnd.randint(1, len(measures)), False)
                if key in seen:
                    continue
                seen.add(key)
                f_id += 1
                yield (
                    f_id,
                    user_id,
                    None if key[2] else key[1],
                    key[1] if key[2] else None,
                    naive_now,
                )

        await writer.insert(
            Follow.__table__,  # type: ignore[arg-type]
            ("id", "user_id", "measure_id", "district_id", "created_at"),
            follow_rows(),
        )
        await connection.run_sync(rebuild)  # the rows above bypassed the session's indexing
        if writer.postgres:
            for table in SEQUENCED:
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            # VACUUM as autovacuum would do soon after a bulk load in production: it sets the
            # visibility map, without which PostgreSQL reads the table beside every index
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
        else:
            await connection.exec_driver_sql("ANALYZE")
    return Report(writer.counts, time.perf_counter() - started)


async def prepare(url: str) -> AsyncEngine:
    """An engine on a migrated database with the reference data."""
    engine = create_engine(url)
    await migrate(engine)
    async with create_session_pool(engine)() as session:
        await ensure_reference_data(session)
        await session.commit()
    return engine


async def generated_size(engine: AsyncEngine) -> tuple[int, int]:
    """(users, questions) already in the database."""
    async with engine.connect() as connection:
        users = (await connection.execute(select(func.count()).select_from(User))).scalar_one()
        questions = (
            await connection.execute(select(func.count()).select_from(Question))
        ).scalar_one()
    return int(users), int(questions)


async def empty(engine: AsyncEngine) -> None:
    """Remove everything but the reference data."""
    keep = {"districts", "departments", "categories", "alembic_version"}
    async with engine.begin() as connection:
        tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in keep]
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(table.delete())


async def ensure(url: str, scale: float, *, force: bool = False, log: Any = print) -> AsyncEngine:
    """The database at ``url`` holding exactly the data of ``scale`` (generated when needed)."""
    engine = await prepare(url)
    sizes = Sizes.for_scale(scale)
    users, questions = await generated_size(engine)
    if not force and (users, questions) == (sizes.users, sizes.questions):
        log(f"  database already generated: {users:,} users, {questions:,} questions")
        return engine
    if users or questions or force:
        await empty(engine)
    log(f"  generating at scale {scale:g} …")
    report = await generate(engine, scale)
    log(f"  {report.line()}")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default="sqlite+aiosqlite:///data/bench/bench.sqlite3")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 200,000 users, 1,000,000 questions"
    )
    parser.add_argument("--force", action="store_true", help="empty the database first")
    args = parser.parse_args()

    async def run() -> None:
        engine = await ensure(args.url, args.scale, force=args.force)
        await engine.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
