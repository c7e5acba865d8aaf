"""Reads of webhooks: whose events an endpoint receives, and the lists of the pages and API.

An endpoint receives the events of a task when both hold:
- the task is in `tasks_visible_to(owner)`: the one scope of tasks (tasks_app/permissions.py)
  for the person who registered it, so a webhook never shows more than its owner may read;
- the task's lead or a coordinating agency lies in the subtree of the endpoint's agency
  (no agency: the whole province); for a reassignment, the former lead counts too, so the
  agency that loses the task hears of it.
"""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from tasks_app.models import Agency, Task
from tasks_app.permissions import tasks_visible_to
from webhooks.models import Delivery, DeliveryAttempt, Endpoint


def endpoint_task_ids(
    endpoint: Endpoint, task_ids: list[int], previous_agency_id: int | None = None
) -> set[int]:
    """Which of `task_ids` the endpoint receives the events of (the rules above); one query."""
    tasks = tasks_visible_to(endpoint.owner, Task.objects.filter(pk__in=task_ids))
    if endpoint.agency is not None:
        subtree = Agency.objects.subtree_of(endpoint.agency)
        coordinated = Task.coordinating_agencies.through.objects.filter(
            task_id=OuterRef("pk"), agency__in=subtree
        )
        in_scope = Q(lead_agency__in=subtree) | Q(Exists(coordinated))
        if previous_agency_id is not None:
            in_scope |= Q(Exists(subtree.filter(pk=previous_agency_id)))
        tasks = tasks.filter(in_scope)
    return set(tasks.order_by().values_list("pk", flat=True))


def endpoint_sees_report(endpoint: Endpoint, report) -> bool:
    """Whether the endpoint receives a report's issue: its owner may read the report, and
    the report covers the scope's subtree or part of it (a whole-plan report goes only to
    endpoints of the whole province)."""
    from reports.models import MonthlyReport

    visible = MonthlyReport.objects.filter(pk=report.pk).visible_to(endpoint.owner)
    if endpoint.agency is not None:
        visible = visible.filter(scope__in=Agency.objects.subtree_of(endpoint.agency))
    return visible.exists()


def endpoint_list() -> QuerySet[Endpoint]:
    """Every endpoint with its scope, owner and delivery counts (those who may manage
    webhooks manage them all: they are the province's integrations)."""
    # Django leaves the model's ordering out of a GROUP BY query: state it.
    return (
        Endpoint.objects.select_related("agency", "owner")
        .annotate(
            delivery_count=Count("deliveries"),
            failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
        )
        .order_by("name", "pk")
    )


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, with their attempts (two queries a page)."""
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("endpoint")
        .prefetch_related(
            Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("started_at", "pk"))
        )
    )
