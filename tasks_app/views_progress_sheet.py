"""Pages of the progress sheet (tasks_app/progress_sheet.py): the steps with a download per
agency and the upload form, the download, and the preview of an uploaded sheet with its
"record" button. Only the uploader (or a monitor) sees an upload; others get 404."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from tasks_app import permissions, progress_sheet, services, spreadsheets
from tasks_app.forms import ProgressSheetUploadForm
from tasks_app.models import SheetUpload
from tasks_app.spreadsheets import SpreadsheetError


@login_required
@require_http_methods(["GET", "POST"])
def progress_sheet_start(request: HttpRequest) -> HttpResponse:
    """The steps, a download for each agency the user reports for, and the upload form.
    A file that breaks the rules of every workbook (format, macros, formulas, columns) is
    refused here and not kept."""
    agencies = permissions.reporting_agencies(request.user)
    form = ProgressSheetUploadForm(request.POST or None, request.FILES or None, agencies=agencies)
    file_errors: list = []
    if request.method == "POST":
        if not form.agencies:
            raise PermissionDenied
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            name = uploaded.name or "tien-do.xlsx"
            content = uploaded.read()
            try:
                progress_sheet.open_sheet(content, name)
            except SpreadsheetError as exc:
                file_errors = exc.errors
            else:
                upload = spreadsheets.upload_store(
                    kind=SheetUpload.Kind.PROGRESS,
                    name=name,
                    content=content,
                    user=request.user,
                    agency=form.cleaned_data["agency"],
                )
                return redirect("tasks_app:progress-sheet-preview", pk=upload.pk)
    context = {
        "form": form,
        "agencies": form.agencies,
        "file_errors": file_errors,
        "max_mb": spreadsheets.MAX_UPLOAD_BYTES // 1024 // 1024,
        "state_labels": list(progress_sheet.state_labels().values()),
        "headers": progress_sheet.FILL_HEADERS,
    }
    status = 400 if form.errors or file_errors else 200
    return render(request, "tasks_app/progress_sheet/start.html", context, status=status)


@login_required
@require_GET
def progress_sheet_download(request: HttpRequest, agency_pk: int) -> FileResponse:
    """The agency's sheet: its open tasks with their versions; 404 unless the user reports
    for that agency."""
    agency = permissions.reporting_agencies(request.user).filter(pk=agency_pk).first()
    if agency is None:
        raise Http404(_("No such agency, or you do not report for it."))
    content = progress_sheet.progress_workbook(request.user, agency)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=progress_sheet.workbook_name(agency, timezone.localdate()),
        content_type=spreadsheets.XLSX_CONTENT_TYPE,
    )


@login_required
@require_http_methods(["GET", "POST"])
def progress_sheet_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """What the uploaded sheet would record, row by row; POST records it (the uploader
    only), when no row is refused."""
    try:
        upload = progress_sheet.upload_get(user=request.user, pk=pk)
    except SheetUpload.DoesNotExist:
        raise Http404(_("No such file, or it is not visible to you.")) from None
    is_uploader = upload.uploaded_by_id == request.user.pk
    refusal = ""
    if request.method == "POST":
        if not is_uploader:
            raise PermissionDenied
        try:
            summary = progress_sheet.progress_apply(upload, request.user)
        except progress_sheet.SheetNotApplied as exc:
            refusal = str(exc)
        except services.StaleVersionError as exc:
            refusal = _(
                "Nothing was recorded: task %(code)s was changed since this preview. "
                "Check the rows below, then upload the sheet again."
            ) % {"code": exc.task.code}
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s progress report was recorded.",
                    "%(count)s progress reports were recorded.",
                    summary["updates"],
                )
                % {"count": summary["updates"]},
            )
            return redirect("tasks_app:progress-sheet-preview", pk=upload.pk)
    preview = None
    if upload.applied_at is None and upload.agency is not None:
        # Once recorded, the file's versions are old: the page shows what was recorded.
        preview = progress_sheet.progress_preview(
            bytes(upload.content), upload.original_name, upload.uploaded_by, upload.agency
        )
    context = {
        "upload": upload,
        "preview": preview,
        "refusal": refusal,
        "may_apply": is_uploader and preview is not None and preview.can_apply,
    }
    status = 409 if refusal else 200
    return render(request, "tasks_app/progress_sheet/preview.html", context, status=status)
