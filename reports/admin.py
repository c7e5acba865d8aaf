"""Admin for the monthly reports: a read-only record with a "render the drafts again" action.

A report is a legal record: its steps, number, date, files and checksum are written only by
reports/services.py and reports/issuing.py, so every field is read-only here, and so are
the kept versions of its narrative. The action asks for a background rendering of the
selected drafts, as the archive's button does; issued reports are final and left alone.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from reports.models import FINAL_STAGES, MonthlyReport, ReportRevision
from reports.numbering import period_label
from reports.services import monthly_report_request


class ReportRevisionInline(admin.TabularInline):
    model = ReportRevision
    extra = 0
    can_delete = False
    fields = ["version", "written_by", "written_at", "assessment", "difficulties"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = [
        "month",
        "plan",
        "scope_label",
        "document",
        "stage",
        "status",
        "pages",
        "generated_at",
        "emailed_at",
    ]
    list_filter = ["stage", "status", "plan", "period"]
    list_select_related = ["plan", "scope", "issuer"]
    search_fields = ["plan__code", "plan__title", "scope__name", "sha256"]
    date_hierarchy = "period"
    ordering = ["-period", "plan__code"]
    actions = ["regenerate"]
    readonly_fields = [field.name for field in MonthlyReport._meta.fields]
    inlines = [ReportRevisionInline]

    @admin.display(description=_("month"), ordering="period")
    def month(self, report: MonthlyReport) -> str:
        return period_label(report.period)

    @admin.display(description=_("scope"), ordering="scope__path")
    def scope_label(self, report: MonthlyReport) -> str:
        return str(report.scope) if report.scope_id else gettext("The whole plan")

    @admin.display(description=_("document number"), ordering="number")
    def document(self, report: MonthlyReport) -> str:
        return report.number_label or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: the change form shows the record read-only.
        return False

    @admin.action(description=_("Render the selected drafts again"))
    def regenerate(self, request, queryset) -> None:
        count = 0
        for report in queryset.exclude(stage__in=FINAL_STAGES):
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
