"""Pages of the plan workbook (monitors only): download the template or a plan's export,
upload a filled workbook, see its preview, apply it. The rules live in
tasks_app.plan_excel."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tasks_app import permissions, plan_excel
from tasks_app.models import Plan, SheetUpload
from tasks_app.spreadsheets import XLSX_CONTENT_TYPE, SpreadsheetError


class PlanUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Plan workbook (.xlsx)"),
        help_text=gettext_lazy(
            "The template or the export of a plan, filled in. At most 10 MB, no macros "
            "and no formulas. Nothing is changed until you check the preview and apply it."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx", "class": "form-control"}),
    )


def _monitor_only(request: HttpRequest) -> None:
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def plan_template(request: HttpRequest) -> HttpResponse:
    """The empty plan workbook, with the codes of agencies and DTI indices."""
    _monitor_only(request)
    return _xlsx_response(plan_excel.plan_workbook(None), "ke-hoach-mau.xlsx")


@login_required
def plan_export(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan with all its tasks, in the layout of the template."""
    _monitor_only(request)
    plan = get_object_or_404(Plan, pk=pk)
    safe_code = "".join(c if c.isalnum() or c in "-_." else "-" for c in plan.code)
    return _xlsx_response(plan_excel.plan_workbook(plan), f"{safe_code}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    """Upload a plan workbook: a refused file shows its errors here and is not kept;
    otherwise the file is kept and its preview opens."""
    _monitor_only(request)
    form = PlanUploadForm(request.POST or None, request.FILES or None)
    file_errors = []
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        content = uploaded.read()
        try:
            upload, _preview = plan_excel.plan_upload_store(
                content=content, name=uploaded.name or "file.xlsx", user=request.user
            )
        except SpreadsheetError as exc:
            file_errors = exc.errors
        else:
            return redirect("tasks_app:plan-import-preview", pk=upload.pk)
    status = 400 if file_errors else 200
    return render(
        request,
        "tasks_app/plan_excel/import.html",
        {"form": form, "file_errors": file_errors},
        status=status,
    )


def _upload(pk: int) -> SheetUpload:
    try:
        return SheetUpload.objects.select_related("uploaded_by", "plan").get(
            pk=pk, kind=SheetUpload.Kind.PLAN
        )
    except SheetUpload.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def plan_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What applying the kept file would do: rows by status, old → new per changed field,
    errors by cell, tasks the file leaves out. POST applies it."""
    _monitor_only(request)
    upload = _upload(pk)
    if request.method == "POST":
        return _apply(request, upload)
    file_errors = []
    preview = None
    try:
        preview = plan_excel.upload_preview(upload)
    except SpreadsheetError as exc:  # e.g. a sheet renamed by a later change of the rules
        file_errors = exc.errors
    return render(
        request,
        "tasks_app/plan_excel/preview.html",
        {"upload": upload, "preview": preview, "file_errors": file_errors},
    )


def _after_apply_url(plan: Plan | None) -> str:
    if plan is not None:
        try:
            return reverse("tasks_app:plan-detail", args=[plan.pk])
        except NoReverseMatch:
            pass
    return reverse("tasks_app:task-list")


def _apply(request: HttpRequest, upload: SheetUpload) -> HttpResponse:
    try:
        summary = plan_excel.plan_apply(upload, request.user)
    except plan_excel.AlreadyApplied as exc:
        messages.error(request, str(exc))
        return redirect("tasks_app:plan-import-preview", pk=upload.pk)
    except plan_excel.PlanImportError as exc:
        messages.error(
            request,
            _("The file was not applied, nothing was changed: %(error)s")
            % {"error": "; ".join(str(error) for error in exc.errors[:5])},
        )
        return redirect("tasks_app:plan-import-preview", pk=upload.pk)
    messages.success(
        request,
        _(
            "The plan %(plan)s was updated from the file: %(created)s new tasks, "
            "%(updated)s changed, %(unchanged)s unchanged."
        )
        % {
            "plan": summary["plan"],
            "created": summary["tasks_created"],
            "updated": summary["tasks_updated"],
            "unchanged": summary["tasks_unchanged"],
        },
    )
    return redirect(_after_apply_url(upload.plan))
