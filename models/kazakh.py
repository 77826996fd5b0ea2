"""Kazakh stems for search: a small suffix-stripping rule set (Snowball has no Kazakh stemmer).

A Kazakh noun is a stem followed by at most one ending of each kind, in this order::

    stem + plural + possessive + case        мектеп·тер·і·нің  "of their schools"

so the endings are taken off from the end of the word in the reverse order: one case ending,
then one possessive ending, then one plural ending, each only if at least ``MIN_STEM`` letters
are left. Among the endings of a kind the longest that fits is taken. The ``н``-forms of the
dative, locative and locative-adjective endings (``-на``, ``-нда``, ``-ндағы``) follow only a
third-person possessive (``ауданы·нда``), and those of the genitive and ablative only a vowel
or a nasal (``емхана·ның``, ``аудан·нан``): elsewhere the ``н`` is the stem's own
(``аудан·да``, ``емхана``). The accusative ``-ны/-ні`` is not taken off: after a vowel it
cannot be told from a stem's ``н`` and a possessive (``аудан·ы``), the more frequent reading.
A stem that ends in ``б``, ``ғ`` or ``г`` (voiced before a vowel: ``мектебі``) is written with
``п``, ``қ``, ``к``, as in its dictionary form.

The stems are for matching, not for display: the same function runs on the indexed text and on
the query, so «мектеп», «мектептің» and «мектебінің» all give ``мектеп``.
"""

from __future__ import annotations

MIN_STEM = 3
KAZAKH_LETTERS = frozenset("әғқңөұүһі")
VOWELS = frozenset("аәеиоөуұүыіэюяё")
_POSSESSIVE_3 = ("ы", "і")  # a third-person possessive ends the stem before an н-form ending

_CASES_ANY = (
    # genitive, dative, accusative, locative, ablative, instrumental, locative adjective
    "дың", "дің", "тың", "тің",
    "ға", "ге", "қа", "ке",
    "ды", "ді", "ты", "ті",
    "да", "де", "та", "те",
    "дан", "ден", "тан", "тен",
    "мен", "бен", "пен",
    "дағы", "дегі", "тағы", "тегі",
)  # fmt: skip
_CASES_AFTER_POSSESSIVE = ("на", "не", "нда", "нде", "ндағы", "ндегі")
_CASES_AFTER_VOWEL_OR_NASAL = ("ның", "нің", "нан", "нен")
_NASALS = frozenset("мнң")
_POSSESSIVES = (
    "ымыз", "іміз", "ыңыз", "іңіз", "мыз", "міз", "ңыз", "ңіз",
    "сы", "сі", "ым", "ім", "ың", "ің", "ы", "і",
)  # fmt: skip
_PLURALS = ("лар", "лер", "дар", "дер", "тар", "тер")
_DEVOICED = str.maketrans({"б": "п", "ғ": "қ", "г": "к"})


def _letters(word: str) -> int:
    return sum(1 for ch in word if ch.isalpha())


def _fits(word: str, suffix: str) -> bool:
    return word.endswith(suffix) and _letters(word[: -len(suffix)]) >= MIN_STEM


def _strip_case(word: str) -> str:
    found = ""
    for suffix in _CASES_ANY:
        if len(suffix) > len(found) and _fits(word, suffix):
            found = suffix
    for suffixes, before in (
        (_CASES_AFTER_POSSESSIVE, frozenset(_POSSESSIVE_3)),
        (_CASES_AFTER_VOWEL_OR_NASAL, VOWELS | _NASALS),
    ):
        for suffix in suffixes:
            fits = len(suffix) > len(found) and _fits(word, suffix)
            if fits and word[-len(suffix) - 1] in before:
                found = suffix
    return word[: -len(found)] if found else word


def _strip_longest(word: str, suffixes: tuple[str, ...]) -> str:
    for suffix in sorted(suffixes, key=len, reverse=True):
        if _fits(word, suffix):
            return word[: -len(suffix)]
    return word


def stem(word: str) -> str:
    """The stem of one lower-case Kazakh word (see the module's docstring)."""
    stemmed = _strip_case(word)
    stemmed = _strip_longest(stemmed, _POSSESSIVES)
    stemmed = _strip_longest(stemmed, _PLURALS)
    return stemmed[:-1] + stemmed[-1:].translate(_DEVOICED)


def is_kazakh(word: str) -> bool:
    """A word with a letter that Kazakh has and Russian has not."""
    return not KAZAKH_LETTERS.isdisjoint(word)
