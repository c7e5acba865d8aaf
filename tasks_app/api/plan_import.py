"""API of the plan workbook import (issue 13), for monitors: upload a workbook and get its
preview, then apply it. The rules live in tasks_app.plan_excel; a refused file answers
400 with the errors by cell, a preview with errors cannot be applied (400), an upload
applies once (409 the second time)."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app import plan_excel
from tasks_app.api.common import MALFORMED_ID, detail_error
from tasks_app.models import SheetUpload
from tasks_app.permissions import IsMonitor
from tasks_app.spreadsheets import CellError, SpreadsheetError

# --- Shapes ---------------------------------------------------------------------------------


class CellErrorSerializer(serializers.Serializer):
    sheet = serializers.CharField(help_text="Sheet name; empty for the whole file.")
    row = serializers.IntegerField(allow_null=True, help_text="Row number as Excel shows it.")
    column = serializers.CharField(help_text="Column letter; empty for a whole row.")
    header = serializers.CharField(help_text="The column's header.")
    cell = serializers.CharField(help_text='The cell\'s address, e.g. "Nhiệm vụ!D12".')
    message = serializers.CharField()


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


def _status_field():
    return serializers.CharField(
        help_text="`new`, `changed` (see `changes`), `unchanged` or `error` (see `errors`)."
    )


class ImportRowSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    row = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    status = _status_field()
    changes = FieldChangeSerializer(many=True)
    errors = CellErrorSerializer(many=True)


class ImportPlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    id = serializers.IntegerField(allow_null=True, help_text="Null for a new plan.")
    status = _status_field()
    changes = FieldChangeSerializer(many=True)
    errors = CellErrorSerializer(many=True)


class RowCountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class TaskCountsSerializer(RowCountsSerializer):
    missing = serializers.IntegerField(help_text="Tasks of the plan not in the file (kept).")


class MissingTaskSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class PlanPreviewSerializer(serializers.Serializer):
    upload = serializers.IntegerField(help_text="Id of the stored upload, to apply it.")
    applied_at = serializers.DateTimeField(allow_null=True)
    file = serializers.CharField()
    plan = ImportPlanSerializer()
    area_counts = RowCountsSerializer()
    task_counts = TaskCountsSerializer()
    areas = ImportRowSerializer(many=True)
    tasks = ImportRowSerializer(many=True)
    missing = MissingTaskSerializer(many=True)
    errors = CellErrorSerializer(many=True)
    has_errors = serializers.BooleanField()


class PlanImportRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = CellErrorSerializer(many=True, required=False)


class PlanImportSummarySerializer(serializers.Serializer):
    plan = serializers.CharField()
    plan_created = serializers.BooleanField()
    plan_updated = serializers.BooleanField()
    areas_created = serializers.IntegerField()
    areas_updated = serializers.IntegerField()
    tasks_created = serializers.IntegerField()
    tasks_updated = serializers.IntegerField()
    due_adjusted = serializers.IntegerField()
    tasks_unchanged = serializers.IntegerField()
    tasks_missing = serializers.IntegerField()


class PlanImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The plan workbook (.xlsx, at most 10 MB).")


# --- Views ----------------------------------------------------------------------------------


def _refused(detail: str, errors: list[CellError]) -> Response:
    return Response(
        {"detail": detail, "errors": [error.as_dict() for error in errors]},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _preview_data(upload: SheetUpload, preview: plan_excel.PlanPreview) -> dict:
    return {"upload": upload.pk, "applied_at": upload.applied_at, **preview.as_dict()}


REFUSED = OpenApiResponse(
    PlanImportRefusedSerializer,
    description="The file was refused (or cannot be applied): `errors` name the cells. "
    "Nothing was stored or written.",
)


class PlanImportView(APIView):
    """Upload a plan workbook (the template or a plan's export, filled in). The file is
    checked and stored; the answer is its preview: each priority area and task row new,
    changed (old → new per field), unchanged or in error (by cell). Nothing is changed
    until the upload is applied."""

    permission_classes = [IsAuthenticated, IsMonitor]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Upload a plan workbook and get its preview",
        request={"multipart/form-data": PlanImportUploadSerializer},
        responses={201: PlanPreviewSerializer, 400: REFUSED},
        tags=["plan-imports"],
    )
    def post(self, request):
        uploaded = request.FILES.get("file")
        if uploaded is None:
            return _refused(_("Send the workbook in the field “file”."), [])
        try:
            upload, preview = plan_excel.plan_upload_store(
                content=uploaded.read(), name=uploaded.name or "file.xlsx", user=request.user
            )
        except SpreadsheetError as exc:
            return _refused(_("The file was refused; nothing was stored."), exc.errors)
        return Response(_preview_data(upload, preview), status=status.HTTP_201_CREATED)


class PlanImportApplyView(APIView):
    """Apply a stored plan workbook, whole or not at all: the plan, its priority areas and
    its tasks are created or changed through the services (every task change recorded in
    its history, source "import"); tasks not in the file are kept."""

    permission_classes = [IsAuthenticated, IsMonitor]

    @extend_schema(
        summary="Apply an uploaded plan workbook",
        request=None,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            200: PlanImportSummarySerializer,
            400: REFUSED,
            409: detail_error("The upload was already applied; nothing was written."),
        },
        tags=["plan-imports"],
    )
    def post(self, request, pk):
        try:
            upload = SheetUpload.objects.get(pk=pk, kind=SheetUpload.Kind.PLAN)
        except (SheetUpload.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        try:
            summary = plan_excel.plan_apply(upload, request.user)
        except plan_excel.AlreadyApplied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except plan_excel.PlanImportError as exc:
            return _refused(_("The file has errors: nothing was applied."), exc.errors)
        return Response(summary)
