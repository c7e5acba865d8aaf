"""Query filters of the list endpoints (django-filter), and the task ordering.

Filters narrow a queryset that already comes from the permission scope; none of them widens
it. Ids that match nothing give an empty list rather than an error.
"""

from django import forms
from django.db.models import Exists, F, OuterRef
from django_filters import rest_framework as filters
from rest_framework.filters import OrderingFilter

from tasks_app.choices import AgencyKind, ExtensionStatus, ReportCategory, TaskState
from tasks_app.models import Agency, DeadlineExtension, PriorityArea, Task
from tasks_app.search import search


class IdFilter(filters.Filter):
    """An integer id."""

    field_class = forms.IntegerField


def _search(queryset, name, value):
    return search(queryset, value) if value else queryset


def _unchanged(queryset, name, value):
    return queryset


class TaskFilter(filters.FilterSet):
    plan = IdFilter(field_name="plan_id", help_text="Tasks of this plan (id).")
    priority_area = IdFilter(field_name="priority_area_id", help_text="Priority area (id).")
    lead_agency = IdFilter(
        method="filter_lead_agency",
        help_text="Tasks led by this agency (id); with `subtree=true` also those led by "
        "the agencies below it.",
    )
    subtree = filters.BooleanFilter(
        method=_unchanged, help_text="With `lead_agency`: include the agencies below it."
    )
    coordinating_agency = IdFilter(
        method="filter_coordinating_agency",
        help_text="Tasks this agency (id) coordinates (cơ quan phối hợp).",
    )
    level = filters.CharFilter(
        field_name="lead_agency__level__code",
        help_text="Administrative level code of the lead agency (province, district, commune).",
    )
    # distinct=False: both filter columns of the task row and cannot repeat rows, and a
    # DISTINCT would make PostgreSQL compute the category of every matching task twice.
    state = filters.MultipleChoiceFilter(
        choices=TaskState.choices,
        distinct=False,
        help_text="Stored workflow state; repeat for several.",
    )
    as_of = filters.DateFilter(
        method=_unchanged,
        help_text="Report date (YYYY-MM-DD) of `category`; default today (Asia/Ho_Chi_Minh).",
    )
    category = filters.MultipleChoiceFilter(
        choices=ReportCategory.choices,
        distinct=False,
        help_text="Report category at `as_of`; repeat for several.",
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue",
        help_text="true: only tasks overdue at `as_of`; false: only those that are not.",
    )
    due_after = filters.DateFilter(
        field_name="due", lookup_expr="gte", help_text="Due on or after."
    )
    due_before = filters.DateFilter(
        field_name="due", lookup_expr="lte", help_text="Due on or before."
    )
    parent = IdFilter(field_name="parent_id", help_text="Children of this task (id).")
    top_level = filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", help_text="true: only tasks with no parent."
    )
    is_parent = filters.BooleanFilter(
        field_name="is_parent", help_text="true: only tasks split per agency; false: leaves."
    )
    q = filters.CharFilter(
        method=_search,
        help_text="Search code and title, ignoring case and Vietnamese diacritics.",
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_lead_agency(self, queryset, name, value: int):
        if value is None:
            return queryset
        if not self.form.cleaned_data.get("subtree"):
            return queryset.filter(lead_agency_id=value)
        agency = Agency.objects.filter(pk=value).first()
        if agency is None:
            return queryset.none()
        return queryset.filter(lead_agency__path__startswith=agency.path)

    def filter_coordinating_agency(self, queryset, name, value: int):
        if value is None:
            return queryset
        # Exists, not a join: a join on the many-to-many would repeat rows.
        through = Task.coordinating_agencies.through.objects.filter(
            task_id=OuterRef("pk"), agency_id=value
        )
        return queryset.filter(Exists(through))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(category=ReportCategory.OVERDUE)
        return queryset.exclude(category=ReportCategory.OVERDUE)


class TaskOrdering(OrderingFilter):
    """`?ordering=due,-progress`: fields due, code, progress, updated_at (prefix `-` to
    reverse). Tasks without a due date (regular tasks) come last either way, and the id
    breaks ties so that pages never overlap."""

    ordering_description = (
        "Sort by due, code, progress or updated_at; `-` before a field reverses it; "
        "several separated by commas (e.g. `due,-progress`). Tasks without a due date "
        "come last."
    )

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        expressions = []
        for term in ordering:
            descending = term.startswith("-")
            expression = F(term.lstrip("-"))
            expressions.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return queryset.order_by(*expressions, "pk")


class AgencyFilter(filters.FilterSet):
    level = filters.CharFilter(
        field_name="level__code", help_text="Administrative level code (province, district…)."
    )
    parent = IdFilter(field_name="parent_id", help_text="Agencies directly under this one (id).")
    subtree = IdFilter(
        method="filter_subtree", help_text="This agency (id) and every agency below it."
    )
    valid_on = filters.DateFilter(
        method="filter_valid_on", help_text="Agencies that existed on this date (YYYY-MM-DD)."
    )
    kind = filters.ChoiceFilter(choices=AgencyKind.choices, help_text="Kind of agency.")
    q = filters.CharFilter(
        method=_search,
        help_text="Search code and names, ignoring case and Vietnamese diacritics.",
    )

    class Meta:
        model = Agency
        fields: list[str] = []

    def filter_subtree(self, queryset, name, value: int):
        if value is None:
            return queryset
        agency = Agency.objects.filter(pk=value).first()
        if agency is None:
            return queryset.none()
        return queryset.filter(path__startswith=agency.path)

    def filter_valid_on(self, queryset, name, value):
        return queryset.valid_on(value) if value else queryset


class PriorityAreaFilter(filters.FilterSet):
    plan = IdFilter(field_name="plan_id", help_text="Priority areas of this plan (id).")

    class Meta:
        model = PriorityArea
        fields: list[str] = []


class ExtensionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ExtensionStatus.choices, help_text="Request status.")
    task = IdFilter(field_name="task_id", help_text="Requests on this task (id).")
    plan = IdFilter(field_name="task__plan_id", help_text="Requests on tasks of this plan (id).")

    class Meta:
        model = DeadlineExtension
        fields: list[str] = []
