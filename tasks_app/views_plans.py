"""The monitoring agency's pages to author a plan: the plans, their basis documents and
priority areas, and the tasks (create, edit, change the lead agency, adjust the due date,
split per agency); and the agency search of the pickers.

Only monitors use them (permissions.can_manage_tasks; others get 403). As in views.py, each
view parses its input with a form, loads objects through a selector, calls one service and
renders; a task form refused as stale (someone saved the task meanwhile) shows the other
change instead of overwriting it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tasks_app import permissions, plan_services, selectors, services
from tasks_app.choices import ChangeSource
from tasks_app.forms import add_service_errors
from tasks_app.forms_plans import (
    AreaForm,
    PlanDocumentForm,
    PlanForm,
    TaskCreateForm,
    TaskDueForm,
    TaskEditForm,
    TaskLeadForm,
    TaskSplitForm,
    default_assigned_on,
)
from tasks_app.models import Plan, PlanDocument, PriorityArea, Task
from tasks_app.views import get_task, plain_number, stale_context, with_version
from tasks_app.views_files import plan_document_file_response

# --- Helpers ---------------------------------------------------------------------------------


def _require_monitor(request: HttpRequest) -> None:
    # Authoring plans and tasks is the monitoring agency's work (DESIGN.md, "Who does what").
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied


def _get_plan(pk: int) -> Plan:
    try:
        return selectors.plan_get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404(_("No such plan.")) from None


def _get_document(pk: int) -> PlanDocument:
    try:
        return selectors.plan_document_get(pk=pk)
    except PlanDocument.DoesNotExist:
        raise Http404(_("No such document.")) from None


def _plan_url(plan_id: int, anchor: str = "") -> str:
    return reverse("tasks_app:plan-detail", args=[plan_id]) + (f"#{anchor}" if anchor else "")


def _stale(context: dict, form, exc: services.StaleVersionError) -> None:
    """Show what changed meanwhile (the latest report and the latest field changes) and
    re-bind the form to the current version: saving again is a deliberate decision."""
    context.update(stale_context(exc))
    context["stale_changes"] = list(selectors.task_changes(task=exc.task)[:5])
    with_version(form, exc.task.version)


def _task_page(task: Task, anchor: str = "") -> str:
    return reverse("tasks_app:task-detail", args=[task.pk]) + (f"#{anchor}" if anchor else "")


# --- Plans ---------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans, newest first, with their numbers of priority areas and tasks."""
    _require_monitor(request)
    plans = list(selectors.plan_list_with_counts())
    return render(request, "tasks_app/plans/plan_list.html", {"plans": plans})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    """A new plan for a calendar year."""
    _require_monitor(request)
    initial = {"issuing_agency": selectors.province_committee_default()}
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start, end = plan_services.year_period(data["year"])
        try:
            plan = plan_services.plan_create(
                code=data["code"],
                title=data["title"],
                issuing_agency=data["issuing_agency"],
                monitor_agency=data["monitor_agency"],
                period_start=start,
                period_end=end,
                number=data["number"],
                issued_on=data["issued_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"period_start": "year", "period_end": "year"})
        else:
            messages.success(request, _("The plan was created."))
            return redirect("tasks_app:plan-detail", pk=plan.pk)
    return render(request, "tasks_app/plans/plan_form.html", {"form": form, "plan": None})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a plan; a new year sets the period to that calendar year."""
    _require_monitor(request)
    plan = _get_plan(pk)
    initial = {
        "title": plan.title,
        "year": plan.period_start.year,
        "number": plan.number,
        "issued_on": plan.issued_on,
        "issuing_agency": plan.issuing_agency,
        "monitor_agency": plan.monitor_agency,
    }
    form = PlanForm(request.POST or None, initial=initial, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "title": data["title"],
            "number": data["number"],
            "issued_on": data["issued_on"],
            "issuing_agency": data["issuing_agency"],
            "monitor_agency": data["monitor_agency"],
        }
        # A plan over several years keeps its period until someone picks another year.
        if data["year"] != initial["year"]:
            fields["period_start"], fields["period_end"] = plan_services.year_period(data["year"])
        try:
            plan_services.plan_update(plan=plan, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"period_start": "year", "period_end": "year"})
        else:
            messages.success(request, _("The plan was saved."))
            return redirect("tasks_app:plan-detail", pk=plan.pk)
    return render(request, "tasks_app/plans/plan_form.html", {"form": form, "plan": plan})


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan: its fields, basis documents, priority areas and tasks (parents followed by
    their children), with the links to change each."""
    _require_monitor(request)
    plan = _get_plan(pk)
    context = {
        "plan": plan,
        "documents": list(selectors.plan_document_list(plan=plan)),
        "areas": list(selectors.priority_area_list_for_plan(plan=plan)),
        "tasks": selectors.task_list_for_plan(plan=plan),
    }
    return render(request, "tasks_app/plans/plan_detail.html", context)


# --- Basis documents --------------------------------------------------------------------------


def _document_form_page(request: HttpRequest, plan: Plan, document: PlanDocument | None):
    initial = {}
    if document is not None:
        initial = {
            "number": document.number,
            "issued_on": document.issued_on,
            "issuer": document.issuer,
            "title": document.title,
        }
    form = PlanDocumentForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan_services.plan_document_save(
                plan=plan,
                document=document,
                number=data["number"],
                title=data["title"],
                issued_on=data["issued_on"],
                issuer=data["issuer"],
                file=data["file"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The basis document was saved."))
            return redirect(_plan_url(plan.pk, "documents"))
    context = {"form": form, "plan": plan, "document": document}
    return render(request, "tasks_app/plans/document_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def document_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a basis document (number and symbol, date, issuer, summary, file) to a plan."""
    _require_monitor(request)
    return _document_form_page(request, _get_plan(pk), None)


@login_required
@require_http_methods(["GET", "POST"])
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a basis document; a new file replaces the stored one."""
    _require_monitor(request)
    document = _get_document(pk)
    return _document_form_page(request, document.plan, document)


@login_required
@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a basis document: GET asks for confirmation, POST removes it."""
    _require_monitor(request)
    document = _get_document(pk)
    if request.method == "POST":
        plan_id = document.plan_id
        plan_services.plan_document_delete(document=document)
        messages.success(request, _("The basis document was removed."))
        return redirect(_plan_url(plan_id, "documents"))
    context = {"document": document, "plan": document.plan}
    return render(request, "tasks_app/plans/document_delete.html", context)


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    """A basis document's file, as an attachment."""
    _require_monitor(request)
    try:
        document = selectors.plan_document_with_file(pk=pk)
    except PlanDocument.DoesNotExist as error:
        raise Http404(_("This document has no file.")) from error
    return plan_document_file_response(document)


# --- Priority areas -----------------------------------------------------------------------------


def _area_form_page(request: HttpRequest, plan: Plan, area: PriorityArea | None):
    initial = {}
    if area is not None:
        initial = {
            "code": area.code,
            "name": area.name,
            "order": area.order,
            "dti_index": area.dti_index_id,
        }
    form = AreaForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if area is None:
                plan_services.area_create(
                    plan=plan,
                    code=data["code"],
                    name=data["name"],
                    order=data["order"],
                    dti_index=data["dti_index"],
                )
            else:
                fields = {k: data[k] for k in ("code", "name", "dti_index")}
                if data["order"] is not None:
                    fields["order"] = data["order"]
                plan_services.area_update(area=area, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The priority area was saved."))
            return redirect(_plan_url(plan.pk, "areas"))
    context = {"form": form, "plan": plan, "area": area}
    return render(request, "tasks_app/plans/area_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def area_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a priority area to a plan."""
    _require_monitor(request)
    return _area_form_page(request, _get_plan(pk), None)


@login_required
@require_http_methods(["GET", "POST"])
def area_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a priority area."""
    _require_monitor(request)
    try:
        area = selectors.priority_area_get(pk=pk)
    except PriorityArea.DoesNotExist:
        raise Http404(_("No such priority area.")) from None
    return _area_form_page(request, area.plan, area)


# --- Tasks ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new task of the plan, led by one agency, with a due date or as a regular task."""
    _require_monitor(request)
    plan = _get_plan(pk)
    initial = {"assigned_on": default_assigned_on(plan)}
    if request.GET.get("area", "").isdigit():
        initial["priority_area"] = int(request.GET["area"])
    form = TaskCreateForm(request.POST or None, initial=initial, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.task_create(
                plan=plan,
                priority_area=data["priority_area"],
                code=data["code"],
                title=data["title"],
                lead_agency=data["lead_agency"],
                coordinating_agencies=data["coordinating_agencies"],
                assigned_on=data["assigned_on"],
                due=data["due"],
                parent=data["parent"],
                expected_output=data["expected_output"],
                kpi_target=data["kpi_target"],
                kpi_unit=data["kpi_unit"],
                dti_index=data["dti_index"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"original_due": "due"})
        else:
            messages.success(request, _("The task was created."))
            return redirect("tasks_app:task-detail", pk=task.pk)
    return render(request, "tasks_app/plans/task_create.html", {"form": form, "plan": plan})


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a task's descriptive fields; each change is kept in its change history."""
    task = get_task(request, pk)
    _require_monitor(request)
    initial = {
        "code": task.code,
        "title": task.title,
        "priority_area": task.priority_area_id,
        "coordinating_agencies": list(task.coordinating_agencies.all()),
        "assigned_on": task.assigned_on,
        "expected_output": task.expected_output,
        "kpi_target": plain_number(task.kpi_target),
        "kpi_unit": task.kpi_unit,
        "dti_index": task.dti_index_id,
        "version": task.version,
    }
    form = TaskEditForm(request.POST or None, initial=initial, task=task)
    context = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "code",
                "title",
                "priority_area",
                "assigned_on",
                "expected_output",
                "kpi_target",
                "kpi_unit",
                "dti_index",
            )
        }
        try:
            services.task_update_fields(
                task=task,
                expected_version=data["version"],
                coordinating_agencies=data["coordinating_agencies"],
                author=request.user,
                reason=data["reason"],
                source=ChangeSource.PAGE,
                **fields,
            )
        except services.StaleVersionError as exc:
            _stale(context, form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The task was saved."))
            return redirect(_task_page(task, "changes"))
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/plans/task_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_lead(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the task another lead agency, with the reason (kept in the change history)."""
    task = get_task(request, pk)
    _require_monitor(request)
    form = TaskLeadForm(request.POST or None, initial={"version": task.version}, task=task)
    context = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.task_update_fields(
                task=task,
                expected_version=data["version"],
                author=request.user,
                reason=data["reason"],
                source=ChangeSource.PAGE,
                lead_agency=data["lead_agency"],
            )
        except services.StaleVersionError as exc:
            _stale(context, form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The lead agency was changed."))
            return redirect(_task_page(task, "changes"))
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/plans/task_lead.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_due(request: HttpRequest, pk: int) -> HttpResponse:
    """The monitoring agency moves the due date, with the reason (services.task_adjust_due);
    agencies ask for more time through their extension requests instead."""
    task = get_task(request, pk)
    _require_monitor(request)
    form = TaskDueForm(request.POST or None, initial={"version": task.version})
    context = {"task": task, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.task_adjust_due(
                task=task,
                due=data["due"],
                author=request.user,
                reason=data["reason"],
                expected_version=data["version"],
                source=ChangeSource.PAGE,
            )
        except services.StaleVersionError as exc:
            _stale(context, form, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The due date was adjusted."))
            return redirect(_task_page(task, "changes"))
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/plans/task_due.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_split(request: HttpRequest, pk: int) -> HttpResponse:
    """Split a plan item per agency: choose the agencies, check the codes their tasks will
    get, then confirm (services.task_split)."""
    task = get_task(request, pk)
    _require_monitor(request)
    form = TaskSplitForm(request.POST or None, initial={"version": task.version}, task=task)
    context: dict = {"task": task, "form": form, "preview": None}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "confirm" not in request.POST:
            context["preview"] = form.child_codes()
        else:
            try:
                # task_split keeps existing children and takes no version: check it here,
                # so that the codes confirmed are those of the task as shown.
                if data["version"] != task.version:
                    raise services.StaleVersionError(task)
                services.task_split(task=task, agencies=data["agencies"])
            except services.StaleVersionError as exc:
                _stale(context, form, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The task was split per agency."))
                return redirect(_task_page(task))
    status = 409 if "stale_task" in context else 200
    return render(request, "tasks_app/plans/task_split.html", context, status=status)


# --- Agency search for the pickers ------------------------------------------------------------


@login_required
@require_GET
def agency_search(request: HttpRequest) -> JsonResponse:
    """Agencies existing today whose code or name contains the words of `q`, ignoring
    diacritics, in Vietnamese order (at most selectors.AGENCY_SEARCH_LIMIT)."""
    _require_monitor(request)
    query = request.GET.get("q", "").strip()[:100]
    agencies = selectors.agency_search(query=query) if query else []
    results = [
        {"id": agency.pk, "code": agency.code, "label": str(agency), "name": agency.name}
        for agency in agencies
    ]
    return JsonResponse({"results": results})
