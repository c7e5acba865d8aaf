"""The leadership dashboard: where the plan stands at a date, and its Excel download.

Views stay thin: parse the filters with DashboardFilterForm, compute through
`reports.selectors` (which start from the permission scope, so an agency manager sees the
numbers of the agency's subtree), render. Nothing is cached: every response shows the time
its numbers were computed ("Số liệu tính lúc …").

An htmx request (the filter form) gets the dashboard body only; the monthly trend, which
costs one pass over the tasks per month end, loads as its own fragment after the page.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from reports import charts
from reports.excel import dashboard_workbook
from reports.forms import DashboardFilterForm
from reports.selectors import (
    COUNTED_CATEGORIES,
    AgencyRow,
    LevelRanking,
    dashboard_summary,
    dashboard_trend,
)
from tasks_app.choices import ReportCategory
from tasks_app.collation import vi_sort_key
from tasks_app.permissions import awaits_agency, sees_everything

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A level with more agencies than this (the communes: hundreds in a province, thousands in
# the country) shows no chart, and its table lists the RANKING_ROWS_SHORT agencies with the
# most overdue tasks until the reader asks for the whole ranking (`?ranking=all`).
RANKING_CHART_MAX = 30
RANKING_ROWS_SHORT = 15


@dataclass
class RankingTable:
    ranking: LevelRanking
    chart: str  # SVG, or "" for a level with too many agencies to read as bars
    rows: list[AgencyRow]  # what the table lists

    @property
    def shortened(self) -> bool:
        return len(self.rows) < len(self.ranking.agencies)


def _ranking_tables(board, *, whole: bool) -> list[RankingTable]:
    tables = []
    for ranking in board.rankings:
        agencies = ranking.agencies
        small = len(agencies) <= RANKING_CHART_MAX
        rows = agencies
        if not small and not whole:
            rows = sorted(
                agencies,
                key=lambda r: (-r.counts.overdue, r.counts.on_time_rate or 0, vi_sort_key(r.label)),
            )[:RANKING_ROWS_SHORT]
        # No chart for the agencies no longer in force at D: they are not ranked.
        drawn = small and ranking.in_force
        chart = mark_safe(charts.ranking_chart(ranking)) if drawn else ""  # noqa: S308
        tables.append(RankingTable(ranking=ranking, chart=chart, rows=rows))
    return tables


def _categories() -> list[tuple[str, str]]:
    return [(code, ReportCategory(code).label) for code in COUNTED_CATEGORIES]


def _finish(response: HttpResponse) -> HttpResponse:
    # The same URL answers a page or a fragment, and the numbers change with every update.
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Headline figures, categories per priority area, agency rankings per level, the
    overdue list, KPI progress; the trend arrives as a fragment (`dashboard_trend_part`). A
    person without an agency yet is told whom to ask instead of empty figures."""
    if awaits_agency(request.user):
        return render(request, "tasks_app/start_no_agency.html", {})
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.to_filters()
    context = {
        "form": form,
        "filters": filters,
        "categories": _categories(),
        # Said on the page: a manager's numbers cover the agency's subtree only.
        "scope_limited": not sees_everything(request.user),
    }
    if filters is not None:
        context["export_query"] = urlencode(filters.as_params())
        board = dashboard_summary(user=request.user, filters=filters, with_trend=False)
        context.update(
            board=board,
            area_chart=mark_safe(charts.area_chart(board.areas, filters.as_of)),  # noqa: S308
            ranking_tables=_ranking_tables(board, whole=request.GET.get("ranking") == "all"),
        )
    if request.htmx and not request.htmx.history_restore_request:
        return _finish(render(request, "reports/partials/_dashboard_body.html", context))
    return _finish(render(request, "reports/dashboard.html", context))


@login_required
@require_GET
def dashboard_trend_part(request: HttpRequest) -> HttpResponse:
    """The trend fragment: categories at each month end of the plan period up to D."""
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.to_filters()
    context = {"filters": filters, "categories": _categories(), "computed_at": timezone.now()}
    if filters is not None:
        trend = dashboard_trend(user=request.user, filters=filters)
        stored = [point.stored_at for point in trend if point.stored_at is not None]
        context.update(
            trend=trend,
            trend_chart=mark_safe(charts.trend_chart(trend)),  # noqa: S308
            # Past month ends read from stored counts: say since when (trend_store.py).
            trend_stored_at=min(stored) if stored else None,
        )
    return _finish(render(request, "reports/partials/_trend.html", context))


@login_required
@require_GET
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's numbers, with the same filters, as an Excel workbook."""
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.to_filters()
    if filters is None:
        return _finish(HttpResponse(status=404))
    board = dashboard_summary(user=request.user, filters=filters, overdue_limit=None)
    response = HttpResponse(dashboard_workbook(board), content_type=XLSX)
    name = f"dashboard-{filters.plan.code}-{filters.as_of:%Y-%m-%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _finish(response)
