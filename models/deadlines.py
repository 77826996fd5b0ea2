"""Turn the "Срок исполнения" cell of an action plan into a due date.

Officials write deadlines in Russian, Kazakh or English, as exact dates
(``31 августа 2022 года``, ``31.08.2022``), as periods (``4 квартал 2022 года``,
``2023 жылдың 1-жартыжылдығы``, ``Q4 2022``), as ranges (``2022-2023 годы``) or
relative to the meeting (``до конца текущего года``).  :func:`parse_deadline`
reduces all of these to one :class:`datetime.date`:

* a period means its **last** day (``2022 год`` -> 2022-12-31);
* a range means the end of the range, and a cell with several dates means the
  latest of them;
* an impossible date (``31.09.2022``, ``5 квартал 2022``) is no date and is
  never rolled over;
* a quarter, half-year or month that cannot be read (``V квартал 2023``,
  ``13-й месяц``, ``2023-13``) makes the whole cell **unreadable**: no date at all,
  never the year's end in its place (:func:`read_deadline` tells the caller,
  so the import preview can warn);
* Roman numerals may be written with the Cyrillic letter ``І`` (U+0406, as in
  Kazakh and Ukrainian), also mixed with Latin ``I``/``V``: ``ІІІ квартал``,
  ``ІV тоқсан``; an ISO month ``2023-09`` is its last day;
* phrases that depend on the meeting date (``текущий год``, ``до 1 сентября``)
  are resolved against ``reference`` and give ``None`` without it.

The module is pure standard library on purpose: it is used by importers,
handlers and tests alike.

How it works: the text is normalised (lower case, ``ё`` -> ``е``, Kazakh letters
folded to their Russian look-alikes so ``токсан`` and ``тоқсан`` read the same,
dashes, quotes and exotic spaces unified).  Relative phrases are then rewritten
into explicit years when a reference date is known.  A fixed list of regexes is
applied from the most specific (full numeric dates) to the least specific (a
bare year); every match is blanked out of the text so that its pieces are not
read again by a later, vaguer rule.  Pieces without a year (``1 сентября``,
``июль`` in ``июль-август 2022``) borrow the nearest year written in the cell,
else the reference year.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from models.months import EN_NAMES, KK_MONTH_STEMS, MONTHS, MONTHS_EN, MONTHS_RU, RU_ABBREVIATIONS

__all__ = [
    "MONTHS",
    "DeadlineReading",
    "parse_deadline",
    "period_end",
    "read_deadline",
]

# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #

# Kazakh-specific letters -> the Russian letters people type instead of them.
_KK_FOLD: Final = str.maketrans("әғқңөұүһі", "агкноуухи")
_DASHES: Final = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_QUOTES: Final = re.compile(r"[\"'`«»“”„‟‘’‚‛‹›]")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f\u200b-\u200d\ufeff]")
_SPACES: Final = re.compile(r"\s+")

#: Replaces spans already read; not a word, digit, space, dash or dot, so no
#: pattern can match across it.
_BLANK: Final = "\x00"


def _fold(text: str) -> str:
    """Lower-case, ``ё`` -> ``е`` and Kazakh letters -> Russian look-alikes."""
    return text.lower().replace("ё", "е").translate(_KK_FOLD)


# A Roman numeral written (partly) with the Cyrillic letter І/і (U+0406/U+0456), which Kazakh
# and Ukrainian texts use for I: ІІІ, ІV, Іі.  Read before folding, which would turn і into и.
_CYRILLIC_ROMAN: Final = re.compile(r"(?<!\w)[IVXivxІі]*[Іі][IVXivxІі]*(?!\w)")
_TO_LATIN: Final = str.maketrans("Іі", "Ii")


def _normalise(text: str) -> str:
    text = _CYRILLIC_ROMAN.sub(lambda m: m.group().translate(_TO_LATIN), text)
    text = _CONTROL.sub(" ", _fold(text))
    text = _DASHES.sub("-", text)
    text = _QUOTES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


# --------------------------------------------------------------------------- #
# Building blocks of the patterns (all written for normalised text)
# --------------------------------------------------------------------------- #

_EXACT_MONTHS: Final[dict[str, int]] = {_fold(word): n for word, n in MONTHS.items()}
# Stems of the Kazakh names: a final к/қ/п voices before a vowel suffix
# (қыркүйек -> қыркүйегіне), so it is left out of the stem.
_KK_STEMS: Final[dict[str, int]] = {
    _fold(word[:-1] if word[-1] in "кқп" else word): n for word, n in KK_MONTH_STEMS.items()
}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# Any month word: exact forms, or a Kazakh stem with any suffix (тамызга, тамыздын).
_MONTH: Final = (
    r"(?<!\w)(?P<mon>"
    + "|".join(rf"{re.escape(stem)}\w*" for stem in _KK_STEMS)
    + "|"
    + _alternation(list(_EXACT_MONTHS))
    + r")(?!\w)\.?"
)
# Full month names only (no abbreviations, no English "may"/"march" which are
# ordinary words), for months written without a day or a year.
_BARE_MONTH: Final = (
    r"(?<!\w)(?P<mon>"
    + "|".join(rf"{re.escape(stem)}\w*" for stem in _KK_STEMS)
    + "|"
    + _alternation(
        [w for w in MONTHS_RU if w not in RU_ABBREVIATIONS]
        + [w for w in EN_NAMES if w not in {"may", "march"}]
    )
    + r")(?!\w)"
)
_EN_MONTH: Final = r"(?<!\w)(?P<mon>" + _alternation(list(MONTHS_EN)) + r")(?!\w)\.?"

# A four-digit year 1900-2099.
_YEAR: Final = r"(?<!\d)(?P<y>(?:19|20)\d\d)(?!\d)"
# Optional word after a year: г. гг. год года годы году / ж. жж. жыл жылы жылгы / year.
_YEAR_WORD: Final = r"(?:\s*(?:год\w*|гг|г|жыл\w*|жж|ж|years?|yr)(?!\w)\.?)?"
# Kazakh year word, which puts the year *first*: "2022 жылдын 4-токсаны", "2022 ж. 31 тамыз".
_KK_YEAR_WORD: Final = r"(?:жыл\w*|ж(?!\w)\.?)"
# Day of month with optional ordinal suffix: 1, 01, 1-го, 1st, 31-ши.
_DAY: Final = r"(?<![\d.])(?P<d>\d{1,2})(?!\d)(?:\s*-?\s*(?:го|е|ое|ши|шы|st|nd|rd|th)(?!\w))?"


def _ordinal(name: str) -> str:
    """Number of a quarter / half: 4, 4-й, IV, четвертый, тортинши, fourth, 4th."""
    return (
        rf"(?<!\w)(?P<{name}>\d{{1,2}}(?!\d)|[ivx]+"
        r"|перв\w*|втор\w*|трет\w*|четверт\w*"
        r"|бирин\w*|екин\w*|ушин\w*|тортин\w*"
        r"|first|second|third|fourth)"
        r"(?:\s*-?\s*(?:й|ый|ий|ой|го|ого|его|м|ом|ем|е|ая|ое|ые|ши|шы|st|nd|rd|th)(?!\w))?"
    )


# "4 квартал", "3-4 квартал", "III-IV кварталы", "4-токсаны", "1 полугодие", "first half".
_PERIOD: Final = (
    _ordinal("n1")
    + r"(?:\s*(?:-|и|,|/|and|&)\s*"
    + _ordinal("n2")
    + r")?[\s-]*(?<!\w)(?:(?P<quarter>квартал\w*|кв\.?|токсан\w*|quarters?)"
    r"|(?P<half>полугод\w*|жартыжыл\w*|жарты\s+жыл\w*|half(?:[\s-]+year)?|semester))(?!\w)"
)
# "Q4", "Q3-Q4", "H1", "4Q", "1H".
_QH: Final = (
    r"(?<!\w)(?:(?P<kind>[qh])\s*(?P<n1>\d{1,2})(?:\s*-\s*[qh]?\s*(?P<n2>\d{1,2}))?"
    r"|(?P<n1b>\d)(?P<kindb>[qh]))(?!\w)"
)

_ROMAN: Final[dict[str, int]] = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
}
_ORDINAL_WORDS: Final[dict[str, int]] = {
    "перв": 1,
    "втор": 2,
    "трет": 3,
    "четверт": 4,
    "бирин": 1,
    "екин": 2,
    "ушин": 3,
    "тортин": 4,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
}

# --------------------------------------------------------------------------- #
# Public helpers
# --------------------------------------------------------------------------- #


def period_end(
    year: int, quarter: int | None = None, half: int | None = None, month: int | None = None
) -> datetime.date:
    """Last day of a year, or of one of its quarters, halves or months.

    >>> period_end(2023, quarter=3)
    datetime.date(2023, 9, 30)
    >>> period_end(2024, month=2)
    datetime.date(2024, 2, 29)

    Raises :class:`ValueError` for an impossible period (``quarter=5``) or when
    more than one of ``quarter``, ``half`` and ``month`` is given.
    """
    given = [p for p in (quarter, half, month) if p is not None]
    if len(given) > 1:
        raise ValueError("give at most one of quarter, half and month")
    if quarter is not None:
        if not 1 <= quarter <= 4:
            raise ValueError(f"no quarter {quarter}")
        last_month = quarter * 3
    elif half is not None:
        if not 1 <= half <= 2:
            raise ValueError(f"no half-year {half}")
        last_month = half * 6
    elif month is not None:
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month}")
        last_month = month
    else:
        last_month = 12
    return datetime.date(year, last_month, calendar.monthrange(year, last_month)[1])


# --------------------------------------------------------------------------- #
# Small converters used by the rule handlers
# --------------------------------------------------------------------------- #


def _month_number(word: str) -> int:
    word = word.rstrip(".")
    if word in _EXACT_MONTHS:
        return _EXACT_MONTHS[word]
    for stem, number in _KK_STEMS.items():
        if word.startswith(stem):
            return number
    raise ValueError(f"not a month: {word!r}")  # unreachable: the regex only matches months


def _ordinal_value(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token in _ROMAN:
        return _ROMAN[token]
    for prefix, number in _ORDINAL_WORDS.items():
        if token.startswith(prefix):
            return number
    raise ValueError(f"not an ordinal: {token!r}")


def _date(year: int, month: int, day: int) -> datetime.date | None:
    """The date, or ``None`` when it does not exist (never rolled over)."""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _period(year: int, **part: int | None) -> datetime.date | None:
    try:
        return period_end(year, **part)
    except ValueError:
        return None


def _period_of_match(m: re.Match[str], year: int) -> datetime.date | None:
    """End of the quarter(s) / half(s) matched by :data:`_PERIOD` or :data:`_QH`."""
    groups = m.groupdict()
    kind = groups.get("kind") or groups.get("kindb")
    first = groups.get("n1") or groups.get("n1b")
    if kind is None:
        kind = "q" if groups.get("quarter") else "h"
    assert first is not None
    try:
        numbers = [_ordinal_value(first)]
        if groups.get("n2"):
            numbers.append(_ordinal_value(groups["n2"]))
    except ValueError:
        return None
    limit = 4 if kind == "q" else 2
    if any(not 1 <= n <= limit for n in numbers):
        return None
    if kind == "q":
        return period_end(year, quarter=max(numbers))
    return period_end(year, half=max(numbers))


# --------------------------------------------------------------------------- #
# Rules.  Complete rules carry their own year; partial rules need one lent.
# --------------------------------------------------------------------------- #

_CompleteHandler = Callable[[re.Match[str]], datetime.date | None]
_PartialHandler = Callable[[re.Match[str], int], datetime.date | None]


def _h_iso(m: re.Match[str]) -> datetime.date | None:
    return _date(int(m["y"]), int(m["m"]), int(m["d"]))


def _h_numeric(m: re.Match[str]) -> datetime.date | None:
    """31.08.2022, 31.08.22, 31-08-2022, 31/08/2022 (D/M/Y) and 8/31/22 (US M/D/YY)."""
    first, second, year_text = int(m["a"]), int(m["b"]), m["y"]
    year = int(year_text) if len(year_text) == 4 else 2000 + int(year_text)
    day, month = first, second
    if m["sep"] == "/":
        if len(year_text) == 2:  # Babel's English short format: M/d/yy
            day, month = second, first
        # A slash date that is impossible one way but possible the other way
        # is unambiguous (13/01/22, 8/31/2022): read it the possible way.
        if month > 12 and day <= 12:
            day, month = month, day
    return _date(year, month, day)


def _h_day_month_year(m: re.Match[str]) -> datetime.date | None:
    return _date(int(m["y"]), _month_number(m["mon"]), int(m["d"]))


def _h_month_year(m: re.Match[str]) -> datetime.date | None:
    return _period(int(m["y"]), month=_month_number(m["mon"]))


def _h_numeric_month_year(m: re.Match[str]) -> datetime.date | None:
    return _period(int(m["y"]), month=int(m["m"]))


def _h_iso_month(m: re.Match[str]) -> datetime.date | None:
    """2023-09 -> 2023-09-30; 2023-13 is no month."""
    return _period(int(m["y"]), month=int(m["m"]))


def _h_period_year(m: re.Match[str]) -> datetime.date | None:
    return _period_of_match(m, int(m["y"]))


def _h_year_range_short(m: re.Match[str]) -> datetime.date | None:
    """2022-23 гг. -> 2023-12-31."""
    start = int(m["y"])
    end = start // 100 * 100 + int(m["yy"])
    return period_end(end) if end > start else None


def _p_day_month(m: re.Match[str], year: int) -> datetime.date | None:
    return _date(year, _month_number(m["mon"]), int(m["d"]))


def _p_month(m: re.Match[str], year: int) -> datetime.date | None:
    return _period(year, month=_month_number(m["mon"]))


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


#: Rules with an explicit year, most specific first.  Each match is blanked out
#: of the text before the next rule runs.
_COMPLETE_RULES: Final[tuple[tuple[re.Pattern[str], _CompleteHandler], ...]] = (
    # ISO-like, year first: 2022-08-31, 2022.08.31, 2022/08/31.
    (_c(r"(?<!\d)(?P<y>\d{4})([-./])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?!\d)"), _h_iso),
    # Numeric, day first: 31.08.2022, 31.08.22, 31-08-2022, 31/08/2022, 8/31/22.
    (
        _c(
            r"(?<![\d./])(?P<a>\d{1,2})(?P<sep>[-./])(?P<b>\d{1,2})(?P=sep)"
            r"(?P<y>\d{4}|\d\d)(?!\d)"
        ),
        _h_numeric,
    ),
    # Kazakh, year first with a Kazakh year word: "2022 ж. 31 тамыз", "2022 жылгы 31 тамыз",
    # "2022 жылдын 4-токсаны", "2023 жылдын 1-жартыжылдыгы", "2022 жылгы тамыз".
    # Tried before the Russian order so "2022 жылдын 4-токсаны, 2023 жылдын ..."
    # is not read as "4 токсан 2023".
    (_c(_YEAR + r"\s*" + _KK_YEAR_WORD + r"\s*" + _DAY + r"\s*" + _MONTH), _h_day_month_year),
    (_c(_YEAR + r"\s*жыл\w*\s+" + _PERIOD), _h_period_year),
    (_c(_YEAR + r"\s*жыл\w*\s+" + _MONTH), _h_month_year),
    # Day, month, year: "31 августа 2022", "31 авг. 2022 г.", "1st of September 2022".
    (
        _c(_DAY + r"\s*(?:of\s+)?" + _MONTH + r"[\s,]*(?:of\s+)?" + _YEAR),
        _h_day_month_year,
    ),
    # Month, day, year: "August 31, 2022", "Aug 31, 2022".
    (_c(_MONTH + r"\s*" + _DAY + r"[\s,]+" + _YEAR), _h_day_month_year),
    # Quarter / half, then year: "4 квартал 2022", "IV кв. 2022 г.", "3-4 квартал 2022",
    # "1 полугодие 2023", "first half of 2023", "4th quarter of 2022".
    (_c(_PERIOD + r"[\s,]*(?:of\s+|года\s+)?" + _YEAR), _h_period_year),
    # "Q4 2022", "H1 2023", "Q3-Q4 2022", "4Q 2022".
    (_c(_QH + r"[\s,'-]*(?:of\s+)?" + _YEAR), _h_period_year),
    # Year first, any language: "2022 г. IV квартал", "2022 Q4", "2023 H1".
    (_c(_YEAR + _YEAR_WORD + r"[\s,:-]*" + _PERIOD), _h_period_year),
    (_c(_YEAR + _YEAR_WORD + r"[\s,:-]*" + _QH), _h_period_year),
    # Month and year: "август 2022", "в августе 2022 года", "December 2022", "желтоксан 2022".
    (_c(_MONTH + r"[\s,]*(?:of\s+)?" + _YEAR), _h_month_year),
    # Numeric month and year: "08.2022", "8/2022".
    (_c(r"(?<![\d./])(?P<m>\d{1,2})[./](?P<y>(?:19|20)\d\d)(?!\d)"), _h_numeric_month_year),
    # Year, then month: "2022 г. август".
    (_c(_YEAR + _YEAR_WORD + r"[\s,]*" + _MONTH), _h_month_year),
    # Abbreviated year range: "2022-23 гг." (full ranges are just two years).
    (
        _c(_YEAR + r"\s*-\s*(?P<yy>\d\d)(?!\d)(?=\s*(?:г|ж|y))"),
        _h_year_range_short,
    ),
    # ISO month: "2023-09" (after the abbreviated range, so "2022-23 гг." stays a range).
    (_c(r"(?<![\d./-])(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)(?![\d./-])"), _h_iso_month),
)

#: Rules without a year; the year is lent by the text or the reference date.
_PARTIAL_RULES: Final[tuple[tuple[re.Pattern[str], _PartialHandler], ...]] = (
    # "1 сентября", "31 тамызга", "1st of September".
    (_c(_DAY + r"\s*(?:of\s+)?" + _MONTH), _p_day_month),
    # "September 1" (English only: "июль 1 этап" is not a date).
    (_c(_EN_MONTH + r"\s*" + _DAY), _p_day_month),
    # "4 квартал", "1 полугодие", "Q4", "H2".
    (_c(_PERIOD), _period_of_match),
    (_c(_QH), _period_of_match),
    # A month alone: "июль" in "июль-август 2022", "до конца августа".
    (_c(_BARE_MONTH), _p_month),
)

#: A year standing alone: "2022 год", "2022-2023 годы" (each year is read).
_STANDALONE_YEAR: Final = _c(_YEAR)

# --------------------------------------------------------------------------- #
# Relative phrases, rewritten into explicit dates when a reference is known
# --------------------------------------------------------------------------- #

#: (pattern, offset in years).  The qualifier ("текущего", "агымдагы", "this") is
#: replaced by the reference year (plus the offset); the year word that follows
#: is kept, and so is the optional group ``keep`` ("конца" in "до конца года").
_RELATIVE_YEARS: Final[tuple[tuple[re.Pattern[str], int], ...]] = (
    # "текущего года", "в текущем году", "этого года", "сего года", "агымдагы жылдын",
    # "this year", "the current year".
    (
        _c(
            r"(?<!\w)(?:текущ\w*|нынешн\w*|этого|этом|сего|данного|данном)\s+(?=год)"
            r"|(?<!\w)(?:агымдагы|осы|биылгы)\s+(?=жыл)"
            r"|(?<!\w)(?:this|the\s+current|current)\s+(?=year(?!\w))"
        ),
        0,
    ),
    # "следующего года", "в следующем году", "келеси жылы", "next year".
    (
        _c(
            r"(?<!\w)(?:следующ\w*|будущ\w*|предстоящ\w*)\s+(?=год)"
            r"|(?<!\w)келеси\s+(?=жыл)"
            r"|(?<!\w)(?:the\s+)?next\s+(?=year(?!\w))"
        ),
        1,
    ),
    # A bare "года" after "конец": "до конца года", "в конце года".
    (_c(r"(?<!\w)(?P<keep>конц\w*|конец)\s+(?=год\w*(?!\s*\d))"), 0),
    # Kazakh "жыл сонына дейин", "жылдын сонына" with no year in front.
    (_c(r"(?<!\d)(?<!\d\s)(?<!\w)(?=жыл\w*\s+сон)"), 0),
    # English "end of the year", "by year end".
    (_c(r"(?<!\w)(?P<keep>end\s+of)\s+(?:the\s+)?(?=year(?!\w)(?!\s*\d))"), 0),
    (_c(r"(?<!\w)(?:by\s+)?(?=year[\s-]end)"), 0),
    # Kazakh "биыл" (this year) -> "<year> жылы".
    (_c(r"(?<!\w)биыл(?!\w)"), 0),
)

#: "текущего квартала", "текущего месяца" and their Kazakh / English twins.
_RELATIVE_QUARTER: Final = _c(
    r"(?<!\w)(?:(?:текущ\w*|этого|этом|данного)\s+квартал\w*"
    r"|агымдагы\s+токсан\w*|(?:this|the\s+current|current)\s+quarter)(?!\w)"
)
_RELATIVE_MONTH: Final = _c(
    r"(?<!\w)(?:(?:текущ\w*|этого|этом|данного)\s+месяц\w*"
    r"|агымдагы\s+ай\w*|(?:this|the\s+current|current)\s+month)(?!\w)"
)


def _resolve_relative(text: str, reference: datetime.date) -> str:
    """Rewrite phrases relative to the meeting date into explicit dates and years."""
    quarter = (reference.month - 1) // 3 + 1
    quarter_end = period_end(reference.year, quarter=quarter).isoformat()
    month_end = period_end(reference.year, month=reference.month).isoformat()
    text = _RELATIVE_QUARTER.sub(f" {quarter_end} ", text)
    text = _RELATIVE_MONTH.sub(f" {month_end} ", text)
    for pattern, offset in _RELATIVE_YEARS:
        year = reference.year + offset

        def replace(m: re.Match[str], year: int = year) -> str:
            if m.group().startswith("биыл"):
                return f"{year} жылы"
            keep = m.groupdict().get("keep")
            return f"{keep} {year} " if keep else f"{year} "

        text = pattern.sub(replace, text)
    return text


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    date: datetime.date | None


@dataclass(frozen=True, slots=True)
class DeadlineReading:
    """What a "Срок исполнения" cell says.

    ``date`` is the due date or ``None``; ``unreadable`` is true when the cell names a quarter,
    half-year or month that cannot be read (``V квартал 2023``, ``13-й месяц``, ``2023-13``):
    then ``date`` is ``None`` rather than a guess such as the year's end.
    """

    date: datetime.date | None
    unreadable: bool = False


#: Handlers that read a quarter, a half-year or a month: when they find none, the cell is
#: unreadable (an impossible day such as ``31.09.2022`` is merely no date).
_PERIOD_HANDLERS: Final[frozenset[object]] = frozenset(
    {
        _h_month_year,
        _h_numeric_month_year,
        _h_iso_month,
        _h_period_year,
        _period_of_match,
        _p_month,
    }
)

#: A quarter, half-year or month word left over once every rule has read what it could
#: ("ІХ квартал", "ІХ кв.", "13-й месяц", "третий месяц 2023"): the cell names a period nobody
#: can read.  "тоқсан күн" is "ninety days" and "кв. м" square metres, not quarters.
_LEFTOVER_PERIOD: Final = _c(
    r"(?<!\w)(?:квартал\w*|кв(?!\w)(?!\.?\s*м(?!\w))|токсан(?!\s+кун)\w*|полугод\w*|жартыжыл\w*|жарты\s+жыл\w*"
    r"|месяц\w*|quarters?|half(?:[\s-]+year)?|semester|months?)(?!\w)"
)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + _BLANK * (end - start) + text[end:]


def parse_deadline(text: str, reference: datetime.date | None = None) -> datetime.date | None:
    """Due date written in a "Срок исполнения" cell, or ``None`` if there is none.

    ``reference`` is the meeting date; it resolves phrases such as
    ``до конца текущего года``, ``в следующем году`` or ``до 1 сентября`` (no
    year), which give ``None`` without it.  Periods resolve to their last day,
    ranges to their end, and a cell with several dates to the latest one; a cell with a
    quarter, half-year or month that cannot be read gives ``None`` (see :func:`read_deadline`).
    """
    return read_deadline(text, reference).date


def read_deadline(text: str, reference: datetime.date | None = None) -> DeadlineReading:
    """:func:`parse_deadline` telling, besides the date, whether the cell is unreadable."""
    if not text or not text.strip():
        return DeadlineReading(None)
    normal = _normalise(text)
    if reference is not None:
        normal = _resolve_relative(normal, reference)

    found: list[_Found] = []
    unreadable = False
    work = normal
    for pattern, handler in _COMPLETE_RULES:
        for m in list(pattern.finditer(work)):
            day = handler(m)
            unreadable |= day is None and handler in _PERIOD_HANDLERS
            found.append(_Found(m.start(), m.end(), day))
            work = _blank(work, m.start(), m.end())

    partial: list[tuple[re.Match[str], _PartialHandler]] = []
    for pattern, partial_handler in _PARTIAL_RULES:
        for m in list(pattern.finditer(work)):
            partial.append((m, partial_handler))
            work = _blank(work, m.start(), m.end())
    unreadable |= _LEFTOVER_PERIOD.search(work) is not None

    standalone = {m.start(): int(m["y"]) for m in _STANDALONE_YEAR.finditer(work)}
    # Every year written in the cell, wherever it is, can be lent to a partial date.
    years = [(m.start(), m.end(), int(m["y"])) for m in _STANDALONE_YEAR.finditer(normal)]
    lenders: set[int] = set()
    for m, partial_handler in partial:
        after = [y for y in years if y[0] >= m.end()]
        before = [y for y in years if y[1] <= m.start()]
        if after:
            lender = after[0]
        elif before:
            lender = before[-1]
        elif reference is not None:
            lender = (m.start(), m.end(), reference.year)
        else:
            continue
        if lender[:2] != (m.start(), m.end()):
            lenders.add(lender[0])
        day = partial_handler(m, lender[2])
        unreadable |= day is None and partial_handler in _PERIOD_HANDLERS
        found.append(_Found(m.start(), m.end(), day))

    # A bare year that only qualified a partial date ("до 1 сентября, 2023 год")
    # is not a deadline of its own.
    for start, year in standalone.items():
        if start not in lenders:
            found.append(_Found(start, start + 4, period_end(year)))

    if unreadable:
        return DeadlineReading(None, unreadable=True)
    dates = [f.date for f in found if f.date is not None]
    return DeadlineReading(max(dates) if dates else None)
