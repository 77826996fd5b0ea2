"""Text normalisation for search: one folding rule used when storing and when querying.

SQLite's ``lower()`` folds only ASCII, so search never relies on the database to fold case:
``fold()`` is applied in Python to the stored ``search_text`` columns and to the query words,
and the database compares already-folded strings with ``LIKE``.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case-fold Russian, Kazakh and Latin text; ё→е; quotes and punctuation become spaces."""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def search_terms(query: str, *, limit: int = 6) -> list[str]:
    """Split a user's query into folded words worth searching for (at least 2 letters)."""
    return [w for w in fold(query).split(" ") if len(w) >= 2][:limit]


def like_escape(term: str) -> str:
    """Escape LIKE wildcards; use with ``escape='\\\\'``."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def truncate(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, ending with an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
