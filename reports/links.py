"""Links from a dashboard number to the task list (/tasks/) that shows the tasks behind it.

The parameter names are the task list's filters (tasks_app.forms.TaskFilterForm, the same
names as the API's: tasks_app.selectors.task_filter); they are written here only, so that
the page and the API link the same way:

  plan, as_of            the plan, and the date at which the category is computed
  leaves=1               leaf tasks only (the dashboard does not count parent tasks)
  category               a ReportCategory value
  priority_area, level   the priority area; the administrative level of the lead agency
  agency                 the lead agency lies in this agency's subtree
  lead_agency            exactly this lead agency (ranking rows)
  counted=1              only the tasks the report counts: withdrawn tasks left out
  due_by=1               due date in force on or before as_of
  overdue_days           an ageing band of overdue tasks (tasks_app.choices.AgeingBand)
"""

from functools import lru_cache
from urllib.parse import urlencode

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from reports.selectors import DashboardFilters


def task_list_path() -> str:
    # reverse() takes a fraction of a millisecond and a page links a thousand numbers:
    # remember the path per URL configuration and script prefix.
    return _task_list_path(get_urlconf(), get_script_prefix())


@lru_cache(maxsize=8)
def _task_list_path(urlconf, prefix: str) -> str:
    try:
        return reverse("tasks_app:task-list", urlconf=urlconf)
    except NoReverseMatch:  # the staff pages are not installed
        return f"{prefix}tasks/"


@lru_cache(maxsize=32)
def _base(filters: DashboardFilters, path: str) -> tuple[str, frozenset[str]]:
    # A dashboard page links some thousand numbers with the same filters: encode them once.
    params = {**filters.as_params(), "leaves": "1"}
    return f"{path}?{urlencode(params)}", frozenset(params)


def tasks_url(filters: DashboardFilters, **extra: object) -> str:
    """The task-list URL for the tasks behind a number: the dashboard's filters plus the
    slice (`category=`, `lead_agency=`, `priority_area=`, …); None values are left out."""
    extra = {key: str(value) for key, value in extra.items() if value is not None and value != ""}
    base, keys = _base(filters, task_list_path())
    if keys.isdisjoint(extra):
        return f"{base}&{urlencode(extra)}" if extra else base
    # The slice replaces one of the filters (e.g. the as-of date of a trend point).
    params = {**filters.as_params(), "leaves": "1", **extra}
    return f"{task_list_path()}?{urlencode(params)}"
