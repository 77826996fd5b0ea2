"""Text normalisation: one folding rule used when indexing and when querying.

SQLite's ``lower()`` folds only ASCII, so nothing relies on the database to fold case:
``fold()`` is applied in Python to the texts the search index is made of (``models/terms.py``)
and to the query's words, to the codes matched when a plan is imported, and to a question's
text before it is compared with others.
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


def like_escape(term: str) -> str:
    """Escape LIKE wildcards; use with ``escape='\\\\'``."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def truncate(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, ending with an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
