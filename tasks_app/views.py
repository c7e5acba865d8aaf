"""The staff pages: my agency's tasks, the task page, progress reports, contributions,
decisions of the monitoring agency and deadline extensions.

Each view parses its input with a form, loads objects through a selector (so the one
permission scope applies: a hidden task answers 404), checks the action with a
permissions predicate (a refused action answers 403), calls one service and renders.
"""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tasks_app import permissions, selectors, services
from tasks_app.choices import FINISHED_STATES, ExtensionStatus, ReportCategory, TaskState
from tasks_app.forms import (
    DECISION_APPROVE,
    DECISION_CONFIRM,
    DECISION_REJECT,
    DECISION_RETURN,
    ContributionForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    ProgressForm,
    ReviewForm,
    TaskFilterForm,
    WithdrawForm,
    add_service_errors,
    lead_state_choices,
)
from tasks_app.models import DeadlineExtension, Evidence, Task
from tasks_app.views_files import evidence_file_response

TASKS_PER_PAGE = 25


# --- Helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """How a task stands against its due date today, for display."""

    kind: str  # completed | withdrawn | regular | overdue | due_today | left
    days: int = 0


def deadline_of(task: Task, today: datetime.date) -> Deadline:
    """Days left or days overdue, from the category and the due date in force today."""
    if task.category in (ReportCategory.COMPLETED_ON_TIME, ReportCategory.COMPLETED_LATE):
        return Deadline("completed")
    if task.category == ReportCategory.WITHDRAWN:
        return Deadline("withdrawn")
    due = getattr(task, "due_at", None) or task.due
    if due is None:
        return Deadline("regular")
    days = (due - today).days
    if days < 0:
        return Deadline("overdue", -days)
    if days == 0:
        return Deadline("due_today")
    return Deadline("left", days)


def decorate(task: Task, today: datetime.date) -> Task:
    """Attach what the templates show beside the stored fields: the category's label and
    the deadline. Pure presentation of annotated values: no query."""
    task.category_label = ReportCategory(task.category).label if task.category else ""
    task.deadline = deadline_of(task, today)
    return task


def get_task(request: HttpRequest, pk: int) -> Task:
    """A task the user may see, with its category today; 404 when hidden or missing."""
    try:
        task = selectors.task_get(user=request.user, pk=pk)
    except Task.DoesNotExist:
        raise Http404(_("No such task, or it is not visible to you.")) from None
    return decorate(task, timezone.localdate())


def plain_number(value):
    """A stored decimal as a person writes it: 35.00 → "35", 12.50 → "12.5"."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def stale_context(exc: services.StaleVersionError) -> dict:
    """What the other person saved, for a form that was refused as stale."""
    return {
        "stale_update": selectors.status_update_latest(task=exc.task),
        "stale_task": exc.task,
    }


def with_version(form, version: int):
    """Re-bind a refused form to the task's current version: the user has now seen the
    other change, and saving again is a deliberate decision."""
    data = form.data.copy()
    data["version"] = version
    form.data = data
    return form


# --- Start page and task list --------------------------------------------------------------


@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Send each person to their work (where the login lands): the leadership to the
    dashboard; everyone else to the task list (monitors see the whole plan there, with the
    extensions waiting for them); a person who belongs to no agency gets an explanation
    instead of an empty list."""
    if permissions.is_leader(request.user):
        return redirect("reports:dashboard")  # by URL name: tasks_app does not import reports
    if permissions.awaits_agency(request.user):
        return render(request, "tasks_app/start_no_agency.html", {})
    return redirect("tasks_app:task-list")


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """Nhiệm vụ của đơn vị: the tasks of my agency and its sub-units (all tasks for monitors
    and leaders), filtered, searched and sorted by due date; an htmx request gets only the
    table. A person without an agency yet is told whom to ask instead of an empty list."""
    if permissions.awaits_agency(request.user):
        return render(request, "tasks_app/start_no_agency.html", {})
    today = timezone.localdate()
    form = TaskFilterForm(
        request.GET,
        priority_areas=selectors.priority_area_list_visible_to(user=request.user),
    )
    filters = form.filters()
    # The category and the days left are those at the as-of date: today, or the date of the
    # dashboard figure the person clicked.
    as_of = filters.pop("as_of") or today
    tasks = selectors.task_list_filtered(user=request.user, as_of=as_of, **filters)
    page = Paginator(tasks, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    for task in page.object_list:
        decorate(task, as_of)
    # How many filters besides the search are set: the phone layout opens them when any is.
    active = [filters["priority_area"], filters["category"], filters["due_month"]]
    active += [filters["relation"], filters["descending"]]
    context = {
        "form": form,
        "page": page,
        "as_of": as_of,
        "from_dashboard": form.from_dashboard(),
        "filters_active": sum(1 for value in active if value),
        # Agency staff may report many tasks at once with a spreadsheet (no query: the
        # user's roles were read for the scope).
        "reports_by_sheet": bool(permissions.reporting_agency_ids(request.user)),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "tasks_app/partials/_task_table.html", context)
    else:
        response = render(request, "tasks_app/task_list.html", context)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Task page ---------------------------------------------------------------------------------


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The task, its deadlines, KPI, history (newest first) and, for a parent task, the
    children per agency."""
    task = get_task(request, pk)
    today = timezone.localdate()
    user = request.user
    children = []
    if task.is_parent:
        children = [
            decorate(child, today)
            for child in selectors.task_children_visible_to(user=user, parent=task, as_of=today)
        ]
    extensions = list(task.extensions.all())
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    is_open = task.state not in FINISHED_STATES
    # The lead agency could ask for more time, were it not too late (services' rule).
    may_ask = (
        permissions.can_request_extension(user, task)
        and task.due is not None
        and is_open
        and pending is None
    )
    extension_refusal = services.extension_request_refusal(task=task, on=today) if may_ask else None
    context = {
        "task": task,
        "updates": list(task.updates.all()),
        "extensions": extensions,
        "pending_extension": pending,
        "children": children,
        "can_report": permissions.can_report_progress(user, task)
        and not task.is_parent
        and bool(lead_state_choices(task)),
        "can_contribute": permissions.can_contribute(user, task),
        "can_request_extension": may_ask and extension_refusal is None,
        "extension_refusal": extension_refusal,
        "can_review": permissions.can_manage_tasks(user)
        and task.state in (TaskState.AWAITING_CONFIRMATION, TaskState.COMPLETED),
        "can_withdraw": permissions.can_manage_tasks(user) and is_open,
        # The monitoring agency's corrections (views_plans.py) and the change history.
        "can_manage": permissions.can_manage_tasks(user),
        "can_adjust_due": permissions.can_manage_tasks(user) and is_open and task.due is not None,
        "can_split": permissions.can_manage_tasks(user) and task.parent_id is None and is_open,
        "changes": list(selectors.task_changes(task=task)),
    }
    return render(request, "tasks_app/task_detail.html", context)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file, for those who may see its task (others get 404)."""
    try:
        evidence = selectors.evidence_get_visible_to(user=request.user, pk=pk)
    except Evidence.DoesNotExist:
        raise Http404(_("No such file, or it is not visible to you.")) from None
    return evidence_file_response(evidence)


# --- Progress and contributions ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead agency reports progress. A stale form (someone saved the task meanwhile) is
    refused and shows the other person's change instead of overwriting it."""
    task = get_task(request, pk)
    if not permissions.can_report_progress(request.user, task):
        raise PermissionDenied
    if task.is_parent:
        # A plan item split per agency takes its progress from its children (task_rollup).
        messages.info(
            request,
            _("This task is split per agency: its progress comes from the agencies' reports."),
        )
        return redirect("tasks_app:task-detail", pk=task.pk)
    if not lead_state_choices(task):
        messages.info(
            request,
            _("This task is completed or stopped; only the monitoring agency can reopen it."),
        )
        return redirect("tasks_app:task-detail", pk=task.pk)
    initial = {
        "state": task.state if task.state != TaskState.NOT_STARTED else TaskState.IN_PROGRESS,
        "progress": task.progress,
        "kpi_actual": plain_number(task.kpi_actual),
        "completed_on": task.completed_on,
        "version": task.version,
    }
    form = ProgressForm(request.POST or None, request.FILES or None, task=task, initial=initial)
    context = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.status_update_record(
                task=task,
                author=request.user,
                agency=task.lead_agency,
                state=data["state"],
                progress=data["progress"],
                kpi_actual=data["kpi_actual"],
                completed_on=data["completed_on"],
                result=data["result"],
                difficulties=data["difficulties"],
                proposals=data["proposals"],
                evidence=data["evidence"],
                expected_version=data["version"],
            )
        except services.StaleVersionError as exc:
            context.update(stale_context(exc))
            with_version(form, exc.task.version)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your progress report was saved."))
            return redirect(reverse("tasks_app:task-detail", args=[task.pk]) + "#history")
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/task_progress.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_contribute(request: HttpRequest, pk: int) -> HttpResponse:
    """A coordinating agency adds its contribution; the task's state does not change."""
    task = get_task(request, pk)
    if not permissions.can_contribute(request.user, task):
        raise PermissionDenied
    agencies = permissions.contributing_agencies(request.user, task)
    form = ContributionForm(request.POST or None, request.FILES or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.contribution_add(
                task=task,
                author=request.user,
                agency=data["agency"],
                result=data["result"],
                difficulties=data["difficulties"],
                proposals=data["proposals"],
                evidence=data["evidence"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your contribution was saved."))
            return redirect(reverse("tasks_app:task-detail", args=[task.pk]) + "#history")
    return render(request, "tasks_app/task_contribute.html", {"task": task, "form": form})


# --- Decisions of the monitoring agency -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The monitoring agency confirms a reported completion or returns it with a reason."""
    task = get_task(request, pk)
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied
    form = ReviewForm(request.POST or None, initial={"version": task.version})
    context = {"task": task, "form": form, "latest": selectors.status_update_latest(task=task)}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == DECISION_CONFIRM:
                services.task_confirm_completion(
                    task=task,
                    user=request.user,
                    note=data["note"],
                    expected_version=data["version"],
                )
                messages.success(request, _("The completion was confirmed."))
            else:
                services.task_return(
                    task=task,
                    user=request.user,
                    reason=data["note"],
                    expected_version=data["version"],
                )
                messages.success(request, _("The task was returned to the lead agency."))
        except services.StaleVersionError as exc:
            context.update(stale_context(exc))
            with_version(form, exc.task.version)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"reason": "note", "state": None})
        else:
            return redirect(reverse("tasks_app:task-detail", args=[task.pk]) + "#history")
    context["decision_return"] = DECISION_RETURN
    context["decision_confirm"] = DECISION_CONFIRM
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/task_review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop a task (dừng thực hiện): a confirmation page that asks for the reason."""
    task = get_task(request, pk)
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied
    form = WithdrawForm(request.POST or None, initial={"version": task.version})
    context = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            services.task_withdraw(
                task=task,
                user=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except services.StaleVersionError as exc:
            context.update(stale_context(exc))
            with_version(form, exc.task.version)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"state": None})
        else:
            messages.success(request, _("The task was stopped."))
            return redirect("tasks_app:task-detail", pk=task.pk)
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/task_withdraw.html", context, status=status)


# --- Deadline extensions ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead agency asks for a later due date."""
    task = get_task(request, pk)
    if not permissions.can_request_extension(request.user, task):
        raise PermissionDenied
    form = ExtensionRequestForm(request.POST or None, task=task)
    if request.method == "POST" and form.is_valid():
        try:
            services.extension_request(
                task=task,
                requested_by=request.user,
                agency=task.lead_agency,
                proposed_due=form.cleaned_data["proposed_due"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Your extension request was sent to the monitoring agency.")
            )
            return redirect("tasks_app:task-detail", pk=task.pk)
    pending = task.extensions.filter(status=ExtensionStatus.PENDING).first()
    return render(
        request,
        "tasks_app/extension_request.html",
        {"task": task, "form": form, "pending_extension": pending},
    )


@login_required
def extension_list(request: HttpRequest) -> HttpResponse:
    """Extension requests waiting for a decision, for monitors and leaders."""
    if not permissions.can_decide_extension(request.user):
        raise PermissionDenied
    extensions = list(selectors.extension_list_pending_visible_to(user=request.user))
    return render(request, "tasks_app/extension_list.html", {"extensions": extensions})


@login_required
@require_http_methods(["GET", "POST"])
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject one extension request; a rejection needs a reason."""
    try:
        extension = selectors.extension_get_visible_to(user=request.user, pk=pk)
    except DeadlineExtension.DoesNotExist:
        raise Http404(_("No such extension request, or it is not visible to you.")) from None
    if not permissions.can_decide_extension(request.user):
        raise PermissionDenied
    form = ExtensionDecisionForm(request.POST or None)
    if request.method == "POST" and extension.status == ExtensionStatus.PENDING and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == DECISION_APPROVE:
                services.extension_approve(
                    extension=extension, decided_by=request.user, note=data["note"]
                )
                messages.success(request, _("The extension was approved; the due date moved."))
            else:
                services.extension_reject(
                    extension=extension, decided_by=request.user, note=data["note"]
                )
                messages.success(request, _("The extension was rejected."))
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"status": None})
        else:
            return redirect("tasks_app:extension-list")
    context = {
        "extension": extension,
        "task": decorate(
            selectors.task_list_visible_to(user=request.user).get(pk=extension.task_id),
            timezone.localdate(),
        ),
        "form": form,
        "decision_approve": DECISION_APPROVE,
        "decision_reject": DECISION_REJECT,
    }
    return render(request, "tasks_app/extension_decide.html", context)
