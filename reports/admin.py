"""Admin for the monthly reports: a read-only record with a "regenerate" action.

A report is a legal record: its number, date, files and checksum are written only by
reports/services.py (number drawn once, files replaced atomically), so every field is
read-only here. The action asks for a background regeneration, as the archive's button does.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from reports.models import MonthlyReport
from reports.numbering import document_number, period_label
from reports.services import monthly_report_request


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = [
        "month",
        "plan",
        "scope_label",
        "document",
        "status",
        "pages",
        "generated_at",
        "emailed_at",
    ]
    list_filter = ["status", "plan", "period"]
    list_select_related = ["plan", "scope", "issuer"]
    search_fields = ["plan__code", "plan__title", "scope__name", "sha256"]
    date_hierarchy = "period"
    ordering = ["-period", "plan__code"]
    actions = ["regenerate"]
    readonly_fields = [field.name for field in MonthlyReport._meta.fields]

    @admin.display(description=_("month"), ordering="period")
    def month(self, report: MonthlyReport) -> str:
        return period_label(report.period)

    @admin.display(description=_("scope"), ordering="scope__path")
    def scope_label(self, report: MonthlyReport) -> str:
        return str(report.scope) if report.scope_id else gettext("The whole plan")

    @admin.display(description=_("document number"), ordering="number")
    def document(self, report: MonthlyReport) -> str:
        if not (report.number and report.issuer_id):
            return "—"
        return document_number(report.number, report.issuer.doc_code)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: the change form shows the record read-only.
        return False

    @admin.action(description=_("Regenerate the selected reports (same number)"))
    def regenerate(self, request, queryset) -> None:
        count = 0
        for report in queryset:
            monthly_report_request(report=report)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d report is being regenerated.",
                "%(count)d reports are being regenerated.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
