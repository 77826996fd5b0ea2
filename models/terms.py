"""Words → search terms: the stems that the search index stores and that queries look up.

A text is folded (:func:`models.text.fold`) and cut into words: runs of letters, and runs of
digits (``№16`` gives ``16``). Each word gives one or two terms, by its script:

- Latin: the English Snowball stem (``lighting`` → ``light``);
- Cyrillic with a letter only Kazakh has (``ә ғ қ ң ө ұ ү һ і``): the Kazakh stem of
  :mod:`models.kazakh` (``мектептің`` → ``мектеп``);
- other Cyrillic: the Russian Snowball stem, and the Kazakh stem too when it differs (Kazakh
  written without its own letters: ``мектепке``);
- digits: the number as written, without leading zeros.

Words of up to three letters are kept whole (``уо``, ``укс``, ``сад``), and a Snowball stem
shorter than that gives way to the word (``уэив``, not ``уэ``).

Cyrillic stems then lose their final vowels, ``й`` and ``ь`` (down to three letters), so that
the Snowball stems of one Russian noun agree: ``мавзолей`` → ``мавзол`` and ``мавзолея`` →
``мавзоле`` both give ``мавзол``. Stop words (prepositions, conjunctions) give no term. The same
functions run on the indexed text and on the query, so a word finds its other forms. A single
letter gives no term (a single digit does: «сад №7»).

Typos are handled on whole words: :func:`similarity` is the trigram similarity of PostgreSQL's
``pg_trgm`` (shared trigrams of the words padded with two spaces before and one after, over all
trigrams of both), computed here so that both databases rank alike.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import Stemmer

from models import kazakh
from models.text import fold

MAX_QUERY_WORDS = 6
MAX_WORD = 40  # longer "words" are noise (a pasted link, a run of letters)
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")
_TRIM = frozenset("аеиоуыэюяйьъәіөұүё")
_MIN_TRIMMED = 3
_SHORT = 3  # words this short are kept whole (УО, УКС, сад), and no stem is shorter

STOP_WORDS = frozenset(
    (
        # Russian
        "а", "без", "в", "во", "да", "для", "до", "же", "за", "и", "из", "или", "к", "ко", "ли",
        "на", "над", "не", "ни", "но", "о", "об", "обо", "от", "по", "под", "при", "про", "с",
        "со", "у", "что", "как", "это", "то", "так",
        # Kazakh
        "және", "мен", "бен", "пен", "де", "та", "те", "үшін", "әрі", "немесе", "бойынша",
        "туралы",
        # English
        "a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with",
    )
)  # fmt: skip


class _Stemmers(threading.local):
    """PyStemmer's stemmers keep a cache and are not shared between threads."""

    def __init__(self) -> None:
        self.russian = Stemmer.Stemmer("russian")
        self.english = Stemmer.Stemmer("english")


_stemmers = _Stemmers()


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and runs of digits."""
    return [w for w in _TOKEN.findall(fold(text)) if len(w) <= MAX_WORD]


def _trim(stem: str) -> str:
    while len(stem) > _MIN_TRIMMED and stem[-1] in _TRIM:
        stem = stem[:-1]
    return stem


def _stemmed(stemmer: Stemmer.Stemmer, word: str) -> str:
    stem: str = stemmer.stemWord(word)
    return stem if len(stem) >= _SHORT else word


def word_terms(word: str) -> tuple[str, ...]:
    """The terms of one folded word (none for a stop word): see the module's docstring."""
    if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
        return ()
    if word.isdigit():
        return (word.lstrip("0") or "0",)
    if len(word) <= _SHORT:
        return (word,)
    if not _CYRILLIC.search(word):
        return (_stemmed(_stemmers.english, word),)
    if kazakh.is_kazakh(word):
        return (_trim(kazakh.stem(word)),)
    russian = _trim(_stemmed(_stemmers.russian, word))
    other = _trim(kazakh.stem(word))
    return (russian,) if other == russian else (russian, other)


def text_terms(texts: Iterable[str]) -> set[str]:
    """Every term of the given texts."""
    found: set[str] = set()
    for text in texts:
        for word in words(text):
            found.update(word_terms(word))
    return found


def text_words(texts: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Each (word, term) of the given texts, for the vocabulary of typo correction."""
    for text in texts:
        for word in words(text):
            for term in word_terms(word):
                yield word, term


@dataclass(frozen=True)
class QueryWord:
    """A word of the query and the terms that count as a match for it."""

    word: str
    terms: tuple[str, ...]


def query_words(query: str, *, limit: int = MAX_QUERY_WORDS) -> list[QueryWord]:
    """The words of a query worth looking up (those with terms); the same word twice counts
    once."""
    found: dict[str, QueryWord] = {}
    for word in words(query):
        if word in found:
            continue
        terms = word_terms(word)
        if terms:
            found[word] = QueryWord(word, terms)
        if len(found) == limit:
            break
    return list(found.values())


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def inner_trigrams(word: str) -> list[str]:
    """The trigrams inside the word (no padding), in order and once each: what the database's
    trigram index is asked for (``LIKE '%abc%'``)."""
    return list(dict.fromkeys(word[i : i + 3] for i in range(len(word) - 2)))


def similarity(a: str, b: str) -> float:
    """Trigram similarity of two words, 0…1, as ``pg_trgm``'s ``similarity()``."""
    first, second = trigrams(a), trigrams(b)
    union = len(first | second)
    return len(first & second) / union if union else 0.0
