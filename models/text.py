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


# C0 control characters (NUL included: PostgreSQL refuses it in text), DEL and the C1 block.
# Tab and line feed are kept; a carriage return becomes a line break.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without control characters; tab and newline stay (CR LF and CR become LF).

    This is the boundary every text a person sends passes before it is checked or stored:
    form answers (through :func:`check_text`), search queries, announcements and the cells of
    an imported plan."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def has_content(text: str) -> bool:
    """True when the text has at least one letter or digit: a text of zero-width or bidi
    characters, punctuation or emoji alone says nothing."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def visible_length(text: str) -> int:
    """How many characters of ``text`` take a place on the screen: format characters (zero-width
    spaces, bidi marks) and controls are not counted; spaces are."""
    return sum(1 for ch in text if unicodedata.category(ch) not in _UNSEEN)


def is_blank(text: str) -> bool:
    """True when nothing of ``text`` can be seen: only white space and format characters."""
    return all(ch.isspace() or unicodedata.category(ch) in _UNSEEN for ch in text)


_UNSEEN = frozenset({"Cc", "Cf", "Cs"})


class TextProblem(Enum):
    EMPTY = "empty"
    NO_LETTERS = "no_letters"  # something was typed, but not one letter or digit
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class TextRule:
    """What a form's free-text field accepts: ``minimum`` visible characters (at least one of
    them a letter or digit) to ``maximum`` characters, counted after cleaning (control
    characters removed, surrounding white space removed; with ``one_line``, every run of white
    space, line breaks included, becomes one space)."""

    maximum: int
    minimum: int = 1  # 0: the field may be left empty
    one_line: bool = False


def clean_text(raw: str, rule: TextRule) -> str:
    raw = strip_controls(raw)
    return " ".join(raw.split()) if rule.one_line else raw.strip()


def check_text(raw: str | None, rule: TextRule) -> tuple[str, TextProblem | None]:
    """The cleaned text and what is wrong with it (None: it may be saved as it is)."""
    text = clean_text(raw or "", rule)
    if is_blank(text):
        # Nothing that can be seen (zero-width or bidi characters only) is no text at all.
        return "", TextProblem.EMPTY if rule.minimum > 0 else None
    if rule.minimum > 0 and not has_content(text):
        return text, TextProblem.NO_LETTERS
    if visible_length(text) < rule.minimum:
        return text, TextProblem.TOO_SHORT
    if len(text) > rule.maximum:
        return text, TextProblem.TOO_LONG
    return text, None
