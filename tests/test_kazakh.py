"""The Kazakh suffix-stripping rules (models/kazakh.py): plural, possessive and case endings come
off in the right order, the н-forms only where Kazakh puts them, and short stems stay whole."""

from __future__ import annotations

import pytest

from models.kazakh import MIN_STEM, is_kazakh, stem


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # dictionary forms stay as they are
        ("мектеп", "мектеп"),
        ("емхана", "емхана"),
        ("аудан", "аудан"),
        # genitive -ның/-нің/-дың/-дің/-тың/-тің
        ("мектептің", "мектеп"),
        ("емхананың", "емхана"),
        ("саябақтың", "саябақ"),
        ("көлдің", "көл"),
        ("ауданның", "аудан"),
        # dative -ға/-ге/-қа/-ке, -на/-не after a possessive
        ("емханаға", "емхана"),
        ("мектепке", "мектеп"),
        ("көлге", "көл"),
        ("ауданына", "аудан"),
        # accusative -ды/-ді/-ты/-ті
        ("саябақты", "саябақ"),
        ("көлді", "көл"),
        # locative -да/-де/-та/-те, -нда/-нде after a possessive
        ("емханада", "емхана"),
        ("мектепте", "мектеп"),
        ("ауданда", "аудан"),
        ("ауданында", "аудан"),
        # ablative -дан/-ден/-тан/-тен/-нан/-нен
        ("емханадан", "емхана"),
        ("мектептен", "мектеп"),
        ("ауданнан", "аудан"),
        # instrumental and the locative adjective
        ("мектеппен", "мектеп"),
        ("ауданындағы", "аудан"),
        ("қаладағы", "қала"),
        # plural and possessive, alone and before a case
        ("мектептер", "мектеп"),
        ("балалар", "бала"),
        ("мектептері", "мектеп"),
        ("мектептерінің", "мектеп"),
        ("емханалары", "емхана"),
        ("қаласы", "қала"),
        ("ауданы", "аудан"),
        # a stem voiced before a vowel is written as in its dictionary form
        ("мектебі", "мектеп"),
        ("мектебінің", "мектеп"),
        ("саябағы", "саябақ"),
    ],
)
def test_endings_come_off(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize("word", ["үйі", "суы", "үйде", "суға", "ала", "көл", "су"])
def test_no_stem_is_shorter_than_the_minimum(word: str) -> None:
    assert stem(word) == word  # taking the ending off would leave fewer than MIN_STEM letters
    assert MIN_STEM == 3


def test_every_form_of_one_noun_gives_one_stem() -> None:
    forms = ["мектеп", "мектептің", "мектепке", "мектепте", "мектептен", "мектептер",
             "мектептері", "мектептерінің", "мектебі", "мектебінің", "мектеппен"]  # fmt: skip
    assert {stem(form) for form in forms} == {"мектеп"}


def test_kazakh_letters_tell_kazakh_from_russian() -> None:
    assert is_kazakh("мектептің") and is_kazakh("әуезов") and is_kazakh("қала")
    assert not is_kazakh("школа") and not is_kazakh("мектеп") and not is_kazakh("almaty")
