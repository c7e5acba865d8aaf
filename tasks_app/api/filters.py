"""Query filters of the list endpoints (django-filter), and the task ordering.

Filters narrow a queryset that already comes from the permission scope; none of them widens
it. Ids that match nothing give an empty list rather than an error.
"""

from django import forms
from django.db.models import F
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters import utils as filter_utils
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter

from tasks_app import selectors
from tasks_app.choices import AgeingBand, AgencyKind, ExtensionStatus, ReportCategory, TaskState
from tasks_app.models import Agency, DeadlineExtension, PriorityArea, Task
from tasks_app.search import search
from tasks_app.selectors import TASK_RELATION_COORDINATED, TASK_RELATION_LED


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.Filter):
    """An integer id."""

    field_class = forms.IntegerField


def _search(queryset, name, value):
    return search(queryset, value) if value else queryset


class TaskFilter(filters.FilterSet):
    """The query parameters of the task list, parsed and documented here; what each one
    does is `selectors.task_filter`, the same function as the staff list's filters, with
    the same parameter names."""

    plan = IdFilter(help_text="Tasks of this plan (id).")
    priority_area = IdFilter(help_text="Priority area (id).")
    lead_agency = IdFilter(
        help_text="Tasks led by this agency (id); with `subtree=true` also those led by "
        "the agencies below it."
    )
    subtree = filters.BooleanFilter(help_text="With `lead_agency`: include the agencies below it.")
    agency = IdFilter(help_text="Tasks whose lead agency is this agency (id) or lies below it.")
    coordinating_agency = IdFilter(
        help_text="Tasks this agency (id) coordinates (cơ quan phối hợp)."
    )
    relation = filters.ChoiceFilter(
        choices=[(TASK_RELATION_LED, "led"), (TASK_RELATION_COORDINATED, "coordinated")],
        help_text="led: tasks led by the user's agencies or those below them; coordinated: "
        "tasks one of them coordinates.",
    )
    level = filters.CharFilter(
        help_text="Administrative level of the lead agency: its code (province, district, "
        "commune) or id."
    )
    state = filters.MultipleChoiceFilter(
        choices=TaskState.choices, help_text="Stored workflow state; repeat for several."
    )
    as_of = filters.DateFilter(
        help_text="Report date (YYYY-MM-DD) of `category`; default today (Asia/Ho_Chi_Minh)."
    )
    category = filters.MultipleChoiceFilter(
        choices=ReportCategory.choices, help_text="Report category at `as_of`; repeat for several."
    )
    overdue = filters.BooleanFilter(
        help_text="true: only tasks overdue at `as_of`; false: only those that are not."
    )
    overdue_days = filters.ChoiceFilter(
        choices=AgeingBand.choices, help_text="Overdue at `as_of` by this many days (a band)."
    )
    counted = filters.BooleanFilter(
        help_text="true: only the tasks reports count (withdrawn tasks left out)."
    )
    due_by = filters.BooleanFilter(
        help_text="true: only tasks whose due date in force at `as_of` is on or before it."
    )
    due_after = filters.DateFilter(help_text="Due on or after.")
    due_before = filters.DateFilter(help_text="Due on or before.")
    parent = IdFilter(help_text="Children of this task (id).")
    top_level = filters.BooleanFilter(help_text="true: only tasks with no parent.")
    is_parent = filters.BooleanFilter(help_text="true: only tasks split per agency; false: leaves.")
    needs_reassignment = filters.BooleanFilter(
        help_text="true: only tasks flagged for reassignment (cần giao lại: their lead agency "
        "ceased to exist); false: only the others."
    )
    q = filters.CharFilter(
        help_text="Search code and title, ignoring case and Vietnamese diacritics."
    )

    # Parameters that read the rolled-up category or the due date in force, which the
    # list's faster base (selectors.task_list_for_api) lacks.
    NEEDS_CATEGORY = ("category", "overdue", "overdue_days", "counted", "due_by")

    # Parameters whose SQL is made of their values alone: nothing is looked up in the
    # database while the filter is built, and the user's own agencies are not read
    # (`relation`). A list whose query string has only these (and the page, its size, the
    # ordering) reads its page with SQL built once per query string (TaskViewSet.list).
    SQL_FROM_VALUES = (
        "plan",
        "priority_area",
        "lead_agency",
        "coordinating_agency",
        "state",
        "as_of",
        "category",
        "overdue",
        "overdue_days",
        "counted",
        "due_by",
        "due_after",
        "due_before",
        "parent",
        "top_level",
        "is_parent",
        "needs_reassignment",
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def get_form_class(self):
        """The form that parses the parameters, built once per process: django-filter
        builds a form field per filter on every request, a millisecond of one agency's
        list (issue 18). Its fields take nothing from the request, and each form made from
        it gets copies of them, as Django's forms do."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    # Query strings of SQL_FROM_VALUES parameters found valid in this process (check_values).
    _valid_values: set[tuple] = set()

    @classmethod
    def check_values(cls, request) -> None:
        """Raise the 400 that the filter backend raises when the query string, made of
        SQL_FROM_VALUES parameters (and the page, its size, the ordering), is invalid.
        Whether such a query string is valid depends on it alone (no look-up, not the
        user), so a valid one is checked once per process: building and cleaning the form
        was a millisecond of one agency's list (issue 18); errors are never remembered."""
        key = tuple(sorted((name, tuple(values)) for name, values in request.query_params.lists()))
        if key in cls._valid_values:
            return
        filterset = cls(data=request.query_params, queryset=Task.objects.none(), request=request)
        if not filterset.is_valid():
            raise filter_utils.translate_validation(filterset.errors)
        if len(cls._valid_values) >= 1024:  # many query strings: start again rather than grow
            cls._valid_values.clear()
        cls._valid_values.add(key)

    def filter_queryset(self, queryset):
        params = dict(self.form.cleaned_data)
        as_of = params.pop("as_of", None) or timezone.localdate()
        user = self.request.user if self.request is not None else None
        return selectors.task_filter(queryset, user=user, as_of=as_of, **params)


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
