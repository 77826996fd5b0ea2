"""Tests for :mod:`models.deadlines` — reading "Срок исполнения" cells."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Literal

import pytest
from babel.dates import format_date, get_month_names

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run without an installed package

from models.deadlines import MONTHS, DeadlineReading, parse_deadline, period_end, read_deadline

D = datetime.date
REF = D(2024, 3, 15)  # a meeting date for phrases relative to it

# (phrase, reference, expected)
CASES: list[tuple[str, datetime.date | None, datetime.date | None]] = [
    # --- the seed's real deadlines ---------------------------------------------------------
    ("2022 год", None, D(2022, 12, 31)),
    ("4 квартал 2022 года", None, D(2022, 12, 31)),
    ("3 квартал 2023 года", None, D(2023, 9, 30)),
    ("31 август 2022 года", None, D(2022, 8, 31)),
    ("2 квартал 2023 года", None, D(2023, 6, 30)),
    ("2023 год", None, D(2023, 12, 31)),
    # --- periods mean their last day -------------------------------------------------------
    ("1 полугодие 2023", None, D(2023, 6, 30)),
    ("2 полугодие 2023 г.", None, D(2023, 12, 31)),
    ("во втором полугодии 2023 года", None, D(2023, 12, 31)),
    ("август 2022", None, D(2022, 8, 31)),
    ("август 2022 года", None, D(2022, 8, 31)),
    ("в августе 2022 года", None, D(2022, 8, 31)),
    ("февраль 2024", None, D(2024, 2, 29)),
    ("февраль 2023", None, D(2023, 2, 28)),
    ("февраля 2100", None, None),  # outside 1900-2099: not read as a year
    ("мае 2023", None, D(2023, 5, 31)),
    ("декабрь 2023г.", None, D(2023, 12, 31)),
    ("08.2022", None, D(2022, 8, 31)),
    ("первый квартал 2023 г.", None, D(2023, 3, 31)),
    ("четвертый квартал 2022 года", None, D(2022, 12, 31)),
    # --- quarters: Roman numerals and abbreviations -----------------------------------------
    ("IV квартал 2022 г.", None, D(2022, 12, 31)),
    ("4 кв. 2022", None, D(2022, 12, 31)),
    ("4-й квартал 2022 года", None, D(2022, 12, 31)),
    ("II кв 2023", None, D(2023, 6, 30)),
    ("III квартал 2022г.", None, D(2022, 9, 30)),
    ("2022 г. IV квартал", None, D(2022, 12, 31)),
    # --- exact dates ------------------------------------------------------------------------
    ("31 августа 2022 года", None, D(2022, 8, 31)),
    ("31.08.2022", None, D(2022, 8, 31)),
    ("31.08.22", None, D(2022, 8, 31)),
    ("2022-08-31", None, D(2022, 8, 31)),
    ("31/08/2022", None, D(2022, 8, 31)),
    ("31-08-2022", None, D(2022, 8, 31)),
    ("1 сентября 2022 г.", None, D(2022, 9, 1)),
    ("1-го сентября 2022 г.", None, D(2022, 9, 1)),
    ("до 15 мая 2023 года", None, D(2023, 5, 15)),
    ("13.01.2022", None, D(2022, 1, 13)),
    ("8/31/22", None, D(2022, 8, 31)),  # Babel's en short format, M/d/yy
    ("13/01/22", None, D(2022, 1, 13)),  # only possible as D/M/YY
    # --- "до ..." ---------------------------------------------------------------------------
    ("до 1 сентября 2022", None, D(2022, 9, 1)),
    ("до 01.09.2022", None, D(2022, 9, 1)),
    ("до конца 2022 года", None, D(2022, 12, 31)),
    ("до конца 3 квартала 2022", None, D(2022, 9, 30)),
    ("до конца августа 2022", None, D(2022, 8, 31)),
    ("«до 31 декабря 2022 г.»", None, D(2022, 12, 31)),
    # --- relative to the meeting date -------------------------------------------------------
    ("до конца текущего года", REF, D(2024, 12, 31)),
    ("до конца текущего года", None, None),
    ("в текущем году", REF, D(2024, 12, 31)),
    ("в текущем году", None, None),
    ("до конца года", REF, D(2024, 12, 31)),
    ("до конца года", None, None),
    ("текущий год", REF, D(2024, 12, 31)),
    ("текущий год", None, None),
    ("в течение текущего года", REF, D(2024, 12, 31)),
    ("до 1 сентября текущего года", REF, D(2024, 9, 1)),
    ("до 1 сентября текущего года", None, None),
    ("до 1 сентября", REF, D(2024, 9, 1)),
    ("до 1 сентября", None, None),
    ("до конца августа", REF, D(2024, 8, 31)),
    ("до конца мая", REF, D(2024, 5, 31)),
    ("в июне", REF, D(2024, 6, 30)),
    ("до 1 июня", REF, D(2024, 6, 1)),
    ("4 квартал", REF, D(2024, 12, 31)),
    ("4 квартал", None, None),
    ("следующий год", REF, D(2025, 12, 31)),
    ("в следующем году", REF, D(2025, 12, 31)),
    ("в следующем году", None, None),
    ("до 1 марта следующего года", REF, D(2025, 3, 1)),
    ("до конца текущего квартала", REF, D(2024, 3, 31)),
    ("end of year", REF, D(2024, 12, 31)),
    ("next year", REF, D(2025, 12, 31)),
    ("ағымдағы жылдың соңына дейін", REF, D(2024, 12, 31)),
    ("ағымдағы жылдың соңына дейін", None, None),
    ("осы жылдың 1 қыркүйегіне дейін", REF, D(2024, 9, 1)),
    ("келесі жылы", REF, D(2025, 12, 31)),
    # an explicit year in the cell wins over the reference
    ("2023 год, до 1 сентября", REF, D(2023, 9, 1)),
    # --- ranges give their end --------------------------------------------------------------
    ("2022-2023 годы", None, D(2023, 12, 31)),
    ("2022–2024 гг.", None, D(2024, 12, 31)),
    ("2022—2023", None, D(2023, 12, 31)),
    ("2022-23 гг.", None, D(2023, 12, 31)),
    ("3-4 квартал 2022", None, D(2022, 12, 31)),
    ("III-IV кварталы 2022 года", None, D(2022, 12, 31)),
    ("1-2 квартал 2023", None, D(2023, 6, 30)),
    ("1 и 2 квартал 2023", None, D(2023, 6, 30)),
    ("июль-август 2022", None, D(2022, 8, 31)),
    ("июнь–июль", REF, D(2024, 7, 31)),
    ("с 1 июля по 31 августа 2022", None, D(2022, 8, 31)),
    ("с 1 июля по 31 августа", None, None),
    ("Q3-Q4 2022", None, D(2022, 12, 31)),
    # --- several dates in one cell: the latest ----------------------------------------------
    ("2022-2023 гг. (по мере финансирования)", None, D(2023, 12, 31)),
    ("1 этап – 2022 год, 2 этап – 2023 год", None, D(2023, 12, 31)),
    ("2022 год\n(1 этап),\n2023 год (2 этап)", None, D(2023, 12, 31)),
    ("IV кв. 2022 г. – II кв. 2023 г.", None, D(2023, 6, 30)),
    ("4 квартал 2022 года -\n1 квартал 2023 года", None, D(2023, 3, 31)),
    ("1 полугодие 2023 года – 2 полугодие 2024 года", None, D(2024, 12, 31)),
    ("до 1 января 2023 г. (31.12.2022)", None, D(2023, 1, 1)),
    ("1 квартал, 2023 год", None, D(2023, 3, 31)),
    # --- Kazakh -----------------------------------------------------------------------------
    ("2022 жыл", None, D(2022, 12, 31)),
    ("2022 жылы", None, D(2022, 12, 31)),
    ("2022 ж.", None, D(2022, 12, 31)),
    ("2022-2023 жылдар", None, D(2023, 12, 31)),
    ("2022 жылдың 4-тоқсаны", None, D(2022, 12, 31)),
    ("2022 жылдын 4-токсаны", None, D(2022, 12, 31)),  # typed without Kazakh letters
    ("2023 жылғы 3 тоқсан", None, D(2023, 9, 30)),
    ("2023 жылғы үшінші тоқсан", None, D(2023, 9, 30)),
    ("2022 жылдың 4-тоқсаны, 2023 жылдың 1-тоқсаны", None, D(2023, 3, 31)),
    ("2022 жылғы 31 тамыз", None, D(2022, 8, 31)),
    ("31 тамыз 2022 ж.", None, D(2022, 8, 31)),
    ("2022 жылғы 15 қыркүйекке дейін", None, D(2022, 9, 15)),
    ("2023 жылдың 1-жартыжылдығы", None, D(2023, 6, 30)),
    ("2023 жылдың бірінші жартыжылдығы", None, D(2023, 6, 30)),
    ("2023 жылдың екінші жартыжылдығы", None, D(2023, 12, 31)),
    ("желтоқсан 2022", None, D(2022, 12, 31)),
    ("желтоқсанға дейін", REF, D(2024, 12, 31)),
    ("тамыздың соңына дейін", REF, D(2024, 8, 31)),
    ("2022 жылғы тамыз", None, D(2022, 8, 31)),
    ("Мамыр 2023", None, D(2023, 5, 31)),
    ("2022 жылдың соңына дейін", None, D(2022, 12, 31)),
    ("тоқсан күн ішінде", REF, None),  # "тоқсан" is also "ninety"
    # --- English ----------------------------------------------------------------------------
    ("Q4 2022", None, D(2022, 12, 31)),
    ("2022 Q4", None, D(2022, 12, 31)),
    ("4th quarter 2022", None, D(2022, 12, 31)),
    ("fourth quarter of 2022", None, D(2022, 12, 31)),
    ("H1 2023", None, D(2023, 6, 30)),
    ("first half of 2023", None, D(2023, 6, 30)),
    ("second half of 2023", None, D(2023, 12, 31)),
    ("31 August 2022", None, D(2022, 8, 31)),
    ("August 31, 2022", None, D(2022, 8, 31)),
    ("Sept 1, 2022", None, D(2022, 9, 1)),
    ("by 1 September 2022", None, D(2022, 9, 1)),
    ("1st of September 2022", None, D(2022, 9, 1)),
    ("end of 2022", None, D(2022, 12, 31)),
    ("2022", None, D(2022, 12, 31)),
    ("December 2022", None, D(2022, 12, 31)),
    ("as funding may allow", REF, None),  # "may" alone is not May
    # --- no date at all ---------------------------------------------------------------------
    ("постоянно", REF, None),
    ("ежеквартально", REF, None),
    ("ежемесячно", REF, None),
    ("по мере поступления", REF, None),
    ("по мере финансирования", REF, None),
    ("в течение года", None, None),
    ("в течение года", REF, None),
    ("до 20 числа ежемесячно", REF, None),
    ("", REF, None),
    ("   \n\t ", REF, None),
    ("-", REF, None),
    ("—", REF, None),
    # --- impossible dates are no dates, never rolled over ------------------------------------
    ("31.09.2022", None, None),
    ("30 февраля 2023", None, None),
    ("29.02.2023", None, None),
    ("29.02.2024", None, D(2024, 2, 29)),
    ("29 февраля 2024 г.", None, D(2024, 2, 29)),
    ("01.13.2022", None, None),
    ("2022-02-30", None, None),
    ("32 августа 2022", None, None),
    ("31 июня 2022", None, None),
    ("5 квартал 2022", None, None),
    ("0 квартал 2022", None, None),
    ("Q5 2022", None, None),
    ("3 полугодие 2023", None, None),
    ("H3 2023", None, None),
    ("31.09.2022", REF, None),
    ("31.09.2022, 2022 год", None, D(2022, 12, 31)),  # something else usable
    # --- case, spaces, ё, quotes, line breaks ------------------------------------------------
    ("  31\u00a0августа\u202f2022 г. ", None, D(2022, 8, 31)),
    ("В ТЕЧЕНИЕ 2023 ГОДА", None, D(2023, 12, 31)),
    ("4  КВАРТАЛ\n2022  года.", None, D(2022, 12, 31)),
    ('"31 августа 2022 г."', None, D(2022, 8, 31)),
    ("Постоянно, до 2025 года", None, D(2025, 12, 31)),
    ("2022 жылдың\u00a0соңына дейін.", None, D(2022, 12, 31)),
]


# Roman numerals written with the Cyrillic letter І (U+0406) or і (U+0456), alone or mixed with
# Latin I/V; ISO months; and quarters, half-years or months nobody can read, which give no date
# and are reported as unreadable (never the year's end in their place).
ROMAN_AND_UNREADABLE: list[tuple[str, datetime.date | None, datetime.date | None, bool]] = [
    ("ІІІ квартал 2023 года", None, D(2023, 9, 30), False),
    ("ІІ квартал 2023 года", None, D(2023, 6, 30), False),
    ("І квартал 2023 г.", None, D(2023, 3, 31), False),
    ("ІV квартал 2022 года", None, D(2022, 12, 31), False),  # Cyrillic І + Latin V
    ("IІІ кв. 2023", None, D(2023, 9, 30), False),  # Latin I + Cyrillic ІІ
    ("ііі квартал 2023", None, D(2023, 9, 30), False),  # lowercase Cyrillic і
    ("ІІ полугодие 2023 года", None, D(2023, 12, 31), False),
    ("ІІІ-ІV кварталы 2022 года", None, D(2022, 12, 31), False),
    ("2023 жылғы ІІІ тоқсан", None, D(2023, 9, 30), False),
    ("2023 жылдың ІІІ-тоқсаны", None, D(2023, 9, 30), False),
    ("ІІІ-ші тоқсан 2023", None, D(2023, 9, 30), False),
    ("ІІ жартыжылдық", REF, D(2024, 12, 31), False),
    ("2023 жылдың ІІ жартыжылдығы", None, D(2023, 12, 31), False),
    ("ІІ жартыжылдық 2023", None, D(2023, 12, 31), False),
    ("2023-09", None, D(2023, 9, 30), False),
    ("до 2024-02", None, D(2024, 2, 29), False),
    ("2022-23 гг.", None, D(2023, 12, 31), False),  # still a range, not a month
    ("2022-08-31", None, D(2022, 8, 31), False),  # still a full date
    # unreadable: no date, never 2023-12-31
    ("V квартал 2023", None, None, True),
    ("V квартал 2023", REF, None, True),
    ("5 квартал 2023", None, None, True),
    ("ІХ квартал 2023", None, None, True),  # "Х" is Cyrillic: no numeral
    ("ІХ кв. 2023", None, None, True),
    ("сквер 800 кв. м, 2023 год", None, D(2023, 12, 31), False),  # square metres
    ("ІІІ полугодие 2023", None, None, True),
    ("ІІІ жартыжылдық", REF, None, True),
    ("2023 жылғы V тоқсан", None, None, True),
    ("13-й месяц", REF, None, True),
    ("13-й месяц 2023 года", None, None, True),
    ("2023-13", None, None, True),
    ("13.2023", None, None, True),
    ("Q5 2023", None, None, True),
    ("V квартал 2023, 31.12.2022", None, None, True),  # one unreadable part: no guess at all
    ("тоқсан күн ішінде", REF, None, False),  # "ninety days", not a quarter
    ("ежеквартально, 2023 год", None, D(2023, 12, 31), False),
    ("31.09.2022", None, None, False),  # an impossible day is no date, not a period
]


@pytest.mark.parametrize(
    ("phrase", "reference", "expected", "unreadable"),
    ROMAN_AND_UNREADABLE,
    ids=[f"{i:03d}-{c[0][:40]!r}" for i, c in enumerate(ROMAN_AND_UNREADABLE)],
)
def test_cyrillic_roman_iso_months_and_unreadable_periods(
    phrase: str,
    reference: datetime.date | None,
    expected: datetime.date | None,
    unreadable: bool,
) -> None:
    assert read_deadline(phrase, reference) == DeadlineReading(expected, unreadable)
    assert parse_deadline(phrase, reference) == expected


@pytest.mark.parametrize(
    ("phrase", "reference", "expected"),
    CASES,
    ids=[
        f"{i:03d}-{phrase[:40]!r}-{'ref' if ref else 'noref'}"
        for i, (phrase, ref, _) in enumerate(CASES)
    ],
)
def test_parse_deadline(
    phrase: str, reference: datetime.date | None, expected: datetime.date | None
) -> None:
    assert parse_deadline(phrase, reference) == expected


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 70


def _every_week() -> list[datetime.date]:
    start, end = D(2022, 1, 1), D(2026, 12, 31)
    return [start + datetime.timedelta(days=n) for n in range(0, (end - start).days + 1, 7)]


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
@pytest.mark.parametrize("fmt", ["full", "long", "medium", "short"])
def test_reads_back_what_babel_displays(locale: str, fmt: str) -> None:
    days = _every_week()
    assert len(days) > 250
    wrong = {
        text: parse_deadline(text)
        for day in days
        if parse_deadline(text := format_date(day, format=fmt, locale=locale)) != day
    }
    assert not wrong


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
@pytest.mark.parametrize("context", ["format", "stand-alone"])
@pytest.mark.parametrize("width", ["wide", "abbreviated"])
def test_babel_month_names_are_known(
    locale: str, context: Literal["format", "stand-alone"], width: Literal["wide", "abbreviated"]
) -> None:
    names = get_month_names(width=width, context=context, locale=locale)
    for number, name in names.items():
        assert MONTHS[name.lower().rstrip(".")] == number


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"year": 2022}, D(2022, 12, 31)),
        ({"year": 2023, "quarter": 1}, D(2023, 3, 31)),
        ({"year": 2023, "quarter": 3}, D(2023, 9, 30)),
        ({"year": 2023, "half": 1}, D(2023, 6, 30)),
        ({"year": 2023, "half": 2}, D(2023, 12, 31)),
        ({"year": 2024, "month": 2}, D(2024, 2, 29)),
        ({"year": 2023, "month": 2}, D(2023, 2, 28)),
        ({"year": 2100, "month": 2}, D(2100, 2, 28)),
        ({"year": 2000, "month": 2}, D(2000, 2, 29)),
    ],
)
def test_period_end(kwargs: dict[str, int], expected: datetime.date) -> None:
    assert period_end(**kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"year": 2022, "quarter": 5},
        {"year": 2022, "quarter": 0},
        {"year": 2022, "half": 3},
        {"year": 2022, "month": 13},
        {"year": 2022, "quarter": 1, "month": 3},
    ],
)
def test_period_end_rejects_impossible_periods(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        period_end(**kwargs)


@pytest.mark.parametrize(
    ("word", "month"),
    [
        ("қаңтарда", 1),
        ("ақпанға", 2),
        ("наурыздың", 3),
        ("сәуірге", 4),
        ("мамырда", 5),
        ("маусымға", 6),
        ("шілдеге", 7),
        ("тамызға", 8),
        ("қыркүйекке", 9),
        ("қазанға", 10),
        ("қарашаға", 11),
        ("желтоқсанға", 12),
    ],
)
def test_kazakh_inflected_months(word: str, month: int) -> None:
    assert parse_deadline(f"15 {word} 2023") == D(2023, month, 15)


@pytest.mark.parametrize("month", range(1, 13))
def test_russian_month_cases(month: int) -> None:
    nominative = get_month_names("wide", context="stand-alone", locale="ru")[month]
    genitive = get_month_names("wide", context="format", locale="ru")[month]
    last = period_end(2023, month=month)
    assert parse_deadline(f"{nominative} 2023") == last
    assert parse_deadline(f"{genitive} 2023 года") == last
    assert parse_deadline(f"10 {genitive} 2023 г.") == D(2023, month, 10)
    assert parse_deadline(f"10 {nominative} 2023 года") == D(2023, month, 10)
