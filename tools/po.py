"""Developer helper: write or extend an area's catalogs from a Python dict of translations.

    python tools/po.py AREA FILE.json

FILE.json maps each English msgid to {"ru": "...", "kk": "...", "en": "..."} (``en`` defaults to
the msgid; a plural message maps to lists of forms and has "plural": "...")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent / "locales"


def update(area: str, entries: dict[str, dict[str, object]]) -> None:
    for locale in ("ru", "kk", "en"):
        path = ROOT / locale / "LC_MESSAGES" / f"{area}.po"
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="Kezdesu", fuzzy=False)
        for msgid, tr in entries.items():
            plural = tr.get("plural")
            value = tr.get(locale, msgid if plural is None else [msgid, plural])
            if plural is not None:
                catalog.add((msgid, str(plural)), tuple(value))  # type: ignore[arg-type]
            else:
                catalog.add(msgid, str(value))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=False)


if __name__ == "__main__":
    update(sys.argv[1], json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
