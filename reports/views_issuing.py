"""The report's page and its steps (/reports/<id>/…): the draft's narrative edited, approved,
issued with a number and a date, sent; a correction started. Thin views over
reports/issuing.py: the report comes through the archive's scope (404 when hidden), a step
the user may not take answers 403, a refused step shows its reason on the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods

from reports.archive import report_get_visible_to
from reports.issuing import (
    StaleReportError,
    register_next_number,
    report_approve,
    report_correct,
    report_issue,
    report_narrative_save,
    report_send,
)
from reports.models import MonthlyReport, ReportStage
from reports.numbering import document_number, period_label
from reports.services import ReportError, report_recipients_listed
from tasks_app.permissions import can_approve_report, can_prepare_report


def report_steps(report: MonthlyReport) -> list[dict]:
    """Each step the report went through: what, who and when (the page and the API)."""
    steps = [
        ("drafted", _("Drafted"), report.drafted_by, report.created_at),
        ("edited", _("Narrative edited"), report.edited_by, report.edited_at),
        ("approved", pgettext("report stage", "Approved"), report.approved_by, report.approved_at),
        ("issued", pgettext("report stage", "Issued"), report.issued_by, report.issued_at),
        ("signed", _("Signed digitally"), None, report.signed_at),
        ("sent", pgettext("report stage", "Sent"), report.sent_by, report.emailed_at),
    ]
    return [
        {"key": key, "label": label, "user": user, "at": at}
        for key, label, user, at in steps
        if at is not None
    ]


class VersionForm(forms.Form):
    """The version of the report the page showed: a step on an older one is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class NarrativeForm(VersionForm):
    assessment = forms.CharField(
        label=gettext_lazy("General assessment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    difficulties = forms.CharField(
        label=gettext_lazy("Difficulties and proposals"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Prefilled from the month's status updates, quoted under each agency's name."
        ),
    )
    next_focus = forms.CharField(
        label=gettext_lazy("Focus of next month"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    distribution = forms.CharField(
        label=gettext_lazy("Recipients (Nơi nhận)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One line per recipient, as printed under Nơi nhận."),
    )
    recipients = forms.CharField(
        label=gettext_lazy("E-mail recipients"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The addresses the issued report is sent to, one per line."),
    )
    signer_name = forms.CharField(label=gettext_lazy("Signer"), required=False, max_length=120)


class IssueForm(VersionForm):
    number = forms.IntegerField(
        label=gettext_lazy("Number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("Leave empty for the next free number of the register."),
    )
    date = forms.DateField(
        label=gettext_lazy("Date of issue"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text=gettext_lazy("Leave empty for today."),
    )


def _stale_message(report: MonthlyReport) -> str:
    return _(
        "Someone else changed this report meanwhile (it is now {stage}). The page shows it "
        "as it is now: check it, then try again."
    ).format(stage=report.get_stage_display().lower())


def _refused(form: forms.Form, error: Exception) -> None:
    """Put a refused step's reason on the form (field messages when it has some)."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, str(getattr(error, "message", error)))


@login_required
@require_GET
def report_detail(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    user = request.user
    prepare = can_prepare_report(user, report)
    context = {
        "report": report,
        "month": period_label(report.period),
        "number": report.number_label,
        "steps": report_steps(report),
        "revisions": report.revisions.select_related("written_by")[:20],
        "correction": MonthlyReport.objects.filter(replaces=report).first(),
        "can_edit": prepare and report.stage in (ReportStage.DRAFT, ReportStage.APPROVED),
        "can_approve": can_approve_report(user, report) and report.stage == ReportStage.DRAFT,
        "can_issue": prepare and report.stage == ReportStage.APPROVED,
        "can_send": prepare and report.stage == ReportStage.ISSUED,
        "can_correct": prepare and report.is_final,
        # A request that no worker took up yet: the job service may be down (issue 16).
        "render_delayed": report.render_request_lost,
        "recipients": report_recipients_listed(report)
        if report.stage == ReportStage.ISSUED
        else [],
    }
    return render(request, "reports/report_detail.html", context)


def _step_page(request, report, template, form, **extra) -> HttpResponse:
    context = {
        "report": report,
        "month": period_label(report.period),
        "number": report.number_label,
        "form": form,
        **extra,
    }
    return render(request, template, context, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    if not can_prepare_report(request.user, report):
        raise PermissionDenied(_("You may not edit this report."))
    if request.method == "POST":
        form = NarrativeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report_narrative_save(
                    report=report,
                    user=request.user,
                    expected_version=data.pop("version"),
                    **data,
                )
            except StaleReportError as stale:
                form.add_error(None, _stale_message(stale.report))
            except (ReportError, ValidationError) as error:
                _refused(form, error)
            else:
                messages.success(
                    request,
                    _("The narrative is saved; the draft is being rendered again."),
                )
                return redirect("report-archive:detail", report.pk)
    else:
        form = NarrativeForm(
            initial={
                "version": report.version,
                **{name: getattr(report, name) for name in NarrativeForm.base_fields},
            }
        )
    return _step_page(request, report, "reports/report_edit.html", form)


def _confirmed_step(request, report, *, run, template, success, **extra) -> HttpResponse:
    """A step that asks only for confirmation (approve, send, correct): GET shows what it
    does; POST runs `run(version)`, then shows the report it returns (or this one) with the
    `success(report)` message, or the form again with the reason it was refused."""
    form = VersionForm(request.POST or None, initial={"version": report.version})
    if request.method == "POST" and form.is_valid():
        try:
            shown = run(form.cleaned_data["version"])
        except StaleReportError as stale:
            form.add_error(None, _stale_message(stale.report))
        except (ReportError, ValidationError) as error:
            _refused(form, error)
        else:
            shown = shown if isinstance(shown, MonthlyReport) else report
            shown.refresh_from_db()
            messages.success(request, success(shown))
            return redirect("report-archive:detail", shown.pk)
    return _step_page(request, report, template, form, **extra)


@login_required
@require_http_methods(["GET", "POST"])
def report_approve_view(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    if not can_approve_report(request.user, report):
        raise PermissionDenied(_("Only a leader or the head of the agency approves this report."))
    return _confirmed_step(
        request,
        report,
        run=lambda version: report_approve(
            report=report, user=request.user, expected_version=version
        ),
        template="reports/report_approve.html",
        success=lambda shown: _("The report is approved: the văn thư can issue it."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_issue_view(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    if not can_prepare_report(request.user, report):
        raise PermissionDenied(_("You may not issue this report."))
    today = timezone.localdate()
    form = IssueForm(request.POST or None, initial={"version": report.version, "date": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report_issue(
                report=report,
                user=request.user,
                number=data["number"],
                date=data["date"],
                expected_version=data["version"],
            )
        except StaleReportError as stale:
            form.add_error(None, _stale_message(stale.report))
        except (ReportError, ValidationError) as error:
            _refused(form, error)
        else:
            report.refresh_from_db()
            messages.success(
                request,
                _("Report {number} is issued.").format(number=report.number_label)
                + " "
                + (
                    _("Its PDF is signed digitally.")
                    if report.signed_at
                    else _("No signing certificate is set up: the PDF is not signed.")
                ),
            )
            return redirect("report-archive:detail", report.pk)
    year = (form.cleaned_data.get("date") if form.is_bound and form.is_valid() else None) or today
    suggested = (
        register_next_number(issuer_id=report.issuer_id, year=year.year)
        if report.issuer_id
        else None
    )
    return _step_page(
        request,
        report,
        "reports/report_issue.html",
        form,
        suggested=document_number(suggested, report.issuer.doc_code) if suggested else "",
        today=today,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_send_view(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    if not can_prepare_report(request.user, report):
        raise PermissionDenied(_("You may not send this report."))
    return _confirmed_step(
        request,
        report,
        run=lambda version: report_send(report=report, user=request.user, expected_version=version),
        template="reports/report_send.html",
        success=lambda shown: _("The report is sent to {to}.").format(to=shown.emailed_to),
        recipients=report_recipients_listed(report),
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_correct_view(request: HttpRequest, pk) -> HttpResponse:
    report = report_get_visible_to(request.user, pk)
    if not can_prepare_report(request.user, report):
        raise PermissionDenied(_("You may not correct this report."))
    return _confirmed_step(
        request,
        report,
        run=lambda version: report_correct(report=report, user=request.user),
        template="reports/report_correct.html",
        success=lambda shown: _(
            "A correction of report {number} is drafted: edit it, then have it approved."
        ).format(number=report.number_label),
    )
