import re

import pytest
from django import forms

from plan_tracker.widgets import QuickSelect

CHOICES = [
    ("", "Tất cả <mọi> cơ quan"),
    ("1", 'Sở "Thông tin" & Truyền thông'),
    ("Huyện", [("2", "UBND huyện Hải Hậu"), ("3", "UBND huyện Giao Thủy")]),
]


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("value", ["", "1", "3", "99"])
def test_quick_select_writes_the_html_of_djangos_select(value):
    attrs = {"class": "form-select", "id": "id_agency"}
    expected = forms.Select(choices=CHOICES, attrs=attrs).render(
        "agency", value, {"required": True}
    )
    written = QuickSelect(choices=CHOICES, attrs=attrs).render("agency", value, {"required": True})
    assert _normalised(written) == _normalised(expected)
    assert "&lt;mọi&gt;" in written and "&quot;Thông tin&quot; &amp;" in written
