"""The report archive (/reports/): the monthly reports a user may see, their downloads, and
for monitors the buttons that (re)generate a report in the background.

Views stay thin: the visible reports come from `MonthlyReport.objects.visible_to(user)`
(monitors and leaders: all; agency staff: the reports scoped to their subtree), a hidden or
missing report answers 404, a refused action 403 (tasks_app/permissions.py); the work is
done by reports/services.py. Files are streamed from storage; the row only ever names
complete files, so a download during a regeneration gets the previous version whole.
"""

from __future__ import annotations

from csp.constants import NONE
from csp.decorators import csp
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reports.models import MonthlyReport
from reports.numbering import parse_month, period_label
from reports.services import (
    ReportError,
    final_report_refused,
    monthly_report_create,
    monthly_report_request,
    report_download_name,
)
from tasks_app.collation import vi_order
from tasks_app.models import AGENCY_LABEL, Agency, Plan
from tasks_app.permissions import (
    can_prepare_report,
    is_monitor,
    reporting_agencies,
)

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_list_visible_to(user):
    return (
        MonthlyReport.objects.visible_to(user)
        .select_related(
            "plan",
            "scope",
            "issuer",
            "drafted_by",
            "edited_by",
            "approved_by",
            "issued_by",
            "sent_by",
        )
        .order_by("-period", "plan__code", "scope__path", "pk")
    )


def report_get_visible_to(user, pk) -> MonthlyReport:
    """A report the user may see; Http404 when hidden, missing or malformed."""
    try:
        return report_list_visible_to(user).get(pk=int(pk))
    except (MonthlyReport.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(_("No such report, or it is not visible to you.")) from None


def report_file_response(report: MonthlyReport, kind: str) -> FileResponse:
    """Stream the report's PDF (shown in the browser) or Excel file (downloaded)."""
    field = report.pdf if kind == "pdf" else report.xlsx
    if not field:
        raise Http404(_("This report has no file yet."))
    try:
        handle = field.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("This report has no file yet.")) from error
    response = FileResponse(
        handle,
        as_attachment=kind != "pdf",
        filename=report_download_name(report, kind),
        content_type="application/pdf" if kind == "pdf" else XLSX,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class MonthField(forms.CharField):
    """A month typed as YYYY-MM (what <input type="month"> sends)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(
                _("Enter a month as YYYY-MM, e.g. 2022-06."), code="invalid"
            ) from None


class ReportCreateForm(forms.Form):
    """Ask for the report of a plan, month and (optionally) one agency's subtree."""

    plan = forms.ModelChoiceField(
        queryset=Plan.objects.order_by("-period_start", "code"), label=gettext_lazy("Plan")
    )
    month = MonthField(label=gettext_lazy("Month"))
    scope = forms.ModelChoiceField(
        queryset=Agency.objects.order_by(vi_order(AGENCY_LABEL), "code"),
        required=False,
        label=gettext_lazy("Scope"),
        empty_label=gettext_lazy("The whole plan"),
        help_text=gettext_lazy(
            "Leave empty for the whole plan, or pick an agency: its tasks and its units' tasks."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and not is_monitor(user):
            # Agency staff report on their own agency's work: its scope is required.
            scope = self.fields["scope"]
            scope.queryset = reporting_agencies(user).order_by(vi_order(AGENCY_LABEL), "code")
            scope.required, scope.empty_label = True, None
            scope.help_text = gettext_lazy("Your agency: its tasks and its units' tasks.")

    def clean(self):
        data = super().clean()
        if data.get("plan") and data.get("month"):
            try:
                from reports.services import monthly_report_check_period

                monthly_report_check_period(plan=data["plan"], period=data["month"])
            except ReportError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@login_required
@require_GET
def archive_list(request: HttpRequest) -> HttpResponse:
    """The reports the user may see, newest month first, with their downloads."""
    from reports.views_issuing import report_steps

    page = Paginator(report_list_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "report": report,
            "month": period_label(report.period),
            "number": report.number_label,
            "last_step": (report_steps(report) or [None])[-1],
        }
        for report in page.object_list
    ]
    user = request.user
    can_generate = is_monitor(user) or reporting_agencies(user).exists()
    context = {
        "page": page,
        "rows": rows,
        "can_generate": can_generate,
        "form": ReportCreateForm(user=user) if can_generate else None,
    }
    return render(request, "reports/archive.html", context)


@login_required
@require_GET
# Issue 16 "Headers": Chrome shows an inline PDF through an <embed> in a page it makes up,
# under the PDF response's own policy; the site's object-src 'none' and style-src 'self'
# leave it blank (crbug.com/271452). The PDF (ours, from WeasyPrint) keeps frame-ancestors.
@csp({"frame-ancestors": [NONE]})
def archive_download(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """The report's PDF or Excel file; 404 for a report the user may not see."""
    report = report_get_visible_to(request.user, pk)
    return report_file_response(report, kind)


@login_required
@require_http_methods(["GET", "POST"])
def archive_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask for confirmation; POST: regenerate the report in the background (monitors
    only: 403 for others who see the report, 404 for those who do not)."""
    report = report_get_visible_to(request.user, pk)
    if not can_prepare_report(request.user, report):
        raise PermissionDenied(_("Only the agency that drafts this report can render it again."))
    if report.is_final:
        messages.error(request, str(final_report_refused(report)))
        return redirect("report-archive:detail", report.pk)
    if request.method == "POST":
        monthly_report_request(report=report)
        messages.success(
            request,
            _(
                "The draft of {month} is being rendered again; the current files stay "
                "available until the new ones replace them."
            ).format(month=period_label(report.period)),
        )
        return redirect("report-archive:list")
    context = {
        "report": report,
        "month": period_label(report.period),
        "number": report.number_label,
    }
    return render(request, "reports/archive_confirm.html", context)


@login_required
@require_POST
def archive_create(request: HttpRequest) -> HttpResponse:
    """Draft the report of a month: the whole plan's (monitors) or an agency's own (its
    staff); an existing draft is rendered again."""
    form = ReportCreateForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("report-archive:list")
    data = form.cleaned_data
    scope = data["scope"]
    if not can_prepare_report(request.user, scope_id=scope.pk if scope else None):
        raise PermissionDenied(_("You may draft only your own agency's report."))
    report, created = monthly_report_create(
        plan=data["plan"], period=data["month"], scope=scope, drafted_by=request.user
    )
    message = (
        _("The draft report of {month} is being prepared.")
        if created
        else _("The report of {month} exists already: open it below.")
    )
    messages.success(request, message.format(month=period_label(report.period)))
    return redirect("report-archive:detail", report.pk)
