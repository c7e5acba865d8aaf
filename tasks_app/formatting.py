"""Numbers, percentages, people's names and lateness as a Vietnamese reader expects them.

The one place for these: the pages (through the `formatting` template library), the API's
labels, the monthly PDF and the Excel twin all call these functions, so a figure reads the
same everywhere.

- Percentages are rounded half-up (5/11 → 45,5 %, 1/16 → 6,3 %), computed in Decimal:
  float's round() rounds half to even (round(1 / 16 * 100, 1) is 6.2) and carries binary
  error (0.145 * 100 is 14.499999999999998).
- Numbers use the active language's separators (Vietnamese: "1.234,5"; English "1,234.5").
- A person's name is written family name first ("Nguyễn Văn An"): Django's `last_name`
  holds the family and middle names, `first_name` the given name.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

PERCENT_PLACES = 1
_HUNDRED = Decimal(100)


def _decimal(value) -> Decimal:
    """A number as a Decimal without binary error: a float through its shortest repr
    (0.0375 → Decimal("0.0375"), not 0.03749999…), a Fraction by exact division."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_half_up(value, places: int = PERCENT_PLACES) -> Decimal:
    """`value` rounded half-up (away from zero on a tie) to `places` decimals."""
    return _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_value(rate, places: int = PERCENT_PLACES) -> Decimal | None:
    """A ratio (0.4545…, Fraction(5, 11)) as a percentage rounded half-up: Decimal("45.5").
    None stays None (nothing to divide by)."""
    if rate is None:
        return None
    return round_half_up(_decimal(rate) * _HUNDRED, places)


def percent_of(part, whole, places: int = PERCENT_PLACES) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded half-up; None when `whole` is 0 or None
    (or `part` is None)."""
    if part is None or not whole:
        return None
    return round_half_up(_decimal(part) * _HUNDRED / _decimal(whole), places)


def format_number(value, places: int | None = None) -> str:
    """A number in the active language with grouped thousands: 1234.5 → "1.234,5" in
    Vietnamese. `places`: fixed decimals (rounded half-up); None keeps the value's own
    (a Decimal's trailing zeros are dropped: 12.50 → "12,5")."""
    if value is None:
        return "—"
    if places is not None:
        value = round_half_up(value, places)
    else:
        value = _decimal(value)
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
        else:
            value = value.normalize()
    return number_format(value, places, use_l10n=True, force_grouping=True)


def format_percent(value, places: int = PERCENT_PLACES) -> str:
    """A percentage (already × 100, e.g. from `percent_value`) as text: "45,5 %" in
    Vietnamese, "45.5%" in English; None → "—"."""
    if value is None:
        return "—"
    number = format_number(round_half_up(value, places), places)
    # Translators: a percentage; Vietnamese writes a space before the sign.
    return _("%(number)s%%") % {"number": number}


def format_rate(rate, places: int = PERCENT_PLACES) -> str:
    """A ratio as a percentage text: 5/11 → "45,5 %"; None → "—"."""
    return format_percent(percent_value(rate, places), places)


def kpi_percent(actual, target) -> Decimal | None:
    """A KPI's actual value as a percentage of its target, rounded half-up to one decimal
    (it may pass 100); None when either is missing or the target is 0."""
    if actual is None:
        return None
    return percent_of(actual, target)


def days_late(completed_on: datetime.date | None, due: datetime.date | None) -> int | None:
    """Whole days between the due date in force on the completion day and the completion
    date; None when the task was not completed after its due date."""
    if completed_on is None or due is None or completed_on <= due:
        return None
    return (completed_on - due).days


def late_label(days: int | None) -> str:
    """ "trễ 3 ngày" ("3 days late"); empty when not late."""
    if not days:
        return ""
    return ngettext("%(days)s day late", "%(days)s days late", days) % {"days": format_number(days)}


def person_name(last_name: str, first_name: str, username: str = "") -> str:
    """A name in Vietnamese order, family and middle names first ("Nguyễn Văn An"); the
    username when no name is set."""
    name = " ".join(part for part in (last_name.strip(), first_name.strip()) if part)
    return name or username


def full_name(user) -> str:
    """`person_name` of a user (or "—" for none): pages, API and e-mails call this."""
    if user is None:
        return "—"
    return person_name(user.last_name, user.first_name, user.get_username())


def format_datetime(value: datetime.datetime | None) -> str:
    """A moment in the project's time zone as "04/12/2026 14:05" (what commands print); "—"
    for none."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
