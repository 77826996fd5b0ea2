"""Text rules: folding for search, and the one check of what people type into forms.

SQLite's ``lower()`` folds only ASCII, so nothing relies on the database to fold case:
``fold()`` is applied in Python to the texts the search index is made of (``models/terms.py``)
and to the query's words, to the codes matched when a plan is imported, and to a question's
text before it is compared with others.

Every free-text answer of a form (a question, a comment, a reason, an announcement, a meeting's
place…) goes through :func:`check_text` with its field's :class:`TextRule`; ``bot.forms`` turns
the verdict into the answer the user reads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case-fold Russian, Kazakh and Latin text; ё→е; quotes and punctuation become spaces."""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def like_escape(term: str) -> str:
    """Escape LIKE wildcards; use with ``escape='\\\\'``."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def truncate(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, ending with an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


class TextProblem(Enum):
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class TextRule:
    """What a form's free-text field accepts: ``minimum`` to ``maximum`` characters, counted
    after cleaning (surrounding white space removed; with ``one_line``, every run of white
    space, line breaks included, becomes one space)."""

    maximum: int
    minimum: int = 1  # 0: the field may be left empty
    one_line: bool = False


def clean_text(raw: str, rule: TextRule) -> str:
    return " ".join(raw.split()) if rule.one_line else raw.strip()


def check_text(raw: str | None, rule: TextRule) -> tuple[str, TextProblem | None]:
    """The cleaned text and what is wrong with it (None: it may be saved as it is)."""
    text = clean_text(raw or "", rule)
    if not text:
        return text, TextProblem.EMPTY if rule.minimum > 0 else None
    if len(text) < rule.minimum:
        return text, TextProblem.TOO_SHORT
    if len(text) > rule.maximum:
        return text, TextProblem.TOO_LONG
    return text, None
