"""Free text typed into a form: one check for every field, answered in the user's language.

The rule is :func:`models.text.check_text` (cleaning, then length); :func:`form_text` is the one
place a form's free text passes through on its way from Telegram to a handler's logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _

from models.text import TextProblem, TextRule, check_text, visible_length
from models.translation import N_

# What a field answers when it names nothing better.
EMPTY = N_("The text is empty. Please write it in words.")
NO_LETTERS = N_("There is not a single letter or digit in this text. Please write it in words.")
TOO_SHORT = N_("That is too short. Characters needed at least: {min}.")


@dataclass(frozen=True)
class TextReplies:
    """A field's answers to each problem, as msgids (translated when used). Placeholders: the
    text's length as ``{count}`` or ``{length}``, the rule's bounds as ``{min}``/``{minimum}``
    and ``{max}``/``{limit}``. An answer left out is the one for a text too long."""

    too_long: str
    too_short: str | None = None
    empty: str | None = None
    no_letters: str | None = None

    def msgid(self, problem: TextProblem) -> str:
        if problem is TextProblem.EMPTY:
            return self.empty or self.too_short or EMPTY
        if problem is TextProblem.NO_LETTERS:
            return self.no_letters or NO_LETTERS
        if problem is TextProblem.TOO_SHORT:
            return self.too_short or TOO_SHORT
        return self.too_long


def form_text(raw: str | None, rule: TextRule, replies: TextReplies) -> tuple[str, str | None]:
    """The cleaned text, and None when it may be used, or else the translated answer that says
    what is wrong with it."""
    text, problem = check_text(raw, rule)
    if problem is None:
        return text, None
    length = len(text) if problem is TextProblem.TOO_LONG else visible_length(text)
    answer = _(replies.msgid(problem)).format(
        count=length,
        length=length,
        min=rule.minimum,
        minimum=rule.minimum,
        max=rule.maximum,
        limit=rule.maximum,
    )
    return text, answer
