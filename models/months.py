"""Month names as officials write them in Russian (every case), Kazakh (and the stems its
suffixes attach to) and English (with abbreviations), each mapped to the month's number: the
tables :mod:`models.deadlines` reads deadlines with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "EN_NAMES",
    "KK_MONTH_STEMS",
    "MONTHS",
    "MONTHS_EN",
    "MONTHS_KK",
    "MONTHS_RU",
    "RU_ABBREVIATIONS",
]


_RU_NOMINATIVE: Final = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)


def _ru_forms(nominative: str) -> tuple[str, ...]:
    """All singular case forms of a Russian month name (январь -> января, январе, ...)."""
    if nominative[-1] in "ьй":
        stem = nominative[:-1]
        return (nominative, stem + "я", stem + "е", stem + "ю", stem + "ем")
    return (nominative, nominative + "а", nominative + "е", nominative + "у", nominative + "ом")


# Abbreviations used by Babel ("авг.", "сент.", "февр.") and by people ("фев", "ноя").
RU_ABBREVIATIONS: Final[Mapping[str, int]] = {
    "янв": 1,
    "фев": 2,
    "февр": 2,
    "мар": 3,
    "апр": 4,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "сент": 9,
    "окт": 10,
    "ноя": 11,
    "нояб": 11,
    "дек": 12,
}

#: Russian month names in every singular case (январь, января, январе, январю,
#: январем) plus abbreviations.  Keys have no trailing dot.
MONTHS_RU: Final[Mapping[str, int]] = {
    **{form: n for n, nom in enumerate(_RU_NOMINATIVE, 1) for form in _ru_forms(nom)},
    **RU_ABBREVIATIONS,
}

#: Kazakh month names (nominative).  Any inflected form (``тамызға``,
#: ``тамыздың``, ``желтоқсанға``, ``қыркүйегіне``) is accepted as well.
KK_MONTH_STEMS: Final[Mapping[str, int]] = {
    "қаңтар": 1,
    "ақпан": 2,
    "наурыз": 3,
    "сәуір": 4,
    "мамыр": 5,
    "маусым": 6,
    "шілде": 7,
    "тамыз": 8,
    "қыркүйек": 9,
    "қазан": 10,
    "қараша": 11,
    "желтоқсан": 12,
}

#: Kazakh month names and Babel's Kazakh abbreviations (``там.``, ``жел.`` ...).
MONTHS_KK: Final[Mapping[str, int]] = {
    **KK_MONTH_STEMS,
    "қаң": 1,
    "ақп": 2,
    "нау": 3,
    "сәу": 4,
    "мам": 5,
    "мау": 6,
    "шіл": 7,
    "там": 8,
    "қыр": 9,
    "қаз": 10,
    "қар": 11,
    "жел": 12,
}

EN_NAMES: Final = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

#: English month names and their usual abbreviations (``aug``, ``sept`` ...).
MONTHS_EN: Final[Mapping[str, int]] = {
    **{name: n for n, name in enumerate(EN_NAMES, 1)},
    **{name[:3]: n for n, name in enumerate(EN_NAMES, 1)},
    "sept": 9,
}

#: Every accepted month word (lower case, without a trailing dot) -> month number.
MONTHS: Final[Mapping[str, int]] = {**MONTHS_RU, **MONTHS_KK, **MONTHS_EN}
