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


# --- wording checks: patterns that read wrong even when every message is translated -----------

WORD = re.compile(r"[^\W\d_]+")
# Kazakh puts case endings and postpositions on the word before them, and the ending depends on
# that word's last sound, so a placeholder (a date, a number, a name) must not stand right before
# a postposition that needs a case ending on it, nor before a hyphenated ending
# (GLOSSARY.md, "Rules that keep Kazakh grammatical"): write a label and a value instead.
KAZAKH_CASE_AFTER_PLACEHOLDER = re.compile(
    r"\{[a-z_][a-z0-9_]*\}(?:[ \u00a0]+(?:дейін|бастап|кейін|соң)(?![^\W\d_])"
    r"|-?(?:дан|ден|тан|тен|нан|нен|ға|ге|қа|ке|на|не|да|де|та|те)(?![^\W\d_]))"
)
# Placeholders that hold a count. A count followed by a word ("{count} residents", "{n} follows")
# needs plural forms (ngettext) in English and Russian, or a label and a value ("Followers: 3").
COUNT_PLACEHOLDERS = frozenset(
    {
        "count", "n", "days", "total", "limit", "min", "max", "minimum", "maximum", "length",
        "problems", "measures", "new_problems", "new_measures", "updated", "unchanged",
        "questions", "follows", "supports", "named", "on_time", "late", "overdue", "answered",
        "raised", "done", "in_work", "accepted", "pending", "rejected", "merged", "new",
        "returned", "participants", "speakers", "members", "people", "residents",
    }
)  # fmt: skip
# on the same line: a count that ends a line is a value, whatever the next line starts with
COUNT_BEFORE_WORD = re.compile(r"\{([a-z_][a-z0-9_]*)\}[ \u00a0]+([^\W\d_]+)")
# Words that may follow a count without being a counted noun: a status or a comparison reads
# the same for any number («3 done», «5 выполнено»).
NOT_COUNTED = {
    "en": frozenset(
        {"done", "planned", "overdue", "cancelled", "in", "more", "of", "to", "or", "and"}
    ),
    "ru": frozenset(
        {"выполнено", "запланировано", "просрочено", "отменено", "в", "из", "до", "или", "и"}
    ),
}
# Messages checked by hand and let through, each with its reason.
COUNT_ALLOWED: dict[str, str] = {}


def _words(text: str) -> list[str]:
    return WORD.findall(PLACEHOLDER.sub(" ", TAG.sub(" ", text)))


def kazakh_case_after_placeholder(text: str) -> list[str]:
    """The places in a Kazakh string where a placeholder is glued to an ending or postposition."""
    return [m.group(0) for m in KAZAKH_CASE_AFTER_PLACEHOLDER.finditer(text)]


def counted_without_plural(text: str, locale: str) -> list[str]:
    """«{count} word» places in an English or Russian string that is not an ngettext entry."""
    return [
        m.group(0)
        for m in COUNT_BEFORE_WORD.finditer(text)
        if m.group(1) in COUNT_PLACEHOLDERS and m.group(2).lower() not in NOT_COUNTED[locale]
    ]


def find_wording_problems(path: Path = LOCALES_DIR) -> list[Problem]:
    """Russian left in Kazakh, case endings glued to Kazakh placeholders, and English or Russian
    counts without plural forms."""
    problems: list[Problem] = []
    strings: dict[str, dict[str, tuple[object, str]]] = {}
    for locale in SUPPORTED_LOCALES:
        for po_path, catalog in read_catalogs(locale, path):
            for message in catalog:
                if message.id:
                    msgid = message.id if isinstance(message.id, str) else message.id[0]
                    where = f"{po_path.relative_to(ROOT)}"
                    strings.setdefault(locale, {})[msgid] = (message.string, where)
    for msgid, (kk, where) in strings.get("kk", {}).items():
        ru = strings.get("ru", {}).get(msgid, (None, ""))[0]
        if isinstance(kk, str) and kk == ru and len(_words(kk)) >= 3:
            problems.append(Problem("kk", msgid, "the Russian text left in Kazakh", where))
        for form in kk if isinstance(kk, tuple) else (kk,):
            for found in kazakh_case_after_placeholder(str(form)):
                reason = f"a Kazakh ending glued to a placeholder ({found!r})"
                problems.append(Problem("kk", msgid, reason, where))
    for locale in ("en", "ru"):
        for msgid, (string, where) in strings.get(locale, {}).items():
            if isinstance(string, tuple) or msgid in COUNT_ALLOWED:
                continue  # an ngettext entry has its plural forms
            for found in counted_without_plural(str(string), locale):
                reason = f"a count without plural forms ({found!r})"
                problems.append(Problem(locale, msgid, reason, where))
    return problems
