"""Selectors: reading tasks and agencies, always through the permission scope.

The related rows every list needs are fetched here, once, so that the number of queries
does not grow with the number of rows shown.
"""

import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from tasks_app.models import Agency, DeadlineExtension, StatusUpdate, Task
from tasks_app.permissions import agencies_visible_to, tasks_visible_to
from tasks_app.search import search


def task_list_visible_to(
    *, user, as_of: datetime.date | None = None, query: str = ""
) -> QuerySet[Task]:
    """Tasks the user may see, each annotated with its report `category` at `as_of`
    (default: today in Asia/Ho_Chi_Minh), with lead agency, plan and priority area joined
    and coordinating agencies prefetched."""
    as_of = as_of or timezone.localdate()
    tasks = tasks_visible_to(user).with_category(as_of)
    if query:
        tasks = search(tasks, query)
    return tasks.select_related(
        "plan", "priority_area", "lead_agency", "lead_agency__level", "parent"
    ).prefetch_related(Prefetch("coordinating_agencies", queryset=Agency.objects.order_by("code")))


def task_get(*, user, pk: int, as_of: datetime.date | None = None) -> Task:
    """One visible task with its history, extensions and children; raises
    Task.DoesNotExist when it is hidden from the user."""
    return (
        task_list_visible_to(user=user, as_of=as_of)
        .prefetch_related(
            Prefetch(
                "updates",
                queryset=StatusUpdate.objects.select_related("author", "agency")
                .prefetch_related("evidence")
                .order_by("-recorded_at", "-pk"),
            ),
            Prefetch(
                "extensions",
                queryset=DeadlineExtension.objects.select_related(
                    "requested_by", "decided_by"
                ).order_by("-requested_at"),
            ),
            Prefetch("children", queryset=Task.objects.select_related("lead_agency")),
        )
        .get(pk=pk)
    )


def agency_list_visible_to(*, user, query: str = "") -> QuerySet[Agency]:
    """Agencies the user may read about, with level and parent joined."""
    agencies = agencies_visible_to(user).select_related("level", "parent")
    return search(agencies, query) if query else agencies
