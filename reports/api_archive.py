"""The report archive in API v1: /api/v1/reports/ (list, detail, PDF and Excel downloads,
and POST …/regenerate/ for monitors).

Same rules as the archive page (reports/archive.py): the reports visible to the user
(monitors and leaders: all; agency staff: the reports scoped to their subtree); a hidden or
missing report answers 404, a refused action 403. Regeneration runs in the background
(202): the current files stay served until the new ones replace them.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from reports.archive import (
    XLSX,
    report_file_response,
    report_get_visible_to,
    report_list_visible_to,
)
from reports.models import MonthlyReport, ReportStatus
from reports.numbering import document_number, period_label
from reports.services import monthly_report_request
from tasks_app.api.common import ANY_ID, FileDownloadNegotiation, detail_error
from tasks_app.permissions import can_manage_tasks


class MonthlyReportSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True)
    month = serializers.SerializerMethodField(help_text="The month reported, MM/YYYY.")
    as_of = serializers.DateField(
        source="period_end", read_only=True, help_text="The date of every number in it."
    )
    scope_name = serializers.SerializerMethodField(help_text="Null: the whole plan.")
    issuer_name = serializers.CharField(source="issuer.name", read_only=True, default=None)
    document_number = serializers.SerializerMethodField(
        help_text='As printed after "Số:", e.g. 01/BC-STTTT; null before the first generation.'
    )
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(
        help_text="Why the last generation failed (monitors only; null otherwise)."
    )

    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "plan",
            "plan_code",
            "period",
            "month",
            "as_of",
            "scope",
            "scope_name",
            "issuer",
            "issuer_name",
            "number",
            "document_number",
            "issued_on",
            "status",
            "generated_at",
            "pages",
            "pdf_size",
            "sha256",
            "emailed_at",
            "pdf_url",
            "xlsx_url",
            "error",
        ]
        read_only_fields = fields

    def get_month(self, report: MonthlyReport) -> str:
        return period_label(report.period)

    def get_scope_name(self, report: MonthlyReport) -> str | None:
        return report.scope.name if report.scope_id else None

    def get_document_number(self, report: MonthlyReport) -> str | None:
        if not (report.number and report.issuer_id):
            return None
        return document_number(report.number, report.issuer.doc_code)

    def _url(self, report: MonthlyReport, kind: str) -> str | None:
        if not (report.pdf if kind == "pdf" else report.xlsx):
            return None
        request = self.context.get("request")
        path = f"/api/v1/reports/{report.pk}/{kind}/"
        return request.build_absolute_uri(path) if request else path

    def get_pdf_url(self, report: MonthlyReport) -> str | None:
        return self._url(report, "pdf")

    def get_xlsx_url(self, report: MonthlyReport) -> str | None:
        return self._url(report, "xlsx")

    def get_error(self, report: MonthlyReport) -> str | None:
        request = self.context.get("request")
        if request is None or not can_manage_tasks(request.user):
            return None
        return report.error or None


class MonthlyReportFilter(django_filters.FilterSet):
    period = django_filters.DateFilter(help_text="The first day of the month, YYYY-MM-01.")
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    scope = django_filters.NumberFilter(field_name="scope", help_text="Agency id of the scope.")
    province_wide = django_filters.BooleanFilter(
        field_name="scope", lookup_expr="isnull", help_text="true: only whole-plan reports."
    )

    class Meta:
        model = MonthlyReport
        fields = ["plan", "period", "status", "scope", "province_wide"]


_NOT_FOUND = detail_error("No such report, or it is hidden from this user.")


@extend_schema_view(
    list=extend_schema(summary="Monthly reports visible to the user, newest month first"),
    retrieve=extend_schema(
        summary="One monthly report", responses={200: MonthlyReportSerializer, 404: _NOT_FOUND}
    ),
)
@extend_schema(tags=["reports"])
class MonthlyReportViewSet(viewsets.ReadOnlyModelViewSet):
    """The monthly reports (issue 7) the user may see: monitors and leaders see every
    report; agency staff see the reports scoped to their agency's subtree."""

    serializer_class = MonthlyReportSerializer
    filterset_class = MonthlyReportFilter
    lookup_value_regex = ANY_ID

    def get_queryset(self):
        return report_list_visible_to(self.request.user)

    def get_object(self) -> MonthlyReport:
        return report_get_visible_to(self.request.user, self.kwargs["pk"])

    def _file(self, kind: str):
        return report_file_response(self.get_object(), kind)

    @extend_schema(
        summary="Download the report's PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            404: _NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        content_negotiation_class=FileDownloadNegotiation,
        filter_backends=[],
        pagination_class=None,
    )
    def pdf(self, request, pk=None):
        return self._file("pdf")

    @extend_schema(
        summary="Download the report's figures (Excel)",
        responses={
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="The workbook."),
            404: _NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        content_negotiation_class=FileDownloadNegotiation,
        filter_backends=[],
        pagination_class=None,
    )
    def xlsx(self, request, pk=None):
        return self._file("xlsx")

    @extend_schema(
        summary="Regenerate the report in the background (monitors)",
        description=(
            "Keeps the report's number and date; its figures are computed again as of the "
            "last day of the month. Answers 202 at once; the current files stay served until "
            "the new ones replace them. No e-mail is sent."
        ),
        request=None,
        responses={
            202: MonthlyReportSerializer,
            403: detail_error("Only the monitoring agency can regenerate reports."),
            404: _NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def regenerate(self, request, pk=None):
        report = self.get_object()
        if not can_manage_tasks(request.user):
            raise PermissionDenied(_("Only the monitoring agency can regenerate reports."))
        monthly_report_request(report=report)
        data = self.get_serializer(report).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
