"""The views of a search: a page of results, and "nothing found" with the closest words."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.keyboards.builder import Keyboard
from bot.keyboards.common import page_count, pagination_row
from bot.keyboards.resident import (
    SEARCH_PER_PAGE,
    CardCb,
    DistrictsCb,
    OverviewCb,
    SearchCb,
    Src,
    View,
    fit_text,
    measure_button_text,
    row_mark,
)
from models.search import SearchPage
from models.text import truncate


def search_view(result: SearchPage, query: str, locale: str, has_district: bool) -> View:
    shown_query = html.quote(truncate(query, 100))
    n = result.total
    found = (
        _("found more than {n} commitment", "found more than {n} commitments", n)
        if result.more
        else _("found {n} commitment", "found {n} commitments", n)
    )
    lines = [_("🔎 «{query}»: {found}").format(query=shown_query, found=found.format(n=n))]
    if has_district:
        in_district = (
            _("More than {n} of them in your district.")
            if result.more_in_district
            else _("{n} of them in your district.")
        )
        lines.append(in_district.format(n=result.in_district))
    if result.more:
        lines.append(_("The closest come first; add a word to narrow the search."))
    if result.corrections:
        lines.append(
            _("Also searched for similar words: {words}.").format(
                words=", ".join(f"<i>{html.quote(w)}</i>" for w in result.corrections)
            )
        )
    builder = Keyboard()
    header = None
    partial = False
    for index, row in enumerate(result.rows):
        number = result.page * SEARCH_PER_PAGE + index + 1
        if number > result.complete and not partial:  # past those matching every word
            partial = True
            lines += ["", _("<b>Matching only some of the words</b>")]
            header = None
        if has_district:
            mine = row.district_id == result.district_id
            wanted = _("<b>In your district</b>") if mine else _("<b>Elsewhere in the city</b>")
            if wanted != header:
                header = wanted
                lines += ["", header]
        district = html.quote(row.district.short(locale)) if row.district else ""
        lines.append(
            f"{number}. {row_mark(row)} {html.quote(truncate(row.text, 160))}\n"
            f"   <i>{district} · {html.quote(truncate(row.deadline_text, 60))}</i>"
        )
        builder.row(
            InlineKeyboardButton(
                text=measure_button_text(row, f"{number}. "),
                callback_data=CardCb(id=row.id, src=Src.SEARCH, page=result.page, dp=0).pack(),
            )
        )
    pages = page_count(result.total, SEARCH_PER_PAGE)
    nav = pagination_row(result.page, pages, lambda p: SearchCb(page=p).pack())
    if nav:
        builder.row(*nav)
    return fit_text(lines), builder.as_markup()


def no_results_view(query: str, suggestions: Sequence[str] = ()) -> View:
    lines = [
        _("🔎 Nothing found for «{query}».").format(query=html.quote(truncate(query, 100))),
        "",
    ]
    if suggestions:
        lines += [
            _("Did you mean: {words}?").format(
                words=", ".join(f"<code>{html.quote(w)}</code>" for w in suggestions)
            ),
            "",
        ]
    lines.append(
        _(
            "Try one word: a street (<i>Байтурсынова</i>), a place (<i>Сайран</i>), an object "
            "(<i>школа</i>, <i>поликлиника</i>, <i>сквер</i>) or a department (<i>УЭиВ</i>). "
            "Commitments are published in the language of the action plan, usually Russian."
        )
    )
    builder = Keyboard()
    builder.button(text=_("📋 Browse by district"), callback_data=DistrictsCb())
    builder.button(text=_("🏙 City overview"), callback_data=OverviewCb())
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()
