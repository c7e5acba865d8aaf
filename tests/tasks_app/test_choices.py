"""The ageing bands of overdue tasks (DESIGN.md, "Measures"): 1–30, 31–90, over 90 days."""

import pytest

from tasks_app.choices import AgeingBand


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (-3, None),  # due later
        (0, None),  # due today: not overdue yet
        (1, AgeingBand.DAYS_1_30),
        (30, AgeingBand.DAYS_1_30),
        (31, AgeingBand.DAYS_31_90),
        (90, AgeingBand.DAYS_31_90),
        (91, AgeingBand.OVER_90),
        (4000, AgeingBand.OVER_90),
    ],
)
def test_a_task_overdue_by_n_days_falls_in_one_band(days, band):
    assert AgeingBand.of(days) == band


def test_the_bands_cover_every_overdue_day_once_in_order():
    bands = list(AgeingBand)
    assert bands[0].first_day == 1
    for earlier, later in zip(bands, bands[1:], strict=False):
        assert later.first_day == earlier.last_day + 1
    assert bands[-1].last_day is None
