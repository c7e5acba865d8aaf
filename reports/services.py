"""The monthly report: generate it (PDF and Excel twin), store it, e-mail it (issue 7).

`monthly_report_generate(plan=…, period=…, scope=…)` and `monthly_report_send(report=…)` are
the two services; the Celery tasks, the management command, the archive page and the API
call them. Both are safe to run twice and concurrently:

- one row per (plan, month, scope) (unique constraints); generating again regenerates the
  files of that row and keeps its number, issuer and document date;
- the work is claimed with a conditional UPDATE (status → generating, with a claim token);
  a claim older than REPORT_STALE_MINUTES is taken to be from a dead worker and may be
  taken over;
- files are replaced atomically: each generation writes new files under fresh names
  (temporary file in the same folder, fsync, os.replace), then points the row at them in
  one UPDATE (only while it still holds the claim), then removes the old files after the
  commit. The row therefore only ever names complete files, and a failed generation leaves
  the previous files served;
- the e-mail is claimed the same way and recorded on the row (`emailed_at`); a second run
  sends nothing.

Every number comes from the dashboard's selectors (reports/selectors.py) at the last day of
the month, computed from history, so a report regenerated months later shows the same
figures; the charts are the dashboard's (reports/charts.py, PDF variant).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import smtplib
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from reports import charts
from reports.excel import dashboard_workbook
from reports.models import (
    FINAL_STAGES,
    MonthlyReport,
    ReportStage,
    ReportStatus,
    render_resend_cutoff,
    report_file_name,
)
from reports.numbering import (
    agency_as_of,
    date_line_parts,
    default_issuer,
    document_number,
    header_lines,
    issuer_parent,
    month_end,
    next_month,
    period_label,
)
from reports.selectors import (
    Counts,
    Dashboard,
    DashboardFilters,
    dashboard_summary,
    dashboard_trend,
    scoped_leaf_tasks,
)
from tasks_app.choices import AgencyKind, ReportCategory, Role
from tasks_app.collation import vi_sort_key
from tasks_app.formatting import percent_of, percent_value
from tasks_app.models import AdministrativeLevel, Agency, Membership, Plan, StatusUpdate
from tasks_app.permissions import WHOLE_PLAN
from tasks_app.querysets import end_of_day

logger = logging.getLogger(__name__)

# Failures worth a retry (the mail server or the network); anything else is a bug.
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)
# What sending a task raises when the broker cannot be reached (kombu wraps the transport's
# connection errors in OperationalError).
BROKER_ERRORS = (KombuOperationalError, ConnectionError, TimeoutError, OSError)

# The report is written in Vietnamese, whatever language the person who asked for it uses.
REPORT_LANGUAGE = "vi"
PDF_TEMPLATE = "reports/pdf/monthly.html"
# A level with up to this many agencies gets its table (and ranking chart) in the body; a
# longer one (the communes of a province) is summed up in the body and listed in full in
# an appendix, where a landscape table holds one agency per line.
BODY_LEVEL_MAX_AGENCIES = 30
# The body lists at most this many overdue tasks (oldest first), tasks due next month
# (soonest first) and difficulties or proposals (grouped by text): a report is read by
# people; the appendix lists the others (up to PDF_APPENDIX_MAX_ROWS tasks) and the Excel
# twin every task.
BODY_LIST_LIMIT = 20
# The PDF's appendix lists at most this many tasks: those that need attention first (see
# `pdf_appendix`); the Excel twin lists every task. WeasyPrint lays out about 110 table rows
# a second on this machine: 500 rows keep a report of a whole province near 10 s and 25
# landscape pages of appendix; the 2,000 tasks of a large plan would take 100 pages and 20 s.
PDF_APPENDIX_MAX_ROWS = 500
# The order in which tasks earn a place in a shortened appendix.
_APPENDIX_PRIORITY = {
    category: rank
    for rank, category in enumerate(
        (
            ReportCategory.OVERDUE,
            ReportCategory.COMPLETED_LATE,
            ReportCategory.IN_PROGRESS,
            ReportCategory.NOT_STARTED,
            ReportCategory.REGULAR,
            ReportCategory.COMPLETED_ON_TIME,
            ReportCategory.WITHDRAWN,
        )
    )
}
# The trend chart shows the last month ends up to D (the dashboard's trend selector, on a
# window of the plan period): a pass over the tasks' history per point.
TREND_POINTS = 6
# A difficulty reported by many agencies names the first few of them.
AGENCIES_NAMED = 5

_COMPLETED = (ReportCategory.COMPLETED_ON_TIME, ReportCategory.COMPLETED_LATE)
_CLOSED = (*_COMPLETED, ReportCategory.WITHDRAWN)


class ReportError(ValueError):
    """The report cannot be made as asked (a month outside the plan, not over yet…)."""


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a draft prints where the văn thư will write the date of issue.
BLANK_DATE_LINE = {"day": "…", "month": "…", "year": "…"}


# --- Checks ------------------------------------------------------------------------------------


def monthly_report_check_period(*, plan: Plan, period: datetime.date, today=None) -> None:
    """Refuse a month that is not a first day, is not over yet, or lies outside the plan."""
    if period.day != 1:
        raise ReportError(_("A month is given by its first day."))
    today = today or timezone.localdate()
    if month_end(period) >= today:
        raise ReportError(
            _(
                "The month {month} is not over yet: its report is made from the 1st of the "
                "next month."
            ).format(month=period_label(period))
        )
    if month_end(period) < plan.period_start or period > plan.period_end:
        raise ReportError(
            _("The plan {plan} does not run in {month}.").format(
                plan=plan.code, month=period_label(period)
            )
        )


# --- The report's content -----------------------------------------------------------------------


@dataclass
class ListedTask:
    """One task line of the report's tables (overdue, coming month, appendix)."""

    code: str
    title: str
    lead_agency: str
    priority_area: str
    due: datetime.date | None
    original_due: datetime.date | None
    completed_on: datetime.date | None
    category: str
    category_label: str
    progress: int
    days_overdue: int | None = None
    priority_area_id: int | None = None

    @property
    def extended(self) -> bool:
        return (
            self.due is not None and self.original_due is not None and self.due != self.original_due
        )


def roman(number: int) -> str:
    """Roman numerals for the appendix's groups (I, II, … as Vietnamese documents number
    their parts)."""
    numerals = (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    )  # fmt: skip
    out = []
    for value, numeral in numerals:
        count, number = divmod(number, value)
        out.append(numeral * count)
    return "".join(out)


def _filters(report: MonthlyReport) -> DashboardFilters:
    return DashboardFilters(plan=report.plan, as_of=report.period_end, agency=report.scope)


# What a task line reads of each task (the annotations of `with_own_category`): plain values,
# not model instances. At 20,000 tasks, building the Task and PriorityArea objects of the
# appendix and parsing their unused columns took longer than the query itself (issue 18).
_LISTED_FIELDS = (
    "code",
    "title",
    "priority_area_id",
    "priority_area__name",
    "original_due",
    "due_at",
    "completed_on_at",
    "progress_at",
    "lead_agency_at",
    "own_category",
)


def _task_rows(tasks) -> list[ListedTask]:
    """The listed tasks (a queryset annotated `with_own_category`), each with the lead
    agency in force at D (`lead_agency_at`: a task handed to another agency since is listed
    under the one that led it then)."""
    tasks = list(tasks.values(*_LISTED_FIELDS))
    leads = Agency.objects.in_bulk({task["lead_agency_at"] for task in tasks})
    names = {pk: str(agency) for pk, agency in leads.items()}
    labels = {category: str(ReportCategory(category).label) for category in ReportCategory.values}
    rows = []
    for task in tasks:
        category = task["own_category"] or ""
        completed = category in _COMPLETED
        rows.append(
            ListedTask(
                code=task["code"],
                title=task["title"],
                lead_agency=names[task["lead_agency_at"]],
                priority_area=task["priority_area__name"],
                due=task["due_at"],
                original_due=task["original_due"],
                completed_on=task["completed_on_at"] if completed else None,
                category=category,
                category_label=labels.get(category, ""),
                progress=100 if completed else (task["progress_at"] or 0),
                priority_area_id=task["priority_area_id"],
            )
        )
    return rows


def report_appendix(*, filters: DashboardFilters) -> list[dict]:
    """Every leaf task assigned by D, grouped by priority area (in plan order), with its
    due date in force and original due date, its category and progress at D."""
    as_of = filters.as_of
    tasks = (
        scoped_leaf_tasks(user=WHOLE_PLAN, filters=filters)
        .filter(assigned_on__lte=as_of)
        .with_own_category(as_of)
        .order_by("priority_area__order", "priority_area__code", "code")
    )
    groups: list[dict] = []
    for row in _task_rows(tasks):
        if not groups or groups[-1]["area_id"] != row.priority_area_id:
            groups.append(
                {
                    "area_id": row.priority_area_id,
                    "roman": roman(len(groups) + 1),
                    "name": row.priority_area,
                    "rows": [],
                }
            )
        groups[-1]["rows"].append(row)
    return groups


def pdf_appendix(groups: list[dict], limit: int | None = None) -> list[dict]:
    """The appendix groups the PDF lists: all of them up to `limit` tasks; beyond, the
    `limit` tasks that most need attention (overdue, completed late, in progress, not
    started, then the others; within a category the earliest due first), still grouped by
    priority area in code order. Groups left empty are dropped and renumbered."""
    limit = PDF_APPENDIX_MAX_ROWS if limit is None else limit
    rows = [row for group in groups for row in group["rows"]]
    if len(rows) <= limit:
        return groups
    ranked = sorted(
        rows,
        key=lambda row: (
            _APPENDIX_PRIORITY.get(row.category, len(_APPENDIX_PRIORITY)),
            row.due or datetime.date.max,
            row.code,
        ),
    )
    kept = {id(row) for row in ranked[:limit]}
    shown: list[dict] = []
    for group in groups:
        group_rows = [row for row in group["rows"] if id(row) in kept]
        if group_rows:
            shown.append({**group, "roman": roman(len(shown) + 1), "rows": group_rows})
    return shown


def report_coming_deadlines(
    *, filters: DashboardFilters, limit: int | None = BODY_LIST_LIMIT
) -> tuple[list[ListedTask], int]:
    """Open leaf tasks at D whose due date in force falls in the next month, soonest
    first: (the first `limit` of them, how many there are)."""
    as_of = filters.as_of
    start = as_of + datetime.timedelta(days=1)
    end = month_end(start)
    tasks = (
        scoped_leaf_tasks(user=WHOLE_PLAN, filters=filters)
        .filter(assigned_on__lte=as_of)
        .with_own_category(as_of)
        .filter(due_at__gte=start, due_at__lte=end)
        .exclude(own_category__in=_CLOSED)
    )
    listed = tasks.order_by("due_at", "code")
    rows = _task_rows(listed[:limit] if limit is not None else listed)
    total = len(rows) if limit is None or len(rows) < limit else tasks.count()
    return rows, total


def month_updates(*, filters: DashboardFilters, period: datetime.date):
    """The status updates recorded during the month on the leaf tasks in the report's
    scope, oldest first, with their task and agency."""
    return (
        StatusUpdate.objects.filter(
            task__in=scoped_leaf_tasks(user=WHOLE_PLAN, filters=filters),
            recorded_at__gte=end_of_day(period - datetime.timedelta(days=1)),
            recorded_at__lt=end_of_day(filters.as_of),
        )
        .select_related("task", "agency", "task__lead_agency")
        .order_by("recorded_at", "pk")
    )


def report_difficulties(
    *, filters: DashboardFilters, period: datetime.date, limit: int | None = BODY_LIST_LIMIT
) -> dict:
    """Difficulties and proposals written in the status updates recorded during the month
    on the tasks in scope, as a clerk sums them up: one item per distinct text (in the order
    first written) with the agencies and tasks that reported it; at most `limit` items of
    each kind, the most reported first when there are more."""
    updates = month_updates(filters=filters, period=period).exclude(difficulties="", proposals="")
    grouped: dict[str, dict[str, dict]] = {"difficulties": {}, "proposals": {}}
    for update in updates:
        agency = str(update.agency or update.task.lead_agency)
        for kind in ("difficulties", "proposals"):
            text = " ".join(getattr(update, kind).split())
            if not text:
                continue
            item = grouped[kind].setdefault(
                text.casefold(), {"text": text, "agencies": {}, "tasks": {}}
            )
            item["agencies"][agency] = None
            item["tasks"][update.task.code] = None
    found: dict = {}
    for kind, items in grouped.items():
        ordered = list(items.values())
        if limit is not None and len(ordered) > limit:
            keep = sorted(ordered, key=lambda i: -len(i["tasks"]))[:limit]
            ordered = [item for item in ordered if any(item is k for k in keep)]
        found[kind] = [
            {
                "text": item["text"],
                "agency": _named(list(item["agencies"]), _("{names} and {count} other agencies")),
                "task": _named(list(item["tasks"]), _("{names} and {count} other tasks")),
                "agencies": list(item["agencies"]),
                "tasks": list(item["tasks"]),
            }
            for item in ordered
        ]
        found[f"{kind}_total"] = len(items)
    return found


def _named(names: list[str], more: str) -> str:
    """'A, B, C' or, past AGENCIES_NAMED names, 'A, B, C, D, E and 7 other …'."""
    shown = ", ".join(names[:AGENCIES_NAMED])
    if len(names) <= AGENCIES_NAMED:
        return shown
    return more.format(names=shown, count=len(names) - AGENCIES_NAMED)


def _quoted(text: str) -> str:
    return "“" + " ".join(text.split()) + "”"


def report_narrative_prefill(*, report: MonthlyReport) -> dict[str, str]:
    """The narrative a draft starts with, written from the month's status updates (call
    inside translation.override(REPORT_LANGUAGE)):

    - `assessment`: how many agencies reported on how many tasks, then each agency's latest
      results of the month, quoted under its name;
    - `difficulties`: the difficulties and proposals, grouped by agency and quoted under
      the agency's name with the task's code;
    - `next_focus`: the tasks due next month (soonest first), to concentrate on;
    - `distribution`: the lines of Nơi nhận;
    - `recipients`: the e-mail addresses the issued report goes to.
    """
    filters = _filters(report)
    month = period_label(report.period)
    results: dict[str, dict[str, str]] = {}
    troubles: dict[str, list[str]] = {}
    tasks = set()
    for update in month_updates(filters=filters, period=report.period):
        agency = str(update.agency or update.task.lead_agency)
        tasks.add(update.task_id)
        if update.result.strip():
            # The latest result of each task stands for the month.
            results.setdefault(agency, {})[update.task.code] = _quoted(update.result)
        for label, text in (
            (_("Difficulty"), update.difficulties),
            (_("Proposal"), update.proposals),
        ):
            if text.strip():
                line = f"- {label} ({update.task.code}): {_quoted(text)}"
                if line not in troubles.setdefault(agency, []):
                    troubles[agency].append(line)
    if tasks:
        lines = [
            _("In {month}, {agencies} agencies reported on the progress of {tasks} tasks.").format(
                month=month, agencies=len({*results, *troubles}), tasks=len(tasks)
            )
        ]
    else:
        lines = [
            _("In {month}, no agency reported on the progress of its tasks.").format(month=month)
        ]
    for agency in sorted(results, key=vi_sort_key):
        lines.append(f"{agency}:")
        lines += [f"- {code}: {text}" for code, text in results[agency].items()]
    assessment = "\n".join(lines)

    difficulties = "\n".join(
        line
        for agency in sorted(troubles, key=vi_sort_key)
        for line in (f"{agency}:", *troubles[agency])
    ) or _("The agencies reported no difficulty in {month}.").format(month=month)

    # The tasks due next month are listed in the report's table under this text.
    _coming, total = report_coming_deadlines(filters=filters, limit=0)
    focus = [
        _("Concentrate on the {count} tasks due in {month}, listed below.").format(
            count=total, month=period_label(next_month(report.period))
        )
        if total
        else _("Keep the tasks in progress on schedule.")
    ]
    issuer = report.issuer or agency_as_of(
        default_issuer(report.plan, report.scope), filters.as_of, report.plan
    )
    return {
        "assessment": assessment,
        "difficulties": difficulties,
        "next_focus": "\n".join(focus),
        "distribution": "\n".join(_distribution(issuer, filters.as_of, report.scope)),
        "recipients": "\n".join(monthly_report_recipients(report=report)),
    }


def report_trend(*, filters: DashboardFilters, points: int = TREND_POINTS):
    """The dashboard's trend (reports.selectors.dashboard_trend) over the last `points`
    month ends up to D, stored month ends included."""
    return dashboard_trend(user=WHOLE_PLAN, filters=filters, last=points)


def _overdue_rows(board: Dashboard) -> list[ListedTask]:
    return [
        ListedTask(
            code=task.code,
            title=task.title,
            lead_agency=task.lead_agency,
            priority_area=task.priority_area,
            due=task.due,
            original_due=task.original_due,
            completed_on=None,
            category=ReportCategory.OVERDUE,
            category_label=str(ReportCategory.OVERDUE.label),
            progress=task.progress,
            days_overdue=task.days_overdue,
        )
        for task in board.overdue
    ]


def _signature(issuer: Agency, name: str = "") -> dict:
    """TM. … / KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC / name: from the REPORT_SIGNER_* settings, else
    the usual lines for the kind of issuing agency; `name` (the report's signer) first. A
    People's Committee is a collective body: its deputy chair signs on behalf of it
    ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH")."""
    collective = ""
    if issuer.kind == AgencyKind.UBND:
        collective = _("ON BEHALF OF THE PEOPLE'S COMMITTEE")
        authority, title = _("p.p. THE CHAIRMAN"), _("VICE CHAIRMAN")
    else:
        authority, title = _("p.p. THE DIRECTOR"), _("DEPUTY DIRECTOR")
    if settings.REPORT_SIGNER_AUTHORITY:
        collective, authority = "", settings.REPORT_SIGNER_AUTHORITY
    return {
        "collective": collective,
        "authority": authority,
        "title": settings.REPORT_SIGNER_TITLE or title,
        "name": name or settings.REPORT_SIGNER_NAME,
    }


def _distribution(issuer: Agency, as_of: datetime.date, scope: Agency | None) -> list[str]:
    """The lines of "Nơi nhận" (each ends with ";", the last one, the filing copy, "."):
    REPORT_DISTRIBUTION when set; else the body the issuer reports to, then the agencies
    that carry out the tasks."""
    lines = list(settings.REPORT_DISTRIBUTION)
    if not lines:
        above = agency_as_of(issuer.parent, as_of) if issuer.parent is not None else None
        if above is not None:
            lines.append(
                _("{agency} (for reporting)").format(agency=above.short_name or above.name)
            )
        if scope is None:
            lines.append(_("Departments, boards and sectors"))
            # The People's Committees below the province on the map of the day.
            districts = AdministrativeLevel.objects.valid_on(as_of).filter(code="district")
            lines.append(
                _("People's Committees of the districts and city")
                if districts.exists()
                else _("People's Committees of the communes and wards")
            )
        else:
            lines.append(_("Agencies and units concerned"))
    filing = _("Filed: VT, {unit}.").format(unit=settings.REPORT_FILING_UNIT)
    return [f"{line.rstrip(' ;.')};" for line in lines] + [filing]


def _category_counts_row(counts) -> dict:
    rate = counts.on_time_rate
    return {
        "total": counts.total,
        "completed_on_time": counts.completed_on_time,
        "completed_late": counts.completed_late,
        "in_progress": counts.in_progress,
        "overdue": counts.overdue,
        "not_started": counts.not_started,
        "regular": counts.regular,
        "withdrawn": counts.withdrawn,
        "due": counts.due,
        "rate": percent_value(rate),  # half-up, one decimal (tasks_app/formatting.py)
    }


def _agency_rows(ranking) -> list[dict]:
    ordered = sorted(
        ranking.agencies, key=lambda a: (a.rank is None, a.rank or 0, vi_sort_key(a.label))
    )
    return [
        {"name": agency.name, "rank": agency.rank, **_category_counts_row(agency.counts)}
        for agency in ordered
    ]


def monthly_report_context(*, report: MonthlyReport) -> dict:
    """Everything the PDF template shows, as plain data (dataclasses, dicts, SVG strings).

    Call inside translation.override(REPORT_LANGUAGE): labels and charts are translated
    when they are built. The dashboard board is returned too, with the report's trend: the
    Excel twin is written from it.
    """
    filters = _filters(report)
    as_of = filters.as_of
    # 1. The dashboard's numbers at D: every overdue task (the Excel twin lists them all).
    board = dashboard_summary(
        user=WHOLE_PLAN, filters=filters, with_trend=False, overdue_limit=None
    )
    board.trend = report_trend(filters=filters)
    issuer, issued_on = report.issuer, report.issued_on
    # The issuer is fixed when the draft is made (_draft_prepare); the number and the date
    # when it is issued (reports/issuing.py): a draft leaves them blank for the văn thư.
    assert issuer is not None
    parent = issuer_parent(issuer, as_of)
    totals = board.totals

    # 2. The month's change: completions since the end of the previous month.
    previous = [point for point in board.trend if point.date < report.period]
    completed_in_month = (
        totals.completed - previous[-1].counts.completed if previous else totals.completed
    )

    # 3. Agencies by level: short levels in the body, long ones in an appendix.
    levels: list[dict[str, Any]] = []
    long_levels: list[dict[str, Any]] = []
    for ranking in board.rankings:
        if len(ranking.agencies) > BODY_LEVEL_MAX_AGENCIES:
            long_levels.append({"name": ranking.name, "rows": _agency_rows(ranking)})
            continue
        chart = None
        # The agencies no longer in force at D (tasks to reassign) are not ranked: no chart.
        if len(ranking.agencies) >= 2 and ranking.in_force:
            chart = mark_safe(  # noqa: S308 - charts escape every text they draw
                charts.ranking_chart(ranking, variant=charts.PDF, width=640)
            )
        levels.append({"name": ranking.name, "chart": chart, "rows": _agency_rows(ranking)})
    level_totals = []
    for ranking in board.rankings:
        counts = Counts()
        for agency in ranking.agencies:
            counts.add(agency.counts)
        level_totals.append(
            {
                "name": ranking.name,
                "agencies": len(ranking.agencies),
                **_category_counts_row(counts),
            }
        )

    # Tables 1 and 2 are the totals and the priority areas; then the levels' tables.
    number = 3 + bool(long_levels)
    for level in levels:
        level["table"] = number
        number += 1

    coming, coming_total = report_coming_deadlines(filters=filters)
    overdue = _overdue_rows(board)
    return {
        "report": report,
        "board": board,
        "plan": report.plan,
        "scope": report.scope,
        "issuer": issuer,
        "issuer_parent": parent,
        "issuer_parent_lines": header_lines(parent) if parent else [],
        "issuer_lines": header_lines(issuer),
        "place": issuer.place_name or (parent.place_name if parent else ""),
        "draft": not report.is_final,
        "number": document_number(report.number, issuer.doc_code),
        "issued_on": issued_on,
        "date_line": date_line_parts(issued_on) if issued_on else BLANK_DATE_LINE,
        "replaces": report.replaces,
        "replaces_number": document_number(report.replaces.number, issuer.doc_code)
        if report.replaces is not None
        else "",
        "narrative": {
            name: [line for line in getattr(report, name).splitlines() if line.strip()]
            for name in ("assessment", "difficulties", "next_focus")
        },
        "month": period_label(report.period),
        "next_month": period_label(next_month(report.period)),
        "as_of": as_of,
        "totals": _category_counts_row(totals),
        "counts": totals,
        # Shares of the counted total, to one decimal, half-up (blank when nothing is counted).
        "shares": {
            name: percent_of(value, totals.total) if totals.total else ""
            for name, value in (
                ("completed", totals.completed),
                ("not_completed", totals.not_completed),
                ("regular", totals.regular),
            )
        },
        "completed_in_month": max(completed_in_month, 0),
        "extensions_granted": board.extensions_granted,
        "extended_tasks": board.extended_tasks,
        "areas": [
            {"code": area.code, "name": area.name, **_category_counts_row(area.counts)}
            for area in board.areas
        ],
        "levels": levels,
        "long_levels": long_levels,
        "level_totals": level_totals if long_levels else [],
        "area_chart": mark_safe(  # noqa: S308 - charts escape every text they draw
            charts.area_chart(board.areas, as_of, variant=charts.PDF, width=640)
        ),
        "trend_chart": mark_safe(  # noqa: S308
            charts.trend_chart(board.trend, variant=charts.PDF, width=640)
        )
        if len(board.trend) > 1
        else None,
        "overdue": overdue[:BODY_LIST_LIMIT],
        "overdue_more": max(len(overdue) - BODY_LIST_LIMIT, 0),
        "ageing": {
            "1_30": totals.overdue_1_30,
            "31_90": totals.overdue_31_90,
            "over_90": totals.overdue_over_90,
        },
        "difficulties": report_difficulties(filters=filters, period=report.period),
        "coming": coming,
        "coming_total": coming_total,
        "coming_more": max(coming_total - len(coming), 0),
        **_appendix_context(report_appendix(filters=filters)),
        "signature": _signature(issuer, report.signer_name),
        "distribution": [line.strip() for line in report.distribution.splitlines() if line.strip()]
        or _distribution(issuer, as_of, report.scope),
        "categories": [(code, ReportCategory(code).label) for code in ReportCategory.values],
    }


def _appendix_context(groups: list[dict]) -> dict:
    tasks = [row for group in groups for row in group["rows"]]
    shown = pdf_appendix(groups)
    shown_count = sum(len(group["rows"]) for group in shown)
    return {
        "appendix": shown,
        "appendix_shown": shown_count,
        "appendix_total": len(tasks),
        "appendix_complete": shown_count == len(tasks),
        "tasks": tasks,  # every task, for the Excel twin
    }


def monthly_report_html(*, report: MonthlyReport) -> tuple[str, Dashboard, list[ListedTask]]:
    """The report's HTML (in Vietnamese), the dashboard numbers it shows and every task
    line (the PDF's appendix may show part of them; the Excel twin shows all)."""
    with translation.override(REPORT_LANGUAGE):
        context = monthly_report_context(report=report)
        html = render_to_string(PDF_TEMPLATE, context)
    return html, context["board"], context["tasks"]


# --- Files --------------------------------------------------------------------------------------


def _write_atomically(name: str, content: bytes) -> str:
    """Write `content` to storage `name` so that the name never shows a partial file: a
    temporary file in the same folder, flushed to disk, then renamed over the name."""
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return name


def _delete_files(*names: str) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:  # already gone, or a read-only volume: nothing refers to it
                logger.warning("could not delete old report file %s", name, exc_info=True)


def report_download_name(report: MonthlyReport, extension: str) -> str:
    """An ASCII file name for downloads and attachments, e.g.
    bao-cao-cds-2022-06-toan-tinh-so-01-bc-stttt.pdf."""
    scope = slugify(report.scope.code) if report.scope is not None else "toan-tinh"
    number = f"-so-{report.number:02d}" if report.number else ""
    code = (
        f"-bc-{slugify(report.issuer.doc_code)}"
        if report.issuer is not None and report.issuer.doc_code
        else ""
    )
    return f"bao-cao-cds-{report.period:%Y-%m}-{scope}{number}{code}.{extension}"


# --- Generating ----------------------------------------------------------------------------------


def _stale_before(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(minutes=settings.REPORT_STALE_MINUTES)


def _draft_prepare(report: MonthlyReport) -> None:
    """Fix the issuer and write the narrative a draft starts with, once: the issuer is the
    agency as it stood at the end of the month; the narrative is prefilled from the month's
    status updates (report_narrative_prefill). A report edited or issued since keeps what
    it has."""
    if report.issuer_id:
        return
    issuer = agency_as_of(default_issuer(report.plan, report.scope), report.period_end, report.plan)
    report.issuer = issuer
    with translation.override(REPORT_LANGUAGE):
        prefill = report_narrative_prefill(report=report)
    MonthlyReport.objects.filter(pk=report.pk, issuer__isnull=True).update(issuer=issuer, **prefill)
    report.refresh_from_db()


@dataclass
class RenderedReport:
    """One rendering of a report: its figures, computed once (the dashboard's numbers and
    every task line), the PDF laid out from them, and the Excel twin built afterwards from
    the same figures in memory (`build_xlsx`), with how long each part took."""

    pdf: Any  # reports.pdf.RenderedPdf
    board: Dashboard
    tasks: list[ListedTask]
    figures_seconds: float
    pdf_seconds: float
    xlsx: bytes = b""
    xlsx_seconds: float | None = None

    def build_xlsx(self) -> bytes:
        """The Excel twin, from the figures the PDF shows: no query, nothing computed
        again (tests/reports/test_monthly_render_order.py counts the queries)."""
        started = time.perf_counter()
        with translation.override(REPORT_LANGUAGE):
            self.xlsx = dashboard_workbook(self.board, tasks=self.tasks)
        self.xlsx_seconds = time.perf_counter() - started
        return self.xlsx

    @property
    def durations(self) -> dict[str, float | None]:
        """The parts' seconds, as the row records them."""
        return {
            "figures_seconds": round(self.figures_seconds, 3),
            "pdf_seconds": round(self.pdf_seconds, 3),
            "xlsx_seconds": None if self.xlsx_seconds is None else round(self.xlsx_seconds, 3),
        }


def monthly_report_render_pdf(*, report: MonthlyReport) -> RenderedReport:
    """Compute the report's figures once and lay out its PDF (as the row stands, draft or
    issued); the Excel twin is left for `RenderedReport.build_xlsx`, once the PDF is done."""
    # WeasyPrint is imported here, not with the module: web processes that only list and
    # download reports do not pay for loading it.
    from reports.pdf import render_pdf

    started = time.perf_counter()
    html, board, tasks = monthly_report_html(report=report)
    computed = time.perf_counter()
    rendered = render_pdf(html)
    return RenderedReport(
        pdf=rendered,
        board=board,
        tasks=tasks,
        figures_seconds=computed - started,
        pdf_seconds=time.perf_counter() - computed,
    )


def _write_report_file(report: MonthlyReport, extension: str, content: bytes, suffix: str) -> str:
    return _write_atomically(report_file_name(report, extension, suffix), content)


def report_files_write(report: MonthlyReport, pdf: bytes, xlsx: bytes, suffix: str) -> list[str]:
    """Write the two files under fresh names (atomically, each); returns [pdf, xlsx]."""
    written = [_write_report_file(report, "pdf", pdf, suffix)]
    try:
        written.append(_write_report_file(report, "xlsx", xlsx, suffix))
    except BaseException:
        _delete_files(*written)
        raise
    return written


def _log_durations(report: MonthlyReport, rendered: RenderedReport) -> None:
    logger.info(
        "monthly report %s rendered: figures %.2f s, PDF %.2f s (%d pages), Excel %.2f s",
        report.pk,
        rendered.figures_seconds,
        rendered.pdf_seconds,
        rendered.pdf.pages,
        rendered.xlsx_seconds or 0.0,
    )


def final_report_refused(report: MonthlyReport) -> ReportError:
    return ReportError(
        _(
            "Report {number} was issued: its files are final. To change it, make a correction: "
            "a new report that replaces it."
        ).format(
            number=document_number(report.number, report.issuer.doc_code if report.issuer else "")
        )
    )


def monthly_report_generate(
    *,
    plan: Plan,
    period: datetime.date,
    scope: Agency | None = None,
    only_missing: bool = False,
) -> MonthlyReport:
    """Make (or render again) the DRAFT of the monthly report of `plan` for the month
    starting on `period`, for the whole plan or for `scope`'s subtree; return the row. The
    number and the date are given when it is issued (reports/issuing.py); an issued
    report is refused (ReportError): its files are final.

    Safe to run twice and concurrently: one row per (plan, month, scope); the issuer and
    the narrative are kept; the files are replaced atomically. While another worker
    holds the claim, returns the row untouched. With `only_missing`, a report already ready
    is returned as it is (the monthly beat run). A failure is recorded on the row (status
    failed, `error`) and raised; the previous files stay served. ReportError for a month
    that is not over yet or outside the plan.
    """
    # 1. The row: one per (plan, month, scope); a concurrent creation is found again.
    monthly_report_check_period(plan=plan, period=period)
    report, _created = MonthlyReport.objects.get_or_create(
        plan=plan, period=period, scope=scope, replaces=None
    )
    if only_missing and (report.status == ReportStatus.READY or report.is_final):
        return report
    return monthly_report_rerender(report=report)


def monthly_report_rerender(*, report: MonthlyReport) -> MonthlyReport:
    """Render a draft (or a correction) again, as monthly_report_generate describes;
    ReportError for an issued report, whose files are final."""
    if report.is_final:
        raise final_report_refused(report)

    # 2. Claim: only one worker generates a report at a time; a stale claim is taken over.
    now = timezone.now()
    token = uuid.uuid4()
    claimable = (
        ~Q(status=ReportStatus.GENERATING)
        | Q(claimed_at__isnull=True)
        | Q(claimed_at__lt=_stale_before(now))
    )
    # Only a draft is claimed: `report` may be a copy read before the report was issued.
    claimed = MonthlyReport.objects.filter(
        claimable, pk=report.pk, stage__in=[ReportStage.DRAFT, ReportStage.APPROVED]
    ).update(
        status=ReportStatus.GENERATING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    report.refresh_from_db()
    if not claimed and report.is_final:
        raise final_report_refused(report)
    if not claimed:
        logger.info("monthly report %s is being generated by another worker", report.pk)
        return report

    mine = MonthlyReport.objects.filter(
        pk=report.pk, claim_token=token, stage__in=[ReportStage.DRAFT, ReportStage.APPROVED]
    )
    new_files: list[str] = []
    try:
        # 3. The issuer and the narrative of a new draft; no number nor date before issue.
        _draft_prepare(report)

        # 4. The figures, computed once, and the PDF first: it is written (under a fresh
        #    name; the row still names the old files) before the Excel twin is built, from
        #    the same figures in memory. Each part's time is recorded on the row.
        files = monthly_report_render_pdf(report=report)
        rendered = files.pdf
        new_files.append(_write_report_file(report, "pdf", rendered.content, token.hex[:12]))

        # 5. The Excel twin, under a fresh name too.
        files.build_xlsx()
        new_files.append(_write_report_file(report, "xlsx", files.xlsx, token.hex[:12]))
        _log_durations(report, files)

        # 6. Swap: point the row at the new files, if the claim is still ours.
        old_files = (report.pdf.name, report.xlsx.name)
        with transaction.atomic():
            swapped = mine.update(
                pdf=new_files[0],
                xlsx=new_files[1],
                sha256=hashlib.sha256(rendered.content).hexdigest(),
                pdf_size=len(rendered.content),
                pages=rendered.pages,
                **files.durations,
                status=ReportStatus.READY,
                generated_at=timezone.now(),
                error="",
                claim_token=None,
            )
    except Exception as exc:
        mine.update(
            status=ReportStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            claim_token=None,
        )
        _delete_files(*new_files)
        report.refresh_from_db()
        raise

    if not swapped:
        # A stale-claim takeover happened meanwhile: the other worker's files win.
        _delete_files(*new_files)
    else:
        # 7. The old files go once the swap is committed (nothing names them any more).
        stale = [name for name in old_files if name and name not in new_files]
        transaction.on_commit(lambda: _delete_files(*stale))
    report.refresh_from_db()
    return report


# --- Sending -------------------------------------------------------------------------------------


def monthly_report_recipients(*, report: MonthlyReport) -> list[str]:
    """Who receives the report: the active leaders and monitors of the plan's province
    (memberships in the tree of the plan's issuing agency) with an e-mail address, the
    managers of the scope agency for a scoped report, and REPORT_RECIPIENTS."""
    root = report.plan.issuing_agency.path.split("/")[1]
    # Only the memberships in force today: staff who moved on receive their new agency's.
    current = Membership.objects.valid_on(timezone.localdate())
    memberships = current.filter(
        role__in=[Role.LEADER, Role.MONITOR], agency__path__startswith=f"/{root}/"
    )
    if report.scope_id:
        memberships = memberships | current.filter(role=Role.MANAGER, agency=report.scope_id)
    users = (
        get_user_model()
        .objects.filter(is_active=True, memberships__in=memberships)
        .exclude(email="")
        .distinct()
        .order_by("email")
    )
    addresses: dict[str, str] = {}
    for address in [*users.values_list("email", flat=True), *settings.REPORT_RECIPIENTS]:
        addresses.setdefault(address.strip().lower(), address.strip())
    return list(addresses.values())


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def monthly_report_message(
    *, report: MonthlyReport, recipients: list[str]
) -> EmailMultiAlternatives:
    """The e-mail: Vietnamese subject and body (text and HTML), the PDF attached."""
    try:
        archive_url = _absolute(reverse("report-archive:list"))
    except NoReverseMatch:
        archive_url = settings.SITE_URL
    issuer = report.issuer
    context = {
        "report": report,
        "plan": report.plan,
        "issuer": issuer,
        "scope": report.scope,
        "month": period_label(report.period),
        "number": document_number(report.number, issuer.doc_code if issuer else ""),
        "issued_on": report.issued_on,
        "pages": report.pages,
        "archive_url": archive_url,
        "site_url": settings.SITE_URL,
    }
    with translation.override(REPORT_LANGUAGE):
        subject = render_to_string("emails/monthly_report_subject.txt", context)
        text = render_to_string("emails/monthly_report.txt", context)
        html = render_to_string("emails/monthly_report.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(html, "text/html")
    with report.pdf.open("rb") as pdf:
        message.attach(report_download_name(report, "pdf"), pdf.read(), "application/pdf")
    if report.xlsx:
        with report.xlsx.open("rb") as xlsx:
            message.attach(report_download_name(report, "xlsx"), xlsx.read(), XLSX_TYPE)
    return message


def recipient_addresses(text: str) -> list[str]:
    """The addresses typed for a report (one per line, or separated by commas or
    semicolons), each once whatever its case, in the order typed."""
    listed: dict[str, str] = {}
    for part in text.replace(";", "\n").replace(",", "\n").splitlines():
        if part.strip():
            listed.setdefault(part.strip().lower(), part.strip())
    return list(listed.values())


def report_recipients_listed(report: MonthlyReport) -> list[str]:
    """The report's e-mail recipients as typed; the computed list when none is set."""
    return recipient_addresses(report.recipients) or monthly_report_recipients(report=report)


def monthly_report_send(*, report: MonthlyReport, sent_by=None) -> bool:
    """E-mail an ISSUED report to its recipients (`recipients`, editable per report), once,
    with the signed PDF and the Excel file attached; the report becomes SENT. Returns
    whether a mail went out.

    Safe to run twice and concurrently: the sending is claimed with a conditional update
    and recorded on the row (`emailed_at`, `emailed_to`); a sent report is never sent
    again (a stale claim, from a worker that died while sending, may be taken over). With
    no recipient, nothing is sent and nothing is recorded. A mail error puts the claim
    back and is raised, for the task's retry.
    """
    now = timezone.now()
    claimable = Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=_stale_before(now))
    claimed = MonthlyReport.objects.filter(
        claimable,
        pk=report.pk,
        stage=ReportStage.ISSUED,
        status=ReportStatus.READY,
        emailed_at__isnull=True,
    ).update(email_claimed_at=now)
    if not claimed:
        report.refresh_from_db()
        return False
    report.refresh_from_db()
    mine = MonthlyReport.objects.filter(pk=report.pk, email_claimed_at=now)

    recipients = report_recipients_listed(report)
    if not recipients:
        logger.warning("monthly report %s has no recipient with an e-mail address", report.pk)
        mine.update(email_claimed_at=None)
        report.refresh_from_db()
        return False
    try:
        monthly_report_message(report=report, recipients=recipients).send()
    except Exception as exc:
        mine.update(email_claimed_at=None, email_error=f"{type(exc).__name__}: {exc}"[:4000])
        raise
    mine.update(
        emailed_at=timezone.now(),
        emailed_to=", ".join(recipients),
        email_error="",
        stage=ReportStage.SENT,
        sent_by=sent_by,
        version=F("version") + 1,
    )
    report.refresh_from_db()
    return True


def monthly_report_request(*, report: MonthlyReport) -> MonthlyReport:
    """Ask for a draft to be rendered (again) in the background (archive page, API, a saved
    narrative): the row is marked PENDING in the caller's transaction, and the Celery task
    is sent after the commit. The current files stay served until the new ones replace
    them. The row is the request's record: when the broker cannot be reached, nothing is
    lost and no error reaches the person; the sweep (`render_requests_resend`, on the beat
    every few minutes) sends it again once the broker is back."""
    MonthlyReport.objects.filter(pk=report.pk).exclude(stage__in=FINAL_STAGES).exclude(
        status=ReportStatus.GENERATING
    ).update(status=ReportStatus.PENDING, updated_at=timezone.now())
    transaction.on_commit(lambda: render_request_send(report.pk))
    return report


def render_request_send(report_id: int) -> bool:
    """Send the rendering task of one report; False (with a warning in the log) when the
    broker cannot be reached: the row stays PENDING for the sweep."""
    from reports.tasks import monthly_report_regenerate_task as regenerate_task

    try:
        regenerate_task.delay(report_id)
    except BROKER_ERRORS as error:
        logger.warning(
            "broker unreachable, report %s left pending for the next sweep: %s", report_id, error
        )
        return False
    return True


def render_requests_resend() -> int:
    """Send again the rendering of every draft whose request got lost: still PENDING since
    before `render_resend_cutoff()` (the broker was down, or the message was lost; the same
    rule as `MonthlyReport.render_request_lost`), or GENERATING under a stale claim (its
    worker died mid-render). Returns how many were sent. Safe to run twice: a render claims
    its row, and a report rendered meanwhile is READY."""
    lost = Q(status=ReportStatus.PENDING, updated_at__lt=render_resend_cutoff()) | Q(
        status=ReportStatus.GENERATING, claimed_at__lt=_stale_before(timezone.now())
    )
    pending = MonthlyReport.objects.filter(lost).exclude(stage__in=FINAL_STAGES)
    return sum(render_request_send(pk) for pk in pending.values_list("pk", flat=True))


def monthly_report_create(
    *, plan: Plan, period: datetime.date, scope: Agency | None = None, drafted_by=None
) -> tuple[MonthlyReport, bool]:
    """Create the draft of a report not made yet and ask for its rendering (archive page
    and API); an existing draft is rendered again, an issued report left as it is.
    Returns (report, created)."""
    monthly_report_check_period(plan=plan, period=period)
    report, created = MonthlyReport.objects.get_or_create(
        plan=plan,
        period=period,
        scope=scope,
        replaces=None,
        defaults={"drafted_by": drafted_by},
    )
    if not report.is_final:
        monthly_report_request(report=report)
    return report, created
