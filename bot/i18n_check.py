"""Finding messages the catalogs lack: used by the test suite and ``kezdesu i18n-check``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords

from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES, read_catalogs

ROOT = LOCALES_DIR.parent
# The same as ``pybabel extract -k _:1,1t -k _:1,2 -k __:1,1t -k __:1,2 -k N_``: ``_`` and ``__``
# take one message, or singular, plural and n (aiogram's ``gettext`` does both).
KEYWORD_SPECS = parse_keywords(["_:1,1t", "_:1,2", "__:1,1t", "__:1,2", "N_"])
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")
# A district in a sentence takes the grammatical form the language needs (models/reference.py):
# ``{district}`` in the msgid may be ``{district_gen}`` in a translation, and so on.
DISTRICT_FORM = re.compile(r"\{district_(?:gen|dat|acc|ins|loc|abl)\}")
TAG = re.compile(r"</?[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Problem:
    locale: str
    msgid: str
    reason: str
    where: str

    def __str__(self) -> str:
        return f"[{self.locale}] {self.reason}: {self.msgid!r} ({self.where})"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(DISTRICT_FORM.sub("{district}", text)))


def extracted_messages() -> dict[str, tuple[str | None, str]]:
    """msgid → (plural msgid or None, first source location) for every message in the code."""
    found: dict[str, tuple[str | None, str]] = {}
    method_map = [
        (f"{area}/**.py", "python")
        for area in ("bot", "documents", "handlers", "models", "scheduler", "web")
    ]
    method_map.append(("web/templates/**.html", "jinja2"))
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORD_SPECS
    ):
        if ".venv" in filename:
            continue
        if isinstance(message, tuple):
            singular, plural = message[0], message[1] if len(message) > 1 else None
        else:
            singular, plural = message, None
        if singular:
            found.setdefault(singular, (plural, f"{filename}:{lineno}"))
    return found


def find_problems(path: Path = LOCALES_DIR) -> list[Problem]:
    problems: list[Problem] = []
    messages = extracted_messages()
    for locale in SUPPORTED_LOCALES:
        translations: dict[str, tuple[object, str]] = {}
        for po_path, catalog in read_catalogs(locale, path):
            for message in catalog:
                if not message.id:
                    continue
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                where = f"{po_path.relative_to(ROOT)}"
                if message.fuzzy:
                    problems.append(Problem(locale, msgid, "fuzzy translation", where))
                    continue
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if not all(strings):
                    problems.append(Problem(locale, msgid, "empty translation", where))
                    continue
                if msgid in translations and translations[msgid][0] != message.string:
                    problems.append(Problem(locale, msgid, "translated differently twice", where))
                translations[msgid] = (message.string, where)
                for string in strings:
                    if placeholders(msgid) != placeholders(str(string)):
                        problems.append(Problem(locale, msgid, "placeholders differ", where))
                    if sorted(TAG.findall(msgid)) != sorted(TAG.findall(str(string))):
                        problems.append(Problem(locale, msgid, "HTML tags differ", where))
        for msgid, (_plural, where) in messages.items():
            if msgid not in translations:
                problems.append(Problem(locale, msgid, "missing", where))
        for msgid, (_string, where) in translations.items():
            if msgid not in messages:
                problems.append(Problem(locale, msgid, "no longer used by the code", where))
    return problems
