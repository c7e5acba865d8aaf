"""Vietnamese alphabetical order, the same in Python, PostgreSQL and SQLite.

The alphabet is a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (f, j, w, z of
foreign names in their Latin places); a word's tones count only after its letters
(ngang, huyền, hỏi, ngã, sắc, nặng), then lower case before upper case. "Đ" comes after
every "D", "Hà" before "Hai", "Hải An" after "Hai".

- `vi_sort_key(text)`: the one sort key, for lists sorted in Python (the dashboard's
  ranking ties).
- `vi_order("name")`: an ORDER BY term for querysets. It names the collation
  `VI_COLLATION`: on PostgreSQL migration 0005 creates it from ICU's Vietnamese rules; on
  SQLite it is registered on every connection with `vi_sort_key` (`register_on_sqlite`,
  connected in TasksAppConfig.ready). Both agree on letters, tones and case (tested).
"""

from __future__ import annotations

import functools
import unicodedata

from django.db.models import F
from django.db.models.expressions import OrderBy
from django.db.models.functions import Collate

VI_COLLATION = "vietnamese"

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Letters with a mark that makes another letter (decomposed: base letter + mark).
_MARKED_LETTERS = {
    ("a", "\u0306"): "ă",
    ("a", "\u0302"): "â",
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",
    ("u", "\u031b"): "ư",
}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Primary weights: separators, then digits, then letters, then anything else.
_SPACE, _DIGIT, _LETTER, _OTHER = 0, 100, 200, 1000
_LETTER_RANK = {letter: _LETTER + index for index, letter in enumerate(_ALPHABET)}


@functools.lru_cache(maxsize=8192)
def vi_sort_key(text: str) -> tuple:
    """A key that sorts strings in Vietnamese alphabetical order."""
    primary: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for char in unicodedata.normalize("NFD", text or ""):
        lower = char.lower()
        if unicodedata.combining(char):
            if not primary:
                continue
            base = _ALPHABET[primary[-1] - _LETTER] if primary[-1] >= _LETTER else ""
            marked = _MARKED_LETTERS.get((base, char))
            if marked is not None:
                primary[-1] = _LETTER_RANK[marked]
            elif char in _TONES:
                tones[-1] = _TONES[char]
            continue
        if lower in _LETTER_RANK:
            primary.append(_LETTER_RANK[lower])
        elif char.isdigit():
            primary.append(_DIGIT + unicodedata.digit(char, 0))
        elif char.isspace():
            primary.append(_SPACE)
        elif unicodedata.category(char).startswith("P"):  # punctuation, after a space
            primary.append(_SPACE + 1 + ord(char) % 98)
        else:
            primary.append(_OTHER + ord(lower))
        tones.append(0)
        cases.append(0 if char == lower else 1)
    return (tuple(primary), tuple(tones), tuple(cases))


def vi_compare(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` sorts before, with or after `right` (SQLite's collation)."""
    a, b = vi_sort_key(left), vi_sort_key(right)
    return (a > b) - (a < b)


def vi_sorted(items, key=lambda item: item):
    """`items` sorted by `key(item)` in Vietnamese order."""
    return sorted(items, key=lambda item: vi_sort_key(key(item)))


def vi_order(field, *, descending: bool = False) -> OrderBy:
    """`queryset.order_by(vi_order("name"))`: order by a text field (a name or an
    expression) in Vietnamese order."""
    collated = Collate(F(field) if isinstance(field, str) else field, VI_COLLATION)
    return collated.desc() if descending else collated.asc()


def register_on_sqlite(sender, connection, **kwargs) -> None:
    """connection_created receiver: give SQLite the collation `VI_COLLATION`."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(VI_COLLATION, vi_compare)
