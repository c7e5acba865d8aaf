"""Search that ignores Vietnamese diacritics and case, the same on PostgreSQL and SQLite.

Searchable rows keep a folded copy of their text (`search_text`); a query is folded the
same way and matched with a plain `contains`, so "hai hau" finds "Hải Hậu".
"""

import unicodedata
from typing import TypeVar

from django.db.models import Q, QuerySet

_Rows = TypeVar("_Rows", bound=QuerySet)


def fold(text: str) -> str:
    """Lower-case `text` and strip its diacritics; đ/Đ become d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def search(queryset: _Rows, query: str) -> _Rows:
    """Rows whose folded text contains every word of the folded query."""
    condition = Q()
    for word in fold(query).split():
        condition &= Q(search_text__contains=word)
    return queryset.filter(condition)
