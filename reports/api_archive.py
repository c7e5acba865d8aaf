"""The report archive in API v1: /api/v1/reports/ (list, detail, PDF and Excel downloads,
POST …/regenerate/ for a draft, and the steps of reports/issuing.py as actions: POST
…/narrative/, …/approve/, …/issue/ (number, date), …/send/, …/correct/).

A report's `status` reads its stage (draft, approved, issued, sent); `rendering` says
whether its files are ready. A step sent with a stale `version` answers 409 with the report
as it is now; a step the report's stage does not allow answers 409 with the reason; bad
input answers 400 with a message per field.

Same rules as the archive page (reports/archive.py): the reports visible to the user
(monitors and leaders: all; agency staff: the reports scoped to their subtree); a hidden or
missing report answers 404, a refused action 403. Regeneration runs in the background
(202): the current files stay served until the new ones replace them.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
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
from reports.issuing import (
    StaleReportError,
    report_approve,
    report_correct,
    report_issue,
    report_narrative_save,
    report_send,
)
from reports.models import MonthlyReport, ReportStage, ReportStatus
from reports.numbering import period_label
from reports.services import ReportError, final_report_refused, monthly_report_request
from reports.views_issuing import report_steps
from tasks_app.api.common import ANY_ID, FileDownloadNegotiation, detail_error
from tasks_app.permissions import can_manage_tasks, can_prepare_report


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
    status = serializers.ChoiceField(
        source="stage",
        choices=ReportStage.choices,
        read_only=True,
        help_text="Where the document stands: draft, approved, issued or sent.",
    )
    rendering = serializers.ChoiceField(
        source="status",
        choices=ReportStatus.choices,
        read_only=True,
        help_text="The state of its files: pending, generating, ready or failed.",
    )
    steps = serializers.SerializerMethodField(
        help_text=(
            "Each step taken, in order: `step` (drafted, edited, approved, issued, signed, "
            "sent), its `label`, the `user` who took it and when (`at`)."
        )
    )
    replaces = serializers.PrimaryKeyRelatedField(read_only=True)

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
            "rendering",
            "version",
            "replaces",
            "assessment",
            "difficulties",
            "next_focus",
            "distribution",
            "recipients",
            "signer_name",
            "steps",
            "signed_at",
            "signed_by_certificate",
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

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_steps(self, report: MonthlyReport) -> list[dict]:
        return [
            {
                "step": step["key"],
                "label": str(step["label"]),
                "user": step["user"].username if step["user"] else None,
                "at": step["at"].isoformat(),
            }
            for step in report_steps(report)
        ]

    def get_month(self, report: MonthlyReport) -> str:
        return period_label(report.period)

    def get_scope_name(self, report: MonthlyReport) -> str | None:
        return report.scope.name if report.scope_id else None

    def get_document_number(self, report: MonthlyReport) -> str | None:
        return report.number_label or None

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
    status = django_filters.ChoiceFilter(field_name="stage", choices=ReportStage.choices)
    rendering = django_filters.ChoiceFilter(field_name="status", choices=ReportStatus.choices)
    scope = django_filters.NumberFilter(field_name="scope", help_text="Agency id of the scope.")
    province_wide = django_filters.BooleanFilter(
        field_name="scope", lookup_expr="isnull", help_text="true: only whole-plan reports."
    )

    class Meta:
        model = MonthlyReport
        fields = ["plan", "period", "status", "rendering", "scope", "province_wide"]


_NOT_FOUND = detail_error("No such report, or it is hidden from this user.")


class ReportStepSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        help_text="The report's version the client read; a stale one answers 409.",
    )


class ReportNarrativeSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The report's version the client read.")
    assessment = serializers.CharField(required=False, allow_blank=True)
    difficulties = serializers.CharField(required=False, allow_blank=True)
    next_focus = serializers.CharField(required=False, allow_blank=True)
    distribution = serializers.CharField(required=False, allow_blank=True)
    recipients = serializers.CharField(required=False, allow_blank=True)
    signer_name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class ReportIssueSerializer(ReportStepSerializer):
    number = serializers.IntegerField(required=False, min_value=1)
    date = serializers.DateField(required=False)


def _valid(serializer_class, request):
    """The validated data, or the 400 answer with a message per field."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
    return dict(serializer.validated_data)


_STEP_RESPONSES = {
    200: MonthlyReportSerializer,
    400: OpenApiResponse(description="Bad input: a message per field."),
    403: detail_error("This user may not take this step."),
    404: _NOT_FOUND,
    409: detail_error("The version is stale, or the report's stage does not allow the step."),
}


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
        if not can_prepare_report(request.user, report):
            raise PermissionDenied(
                _("Only the agency that drafts this report can render it again.")
            )
        if report.is_final:
            return Response({"detail": str(final_report_refused(report))}, status=409)
        monthly_report_request(report=report)
        data = self.get_serializer(report).data
        return Response(data, status=status.HTTP_202_ACCEPTED)

    # --- The steps (reports/issuing.py) ------------------------------------------------------

    def _step(self, request, do) -> Response:
        """Run one step on the visible report; map its refusals to HTTP answers."""
        report = self.get_object()
        try:
            do(report)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except StaleReportError as stale:
            return Response(
                {"detail": str(stale), "current": self.get_serializer(stale.report).data},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        except ReportError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        report.refresh_from_db()
        return Response(self.get_serializer(report).data)

    @extend_schema(
        summary="Save the draft's narrative (specialist)",
        request=ReportNarrativeSerializer,
        responses=_STEP_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def narrative(self, request, pk=None):
        data = _valid(ReportNarrativeSerializer, request)
        if isinstance(data, Response):
            return data
        version = data.pop("version")
        return self._step(
            request,
            lambda report: report_narrative_save(
                report=report, user=request.user, expected_version=version, **data
            ),
        )

    @extend_schema(
        summary="Approve the draft (leader, head of the agency)",
        request=ReportStepSerializer,
        responses=_STEP_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request, pk=None):
        data = _valid(ReportStepSerializer, request)
        if isinstance(data, Response):
            return data
        return self._step(
            request,
            lambda report: report_approve(
                report=report, user=request.user, expected_version=data.get("version")
            ),
        )

    @extend_schema(
        summary="Issue the approved report with a number and a date (văn thư)",
        description=(
            "Without `number`, the next free number of the issuing agency's register for the "
            "year; without `date`, today. The date may not be earlier than the approval nor "
            "later than today; a number already in the register answers 400. The final PDF "
            "and Excel are rendered and the PDF signed when a certificate is set up."
        ),
        request=ReportIssueSerializer,
        responses=_STEP_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def issue(self, request, pk=None):
        data = _valid(ReportIssueSerializer, request)
        if isinstance(data, Response):
            return data
        return self._step(
            request,
            lambda report: report_issue(
                report=report,
                user=request.user,
                number=data.get("number"),
                date=data.get("date"),
                expected_version=data.get("version"),
            ),
        )

    @extend_schema(
        summary="Send the issued report to its recipients, once",
        request=ReportStepSerializer,
        responses=_STEP_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def send(self, request, pk=None):
        data = _valid(ReportStepSerializer, request)
        if isinstance(data, Response):
            return data
        return self._step(
            request,
            lambda report: report_send(
                report=report, user=request.user, expected_version=data.get("version")
            ),
        )

    @extend_schema(
        summary="Draft a correction of an issued report",
        request=None,
        responses={201: MonthlyReportSerializer, **_STEP_RESPONSES},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def correct(self, request, pk=None):
        report = self.get_object()
        try:
            correction = report_correct(report=report, user=request.user)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except ReportError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(correction).data, status=status.HTTP_201_CREATED)
