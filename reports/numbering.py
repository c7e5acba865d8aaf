"""Months, document numbers, document dates and the issuing agency of a monthly report.

Decree 30/2020/NĐ-CP, Phụ lục I: numbers below 10 get a leading zero ("Số: 05/BC-STTTT");
in the date line the day below 10 and the months January and February get a leading zero
("ngày 01 tháng 7 năm 2022", "ngày 15 tháng 02 năm 2023"). The issuing agency's name, place
and document code are those in force at the end of the month reported: agencies are
versioned (a rename or merge makes a new row linked by AgencySuccession), so a report on
06/2022 is issued by Sở TT&TT Nam Định even when the plan now points at its 2025 successor.
"""

from __future__ import annotations

import calendar
import datetime
import re

from django.db.models import Count, Exists, OuterRef, Q

from tasks_app.choices import AgencyKind, Role
from tasks_app.models import Agency, Membership, Plan

# The code of the document type in the number: BC = báo cáo (Decree 30/2020, Phụ lục III).
REPORT_TYPE_CODE = "BC"

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


# --- Months ---------------------------------------------------------------------------------


def parse_month(text: str) -> datetime.date:
    """'2022-06' → date(2022, 6, 1); ValueError on anything else."""
    match = _MONTH_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a month in the form YYYY-MM: {text!r}")
    year, month = int(match[1]), int(match[2])
    if not (1 <= month <= 12 and 1900 <= year <= 9999):
        raise ValueError(f"not a month in the form YYYY-MM: {text!r}")
    return datetime.date(year, month, 1)


def month_end(period: datetime.date) -> datetime.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def previous_month(today: datetime.date) -> datetime.date:
    """The first day of the month before `today`'s month."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def next_month(period: datetime.date) -> datetime.date:
    return month_end(period) + datetime.timedelta(days=1)


def plans_covering(period: datetime.date):
    """The plans whose period overlaps the month."""
    return Plan.objects.filter(period_start__lte=month_end(period), period_end__gte=period)


# --- Document number and date ---------------------------------------------------------------


def two_digits(value: int) -> str:
    """Decree 30/2020: numbers below 10 are written with a leading zero."""
    return f"{value:02d}"


# A draft leaves the number blank for the văn thư: "Số:      /BC-STTTT" (no-break spaces,
# which the layout keeps).
BLANK_NUMBER = "\u00a0" * 6


def document_number(number: int | None, doc_code: str) -> str:
    """'05/BC-STTTT'; '      /BC-STTTT' (blank) before the report is issued."""
    shown = two_digits(number) if number else BLANK_NUMBER
    suffix = f"{REPORT_TYPE_CODE}-{doc_code}" if doc_code else REPORT_TYPE_CODE
    return f"{shown}/{suffix}"


def date_line_parts(day: datetime.date) -> dict[str, str]:
    """The pieces of "ngày 01 tháng 7 năm 2022": day with a leading zero below 10, month
    with a leading zero for January and February only (to avoid misreading 1 as 10–12)."""
    month = two_digits(day.month) if day.month <= 2 else str(day.month)
    return {"day": two_digits(day.day), "month": month, "year": str(day.year)}


def period_label(period: datetime.date) -> str:
    """'06/2022': the month as report titles write it."""
    return f"{period:%m/%Y}"


def document_date(period: datetime.date) -> datetime.date:
    """A monthly report is dated the first day of the next month (it is generated then)."""
    return next_month(period)


# --- The issuing agency ------------------------------------------------------------------------


def default_issuer(plan: Plan, scope: Agency | None) -> Agency:
    """Who issues the report: the agency of the scope for a scoped report; else the plan's
    monitoring agency (Sở TT&TT for the CĐS plan), else the agency that issued the plan."""
    if scope is not None:
        return scope
    return plan.monitor_agency or plan.issuing_agency


def _ranked(agencies, plan: Plan | None):
    """Order candidates when a merge leaves several: the one whose staff monitor the plan
    first (the monitoring agency runs the reports), then the one leading most of its tasks."""
    monitors = Membership.objects.filter(agency=OuterRef("pk"), role=Role.MONITOR)
    agencies = agencies.annotate(has_monitor=Exists(monitors))
    if plan is not None:
        agencies = agencies.annotate(led=Count("led_tasks", filter=Q(led_tasks__plan=plan)))
    else:
        agencies = agencies.annotate(led=Count("led_tasks"))
    return agencies.order_by("-has_monitor", "-led", "code")


def agency_as_of(agency: Agency, day: datetime.date, plan: Plan | None = None) -> Agency:
    """The agency that stood for `agency` on `day`, following AgencySuccession links:

    1. valid on `day`: the agency itself;
    2. created after `day` (a successor): its predecessors (and theirs, further back);
    3. gone before `day`: its successors (and theirs, further on).

    With several candidates, `_ranked` decides; with none, the agency itself is kept (its
    record is still the best name there is).
    """
    seen: set[int] = set()
    current = agency
    while not current.is_valid_on(day) and current.pk not in seen:
        seen.add(current.pk)
        if current.valid_from is not None and day < current.valid_from:
            candidates = Agency.objects.filter(successions__successor=current).distinct()
        else:
            candidates = Agency.objects.filter(predecessions__predecessor=current).distinct()
        candidates = list(_ranked(candidates, plan))
        if not candidates:
            break
        valid = [c for c in candidates if c.is_valid_on(day)]
        current = (valid or candidates)[0]
    return current


def issuer_parent(issuer: Agency, day: datetime.date) -> Agency | None:
    """The line above the issuer in the header (cơ quan chủ quản), or None.

    A People's Committee is written alone ("ỦY BAN NHÂN DÂN TỈNH NAM ĐỊNH"): Decree 30
    gives no governing body above it. Every other agency shows its parent as of `day`."""
    if issuer.kind == AgencyKind.UBND or issuer.parent_id is None:
        return None
    return agency_as_of(issuer.parent, day)


def header_lines(agency: Agency) -> list[str]:
    """The name of the issuing agency, or of the body above it, in capitals as the header
    writes it: a People's Committee on two lines ("ỦY BAN NHÂN DÂN" / "HUYỆN HẢI HẬU"), any
    other name on one line (wrapped by the layout when it is long)."""
    name = " ".join(agency.name.split()).upper()
    prefix = "ỦY BAN NHÂN DÂN "
    if agency.kind == AgencyKind.UBND and name.startswith(prefix):
        return [prefix.strip(), name[len(prefix) :]]
    return [name]
