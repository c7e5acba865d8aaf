"""Dashboard numbers as JSON under /api/v1/dashboard/ (the same selectors as the page).

Every endpoint takes the dashboard's filters as query parameters (`plan`, `as_of`, `level`,
`priority_area`, `agency`), parsed by the page's own DashboardFilterForm, and counts only the
tasks the user may see (tasks_visible_to). An agency outside the user's scope is an invalid
choice (400), exactly like one that does not exist. Responses are never cached and carry
`computed_at`.
"""

from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.forms import DashboardFilterForm
from reports.links import tasks_url
from reports.selectors import (
    OVERDUE_LIST_LIMIT,
    Dashboard,
    DashboardFilters,
    dashboard_overdue,
    dashboard_summary,
    dashboard_trend,
)
from tasks_app.api.common import (
    CategoryCountsSerializer,
    CategorySerializer,
    category_list,
    detail_error,
    form_validation_error,
    validation_error,
)
from tasks_app.choices import AgeingBand

# --- Input (documentation of the query parameters; parsing is the form's) ---------------------


class DashboardQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="The as-of date D (YYYY-MM-DD); default: today."
    )
    plan = serializers.IntegerField(
        required=False, help_text="Plan id; default: the newest plan started by as_of."
    )
    level = serializers.IntegerField(
        required=False, help_text="Administrative level id of the lead agency."
    )
    priority_area = serializers.IntegerField(
        required=False, help_text="Priority area id (of the plan)."
    )
    agency = serializers.IntegerField(
        required=False, help_text="Agency id: tasks led by it or by its sub-units."
    )


# --- Output ----------------------------------------------------------------------------------


class CountsSerializer(CategoryCountsSerializer):
    """The counts per report category, with the dashboard's measures."""

    completed = serializers.IntegerField()
    not_completed = serializers.IntegerField()
    due = serializers.IntegerField(help_text="Tasks whose due date in force is on or before D.")
    due_on_time = serializers.IntegerField(help_text="Of those, completed on time.")
    on_time_rate = serializers.FloatField(
        allow_null=True, help_text="due_on_time ÷ due; null when nothing is due."
    )
    overdue_1_30 = serializers.IntegerField()
    overdue_31_90 = serializers.IntegerField()
    overdue_over_90 = serializers.IntegerField()
    kpi_tasks = serializers.IntegerField()
    kpi_met = serializers.IntegerField()
    kpi_achievement = serializers.FloatField(
        allow_null=True, help_text="Mean of min(KPI actual at D ÷ target, 1)."
    )
    tasks_url = serializers.CharField(help_text="The task list behind these numbers.")


def _counts(counts, filters: DashboardFilters, **slice_params) -> dict:
    data = counts.as_dict()
    data.pop("kpi_ratio_sum", None)
    # The tasks counted (withdrawn ones are out of the totals).
    data["tasks_url"] = tasks_url(filters, counted=1, **slice_params)
    return data


class FiltersSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    plan_code = serializers.CharField()
    as_of = serializers.DateField()
    level = serializers.IntegerField(allow_null=True)
    priority_area = serializers.IntegerField(allow_null=True)
    agency = serializers.IntegerField(allow_null=True)


def _filters(filters: DashboardFilters) -> dict:
    return {
        "plan": filters.plan.pk,
        "plan_code": filters.plan.code,
        "as_of": filters.as_of,
        "level": filters.level.pk if filters.level else None,
        "priority_area": filters.priority_area.pk if filters.priority_area else None,
        "agency": filters.agency.pk if filters.agency else None,
    }


class AreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    counts = CountsSerializer()


class ParentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    short_name = serializers.CharField()


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    rank = serializers.IntegerField(
        allow_null=True, help_text="By on-time rate within the level; null when nothing is due."
    )
    parent = ParentSerializer(allow_null=True, help_text="The parent agency, as at D.")
    in_force = serializers.BooleanField(
        help_text="False: the agency no longer existed at D but led tasks counted at D."
    )
    counts = CountsSerializer()


class LevelRankingSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="Null for the group of agencies no longer in force at D."
    )
    code = serializers.CharField()
    name = serializers.CharField()
    in_force = serializers.BooleanField(
        help_text="True: an administrative level in force at D, its agencies ranked."
    )
    agencies = AgencySerializer(many=True)


class OverdueTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    lead_agency_id = serializers.IntegerField()
    lead_agency = serializers.CharField()
    priority_area_id = serializers.IntegerField()
    priority_area = serializers.CharField()
    due = serializers.DateField(help_text="The due date in force at D.")
    original_due = serializers.DateField(allow_null=True)
    days_overdue = serializers.IntegerField(help_text="D − due.")
    band = serializers.ChoiceField(choices=AgeingBand.choices)
    progress = serializers.IntegerField()


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    counts = CountsSerializer()
    stored_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When this past point's counts were computed and stored; null when they "
        "were counted for this answer.",
    )


class CategoriesResponseSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    computed_at = serializers.DateTimeField()
    categories = CategorySerializer(
        many=True, help_text="The categories in the reports' order, with their labels."
    )
    totals = CountsSerializer()
    extensions_granted = serializers.IntegerField(help_text="Extensions approved by D.")
    extended_tasks = serializers.IntegerField()
    areas = AreaSerializer(many=True)


class SummaryResponseSerializer(CategoriesResponseSerializer):
    rankings = LevelRankingSerializer(many=True)


class AgenciesResponseSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    computed_at = serializers.DateTimeField()
    rankings = LevelRankingSerializer(many=True)


class OverdueResponseSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    computed_at = serializers.DateTimeField()
    results = OverdueTaskSerializer(many=True)


class TrendResponseSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    computed_at = serializers.DateTimeField()
    points = TrendPointSerializer(many=True)


class DashboardResponseSerializer(SummaryResponseSerializer):
    overdue = OverdueTaskSerializer(many=True)
    trend = TrendPointSerializer(many=True)


# --- Shaping the selectors' dataclasses -------------------------------------------------------


def _areas(board: Dashboard) -> list[dict]:
    return [
        {
            "id": a.id,
            "code": a.code,
            "name": a.name,
            "counts": _counts(a.counts, board.filters, priority_area=a.id),
        }
        for a in board.areas
    ]


def _parent(agency) -> dict | None:
    """The agency's parent as at D (the agency row's own parent: rows are versioned)."""
    if agency.parent_id is None:
        return None
    return {
        "id": agency.parent_id,
        "name": agency.parent_name,
        "short_name": agency.parent_short_name,
    }


def _rankings(board: Dashboard) -> list[dict]:
    return [
        {
            "id": r.id,
            "code": r.code,
            "name": r.name,
            "in_force": r.in_force,
            "agencies": [
                {
                    "id": a.id,
                    "code": a.code,
                    "name": a.name,
                    "short_name": a.short_name,
                    "rank": a.rank,
                    "parent": _parent(a),
                    "in_force": a.in_force,
                    "counts": _counts(a.counts, board.filters, lead_agency=a.id),
                }
                for a in r.agencies
            ],
        }
        for r in board.rankings
    ]


def _overdue(rows) -> list[dict]:
    return [vars(row) for row in rows]


def _trend(points, filters: DashboardFilters) -> list[dict]:
    return [
        {
            "date": p.date,
            "counts": _counts(p.counts, filters, as_of=p.date.isoformat()),
            "stored_at": p.stored_at,
        }
        for p in points
    ]


# --- Views ------------------------------------------------------------------------------------

_ERRORS = {
    400: validation_error(
        "Invalid filter (unknown or hidden plan, area, agency; a level or agency that does "
        "not exist on the as-of date)."
    ),
    404: detail_error("There is no plan yet."),
}


class _DashboardView(APIView):
    """Parses the filters (400 on an invalid one) and never lets the answer be cached."""

    def filters(self, request) -> DashboardFilters:
        form = DashboardFilterForm(request.query_params or None, user=request.user)
        filters = form.to_filters(lenient=False)
        if form.errors:
            raise form_validation_error(form)
        if filters is None:
            raise NotFound(_("There is no plan yet."))
        return filters

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response


def _head(board, filters) -> dict:
    """What every dashboard answer starts with: its filters and when it was computed."""
    return {"filters": _filters(filters), "computed_at": board.computed_at}


def _categories(board, filters) -> dict:
    """The category counts in total and per priority area, with the extensions granted."""
    return {
        "categories": category_list(),
        "totals": _counts(board.totals, filters),
        "extensions_granted": board.extensions_granted,
        "extended_tasks": board.extended_tasks,
        "areas": _areas(board),
    }


class DashboardView(_DashboardView):
    """Everything the dashboard shows at D: totals, areas, rankings, overdue (the oldest
    20), extensions granted and the monthly trend."""

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={200: DashboardResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        board = dashboard_summary(user=request.user, filters=filters)
        return Response(
            {
                **_head(board, filters),
                **_categories(board, filters),
                "rankings": _rankings(board),
                "overdue": _overdue(board.overdue),
                "trend": _trend(board.trend, filters),
            }
        )


class DashboardSummaryView(_DashboardView):
    """Counts of leaf tasks per report category at D (default today), in total, per
    priority area and per lead agency (ranked within its administrative level), over the
    tasks the user may see. Withdrawn tasks are counted apart and left out of `total`. The
    same numbers as the dashboard page, in a constant number of queries."""

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={200: SummaryResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        # overdue_limit=0: no list of overdue tasks (their count is in `totals`).
        board = dashboard_summary(
            user=request.user, filters=filters, with_trend=False, overdue_limit=0
        )
        return Response(
            {**_head(board, filters), **_categories(board, filters), "rankings": _rankings(board)}
        )


class DashboardCategoriesView(_DashboardView):
    """Counts per report category at D, in total and per priority area."""

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={200: CategoriesResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        board = dashboard_summary(user=request.user, filters=filters, with_trend=False)
        return Response({**_head(board, filters), **_categories(board, filters)})


class DashboardAgenciesView(_DashboardView):
    """Agencies ranked by on-time rate within each administrative level."""

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={200: AgenciesResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        board = dashboard_summary(user=request.user, filters=filters, with_trend=False)
        return Response({**_head(board, filters), "rankings": _rankings(board)})


class DashboardOverdueView(_DashboardView):
    """Overdue tasks at D, oldest first, with days overdue and ageing band."""

    @extend_schema(
        parameters=[
            DashboardQuerySerializer,
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"How many (1–500, default {OVERDUE_LIST_LIMIT}).",
            ),
        ],
        responses={200: OverdueResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        try:
            limit = int(request.query_params.get("limit", OVERDUE_LIST_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 500:
            raise ValidationError({"limit": [_("Enter a whole number from 1 to 500.")]})
        return Response(
            {
                "filters": _filters(filters),
                "computed_at": timezone.now(),
                "results": _overdue(
                    dashboard_overdue(user=request.user, filters=filters, limit=limit)
                ),
            }
        )


class DashboardTrendView(_DashboardView):
    """Counts per category at each month end of the plan period up to D, and at D."""

    @extend_schema(
        parameters=[DashboardQuerySerializer],
        responses={200: TrendResponseSerializer, **_ERRORS},
        tags=["dashboard"],
    )
    def get(self, request):
        filters = self.filters(request)
        return Response(
            {
                "filters": _filters(filters),
                "computed_at": timezone.now(),
                "points": _trend(dashboard_trend(user=request.user, filters=filters), filters),
            }
        )
