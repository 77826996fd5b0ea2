"""Reference data present in every database: districts, question categories, departments.

Rows are inserted when missing (matched by slug or code) and never overwritten, so names that
admins corrected in the bot survive an upgrade.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Category, Department, District

DATA_DIR = Path(__file__).resolve().parent / "data"
NAME_FIELDS = ("name_ru", "name_kk", "name_en", "short_ru", "short_kk", "short_en")


@cache
def reference_data() -> dict[str, Any]:
    with (DATA_DIR / "reference.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


# The grammatical forms a sentence can ask for; a locale without a form (English has one form,
# Kazakh no instrumental here) falls back to the nominative.
DISTRICT_FORMS = ("nom", "gen", "dat", "acc", "ins", "loc", "abl")


@cache
def _district_forms() -> dict[str, dict[str, dict[str, str]]]:
    with (DATA_DIR / "district_forms.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return {code: forms for code, forms in data.items() if not code.startswith("_")}


def district_form(code: str, locale: str, form: str = "nom") -> str | None:
    """A district's name in the grammatical ``form`` a sentence needs (``gen``: «Алмалинского
    района», «Алмалы ауданының»), or None for a district the data file does not know."""
    if form not in DISTRICT_FORMS:
        raise ValueError(f"unknown grammatical form {form!r}")
    forms = _district_forms().get(code, {}).get(locale) or _district_forms().get(code, {}).get("ru")
    if not forms:
        return None
    return forms.get(form) or forms["nom"]


def district_placeholders(
    code: str, locale: str, fallback: str, *, escape: bool = True
) -> dict[str, str]:
    """Format arguments for a sentence with a district in it: ``{district}`` (nominative) and
    ``{district_gen}``, ``{district_dat}``, ``{district_acc}``, ``{district_ins}``,
    ``{district_loc}``, ``{district_abl}``. Each translation picks the form its grammar needs;
    ``fallback`` (the district's stored name) fills every form of a district without forms."""
    found: dict[str, str] = {}
    for form in DISTRICT_FORMS:
        value = district_form(code, locale, form) or fallback
        key = "district" if form == "nom" else f"district_{form}"
        found[key] = html.escape(value, quote=False) if escape else value
    return found


async def ensure_reference_data(session: AsyncSession) -> int:
    """Insert the missing reference rows; returns how many were added."""
    data = reference_data()
    added = 0

    existing = set((await session.execute(select(District.slug))).scalars())
    for item in data["districts"]:
        if item["slug"] not in existing:
            session.add(
                District(
                    slug=item["slug"],
                    code=item["code"],
                    order=item["order"],
                    aliases="\n".join(item["aliases"]),
                    **{f: item[f] for f in NAME_FIELDS},
                )
            )
            added += 1

    existing = set((await session.execute(select(Category.slug))).scalars())
    new_categories: set[str] = set()
    for item in data["categories"]:
        if item["slug"] not in existing:
            new_categories.add(item["slug"])
            session.add(
                Category(
                    slug=item["slug"],
                    order=item["order"],
                    seed_label_ru=item["seed_label_ru"],
                    **{f: item[f] for f in NAME_FIELDS},
                )
            )
            added += 1

    existing = set((await session.execute(select(Department.code))).scalars())
    for item in data["departments"]:
        if item["code"] not in existing:
            department = Department(
                code=item["code"],
                slug=item["slug"],
                alias_codes="\n".join(item["alias_codes"]),
                kind=item["kind"],
                uncertain=item["uncertain"],
                **{f: item[f] for f in NAME_FIELDS},
            )
            session.add(department)
            added += 1
    await session.flush()
    await _route_categories(session, data, new_categories)
    return added


async def _route_categories(session: AsyncSession, data: dict[str, Any], slugs: set[str]) -> None:
    """Newly added categories get their default department; routing that admins changed later
    is never overwritten."""
    if not slugs:
        return
    departments = {d.slug: d.id for d in (await session.execute(select(Department))).scalars()}
    wanted = {c["slug"]: c.get("default_department") for c in data["categories"]}
    for category in (await session.execute(select(Category))).scalars():
        if category.slug in slugs:
            category.default_department_id = departments.get(wanted.get(category.slug) or "")
    await session.flush()
