"""Serializers of the API: output shapes (what clients read) and input shapes (what they send).

Input serializers only parse and type-check; the rules (allowed transitions, dates, who may do
what) live in services.py and permissions.py. Related objects named by id are looked up in the
requesting user's scope, so an id the user may not see is reported as not existing.
"""

import datetime
import functools

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from tasks_app import formatting, permissions, plan_services, uploads
from tasks_app.choices import ReportCategory, TaskState
from tasks_app.models import (
    Agency,
    ApiToken,
    DeadlineExtension,
    DtiIndex,
    Evidence,
    Membership,
    Plan,
    PlanDocument,
    PriorityArea,
    StatusUpdate,
    Task,
    TaskChange,
)

# Dates the category computation can handle (it adds a day to `as_of`).
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2999, 12, 31)


def _check_date_range(value: datetime.date | None) -> datetime.date | None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise serializers.ValidationError(
            _("Enter a date between %(start)s and %(end)s.")
            % {"start": MIN_DATE.strftime("%d/%m/%Y"), "end": MAX_DATE.strftime("%d/%m/%Y")}
        )
    return value


class DateField(serializers.DateField):
    """An ISO date within 1900–2999."""

    def to_internal_value(self, value):
        return _check_date_range(super().to_internal_value(value))


def _user_name(user) -> str:
    """Family name first, as the pages write it (tasks_app/formatting.py)."""
    return formatting.full_name(user)


# --- Output: reference data ----------------------------------------------------------------


class AgencyBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "code", "name", "short_name"]


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.SerializerMethodField()

    def get_full_name(self, user) -> str:
        return _user_name(user)


class AgencySerializer(serializers.ModelSerializer):
    level = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level_name = serializers.CharField(source="level.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Agency
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "doc_code",
            "level",
            "level_name",
            "parent",
            "kind",
            "kind_label",
            "place_name",
            "gso_code",
            "valid_from",
            "valid_to",
        ]


class PlanDocumentSerializer(serializers.ModelSerializer):
    """A document the plan is based on; `file_url` downloads its file (null without one)."""

    file_url = serializers.SerializerMethodField()

    class Meta:
        model = PlanDocument
        fields = ["id", "number", "issued_on", "issuer", "title", "file_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file_url(self, document) -> str | None:
        if not document.file:
            return None
        return reverse("api:plan-document-download", kwargs={"pk": document.pk})


class PlanSerializer(serializers.ModelSerializer):
    issuing_agency = AgencyBriefSerializer(read_only=True)
    monitor_agency = AgencyBriefSerializer(read_only=True, allow_null=True)
    documents = PlanDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "code",
            "number",
            "title",
            "issuing_agency",
            "monitor_agency",
            "issued_on",
            "period_start",
            "period_end",
            "leader_in_charge",
            "documents",
        ]


class PriorityAreaBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriorityArea
        fields = ["id", "code", "name"]


class PriorityAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriorityArea
        fields = ["id", "plan", "code", "name", "name_en", "order", "dti_index"]


# --- Output: tasks and their history --------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    """A task as lists show it: its report `category` at the requested `as_of` date (today
    by default), its lead and coordinating agencies, its original and effective (`due`) due
    dates, and the `version` a client sends back with a change."""

    priority_area = PriorityAreaBriefSerializer(read_only=True)
    lead_agency = AgencyBriefSerializer(read_only=True)
    coordinating_agencies = AgencyBriefSerializer(many=True, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    category = serializers.ChoiceField(
        choices=ReportCategory.choices,
        allow_null=True,
        read_only=True,
        help_text="Report category at `as_of`; null when the task was assigned later.",
    )
    category_label = serializers.SerializerMethodField()
    is_parent = serializers.BooleanField(read_only=True)
    days_late = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="For a task completed late (category `completed_late` at `as_of`): days "
        "between the due date in force on the completion day and the completion date.",
    )
    kpi_percent = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="KPI actual as a percentage of the target, rounded half-up to one decimal; "
        "null without both.",
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "plan",
            "priority_area",
            "code",
            "title",
            "expected_output",
            "lead_agency",
            "coordinating_agencies",
            "parent",
            "is_parent",
            "assigned_on",
            "original_due",
            "due",
            "state",
            "state_label",
            "progress",
            "completed_on",
            "days_late",
            "result",
            "category",
            "category_label",
            "kpi_target",
            "kpi_unit",
            "kpi_actual",
            "kpi_percent",
            "weight",
            "dti_index",
            "needs_reassignment",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # Null with `category` (a task assigned after `as_of`): the schema says so (issue 16).
    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category_label(self, task) -> str | None:
        category = getattr(task, "category", None)
        return str(ReportCategory(category).label) if category else None


class TaskChildSerializer(serializers.ModelSerializer):
    lead_agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "code", "lead_agency", "state", "progress", "due", "version"]
        read_only_fields = fields


class TaskPermissionsSerializer(serializers.Serializer):
    can_report_progress = serializers.BooleanField()
    can_contribute = serializers.BooleanField()
    can_request_extension = serializers.BooleanField()
    can_manage = serializers.BooleanField()
    can_decide_extensions = serializers.BooleanField()


class EvidenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, evidence) -> str:
        return reverse("api:evidence-download", kwargs={"pk": evidence.pk})


class StatusUpdateSerializer(serializers.ModelSerializer):
    author = UserBriefSerializer(read_only=True, allow_null=True)
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = StatusUpdate
        fields = [
            "id",
            "task",
            "kind",
            "author",
            "agency",
            "recorded_at",
            "state",
            "state_label",
            "progress",
            "kpi_actual",
            "completed_on",
            "result",
            "difficulties",
            "proposals",
            "reason",
            "evidence",
        ]
        read_only_fields = fields


# How many of a task's latest updates `?expand=updates` adds to the task's answer: the
# first page of GET /tasks/<id>/updates/?page_size=LATEST_UPDATES, whose page 2 `next` links.
LATEST_UPDATES = 20


class TaskLatestUpdatesSerializer(serializers.Serializer):
    """The task's latest status updates (newest first, with their evidence files), as the
    first page of its history; `next` links to the rest (null when there is no more)."""

    results = StatusUpdateSerializer(many=True)
    next = serializers.URLField(
        allow_null=True,
        help_text="The next page of the task's history "
        f"(/tasks/<id>/updates/?page=2&page_size={LATEST_UPDATES}); null when these are all.",
    )


class TaskDetailSerializer(TaskSerializer):
    """A task with the children the user may see and what the user may do with it; with
    `?expand=updates`, its latest status updates too."""

    children = TaskChildSerializer(source="visible_children", many=True, read_only=True)
    my_permissions = serializers.SerializerMethodField()
    # Output only, but not read_only: only then may the schema say it can be absent.
    updates = TaskLatestUpdatesSerializer(
        source="latest_updates",
        required=False,
        help_text=f"Only with `?expand=updates`: the {LATEST_UPDATES} latest status updates "
        "and a link to the rest of the history.",
    )

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "children", "my_permissions", "updates"]
        read_only_fields = fields

    @extend_schema_field(TaskPermissionsSerializer)
    def get_my_permissions(self, task) -> dict:
        user = self.context["request"].user
        return {
            "can_report_progress": permissions.can_report_progress(user, task),
            "can_contribute": permissions.can_contribute(user, task),
            "can_request_extension": permissions.can_request_extension(user, task),
            "can_manage": permissions.can_manage_tasks(user),
            "can_decide_extensions": permissions.can_decide_extension(user),
        }


# --- Output of tasks from value rows (selectors.task_row_for_api) -----------------------------
# The same JSON as TaskSerializer and TaskDetailSerializer, which stay the documented shapes
# (the schema is generated from them). Walking DRF's ~30 fields per task, with a model
# instance per task and per related row, took about half of a 100-task list's time; tests
# hold both paths to the same output. Dates, decimals and times go through the very field
# objects of TaskSerializer, so their formats cannot drift apart.


@functools.cache
def _task_fields() -> dict:
    fields = TaskSerializer().fields
    return {
        name: fields[name].to_representation
        for name in (
            "kpi_target",
            "kpi_actual",
            "kpi_percent",
            "weight",
            "created_at",
            "updated_at",
        )
    }


def _agency_brief(pk, code, name, short_name) -> dict:
    return {"id": pk, "code": code, "name": name, "short_name": short_name}


def _lead_agency(row: dict) -> dict:
    return _agency_brief(
        row["lead_agency"],
        row["lead_agency__code"],
        row["lead_agency__name"],
        row["lead_agency__short_name"],
    )


def _or_none(represent, value):
    return None if value is None else represent(value)


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _labels() -> tuple[dict, dict]:
    """The state and category labels in the active language (translated once per language
    and process, not once per row: a request's answers only read them)."""
    return _labels_in(translation.get_language())


@functools.lru_cache(maxsize=16)
def _labels_in(language: str | None) -> tuple[dict, dict]:
    # `language` is the active one: the lazy labels are translated into it here.
    return (
        {value: str(label) for value, label in TaskState.choices},
        {value: str(label) for value, label in ReportCategory.choices},
    )


def task_list_data(rows) -> list[dict]:
    """`task_data` of each row, with the labels translated once."""
    labels = _labels()
    return [task_data(row, labels) for row in rows]


def _datetime(value: datetime.datetime, zone) -> str:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, "Z" for UTC) for an
    aware datetime, as every datetime read with USE_TZ is."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def task_data(row: dict, labels: tuple[dict, dict] | None = None) -> dict:
    """TaskSerializer's output for a row of selectors.task_row_for_api (or of
    task_values_for_api completed by task_rows_with_coordination)."""
    fields = _task_fields()
    state_labels, category_labels = labels or _labels()
    zone = timezone.get_current_timezone()

    def fmt(name):
        value = row[name]
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return _datetime(value, zone)
        return None if value is None else fields[name](value)

    category = row["category"]
    state = row["state"]
    return {
        "id": row["id"],
        "plan": row["plan"],
        "priority_area": {
            "id": row["priority_area"],
            "code": row["priority_area__code"],
            "name": row["priority_area__name"],
        },
        "code": row["code"],
        "title": row["title"],
        "expected_output": row["expected_output"],
        "lead_agency": _lead_agency(row),
        "coordinating_agencies": [_agency_brief(*a) for a in row["coordinating_agencies"]],
        "parent": row["parent"],
        "is_parent": bool(row["is_parent"]),
        "assigned_on": _date(row["assigned_on"]),
        "original_due": _date(row["original_due"]),
        "due": _date(row["due"]),
        "state": state,
        "state_label": state_labels.get(state, str(state)),
        "progress": row["progress"],
        "completed_on": _date(row["completed_on"]),
        "days_late": row.get("days_late"),  # selectors.task_rows_with_days_late
        "result": row["result"],
        "category": category,
        "category_label": category_labels[category] if category else None,
        "kpi_target": fmt("kpi_target"),
        "kpi_unit": row["kpi_unit"],
        "kpi_actual": fmt("kpi_actual"),
        "kpi_percent": _or_none(
            fields["kpi_percent"], formatting.kpi_percent(row["kpi_actual"], row["kpi_target"])
        ),
        "weight": fmt("weight"),
        "dti_index": row["dti_index"],
        "needs_reassignment": row["needs_reassignment"],
        "version": row["version"],
        "created_at": fmt("created_at"),
        "updated_at": fmt("updated_at"),
    }


def task_detail_data(row: dict, user) -> dict:
    """TaskDetailSerializer's output for a row of selectors.task_row_for_api(children=True)."""
    data = task_data(row)
    data["children"] = [
        {
            "id": child["id"],
            "code": child["code"],
            "lead_agency": _lead_agency(child),
            "state": child["state"],
            "progress": child["progress"],
            "due": _date(child["due"]),
            "version": child["version"],
        }
        for child in row["visible_children"]
    ]
    data["my_permissions"] = permissions.task_capabilities(
        user,
        lead_agency_id=row["lead_agency"],
        coordinating_ids={agency[0] for agency in row["coordinating_agencies"]},
    )
    return data


class ExtensionSerializer(serializers.ModelSerializer):
    requested_by = UserBriefSerializer(read_only=True, allow_null=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)
    task_code = serializers.CharField(source="task.code", read_only=True)

    class Meta:
        model = DeadlineExtension
        fields = [
            "id",
            "task",
            "task_code",
            "kind",
            "requested_by",
            "agency",
            "requested_at",
            "previous_due",
            "proposed_due",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class TaskChangeSerializer(serializers.ModelSerializer):
    """One change of one field of a task: who, when, old → new (`old_value`/`new_value` in
    machine form: an id, an ISO date, ids joined by commas; `old_text`/`new_text` as a
    reader saw them then), why, and where it was made."""

    author = UserBriefSerializer(read_only=True, allow_null=True)
    field_label = serializers.CharField(read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)

    class Meta:
        model = TaskChange
        fields = [
            "id",
            "changed_at",
            "author",
            "field",
            "field_label",
            "old_value",
            "new_value",
            "old_text",
            "new_text",
            "reason",
            "source",
            "source_label",
        ]
        read_only_fields = fields


# --- Output of status updates without walking DRF's fields ------------------------------------


@functools.cache
def _update_fields() -> dict:
    fields = StatusUpdateSerializer().fields
    evidence = fields["evidence"].child.fields
    return {
        "recorded_at": fields["recorded_at"].to_representation,
        "kpi_actual": fields["kpi_actual"].to_representation,
        "uploaded_at": evidence["uploaded_at"].to_representation,
    }


def status_update_list_data(updates) -> list[dict]:
    """StatusUpdateSerializer's output for each update (author, agency and evidence
    already fetched: prefetched, or in `evidence_files` from selectors.StatusUpdatePages),
    with the state labels translated once."""
    state_labels = _labels()[0]
    return [
        status_update_data(update, state_labels, getattr(update, "evidence_files", None))
        for update in updates
    ]


def status_update_data(update: StatusUpdate, state_labels: dict | None = None, files=None) -> dict:
    """StatusUpdateSerializer's output for one update; `files`: its evidence when the
    caller knows it (else it is read: prefetched, or one query)."""
    fields = _update_fields()
    state_labels = state_labels or _labels()[0]
    author, agency = update.author, update.agency
    return {
        "id": update.pk,
        "task": update.task_id,
        "kind": update.kind,
        "author": None
        if author is None
        else {"id": author.pk, "username": author.username, "full_name": _user_name(author)},
        "agency": None
        if agency is None
        else _agency_brief(agency.pk, agency.code, agency.name, agency.short_name),
        "recorded_at": fields["recorded_at"](update.recorded_at),
        "state": update.state,
        "state_label": state_labels.get(update.state, str(update.state)),
        "progress": update.progress,
        "kpi_actual": None
        if update.kpi_actual is None
        else fields["kpi_actual"](update.kpi_actual),
        "completed_on": _date(update.completed_on),
        "result": update.result,
        "difficulties": update.difficulties,
        "proposals": update.proposals,
        "reason": update.reason,
        "evidence": [
            {
                "id": evidence.pk,
                "name": evidence.original_name,
                "content_type": evidence.content_type,
                "size": evidence.size,
                "sha256": evidence.sha256,
                "uploaded_at": fields["uploaded_at"](evidence.uploaded_at),
                "download_url": reverse("api:evidence-download", kwargs={"pk": evidence.pk}),
            }
            for evidence in (update.evidence.all() if files is None else files)
        ],
    }


class UpdateResultSerializer(serializers.Serializer):
    """The update just recorded and the task as it is now (with its new `version`)."""

    update = StatusUpdateSerializer()
    task = TaskSerializer()


class TaskAssignResultSerializer(serializers.Serializer):
    """The split task (with its new `version`) and its children, one per agency."""

    task = TaskSerializer()
    children = TaskSerializer(many=True)


class TaskReassignResultSerializer(serializers.Serializer):
    """The reassigned tasks as they are now (new lead agency and version; no longer
    flagged `needs_reassignment`)."""

    tasks = TaskSerializer(many=True)


class TaskAdjustDueResultSerializer(serializers.Serializer):
    """The adjustment just recorded (an approved extension of kind `adjustment`) and the
    task as it is now (its new `due` and `version`; `original_due` unchanged)."""

    adjustment = ExtensionSerializer()
    task = TaskSerializer()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = TaskSerializer()


# --- Output: the user, the dashboard, tokens -------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    agency = AgencyBriefSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["agency", "role", "role_label"]
        read_only_fields = fields


class CapabilitiesSerializer(serializers.Serializer):
    sees_everything = serializers.BooleanField()
    can_manage_tasks = serializers.BooleanField()
    can_decide_extensions = serializers.BooleanField()
    is_monitor = serializers.BooleanField()
    is_leader = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    memberships = MembershipSerializer(many=True)
    capabilities = CapabilitiesSerializer()
    calendar_url = serializers.URLField(
        allow_null=True,
        help_text=(
            "The user's iCal feed of due dates (/calendar/<token>.ics), for Google Calendar, "
            "Outlook or Thunderbird; null when revoked. POST /api/v1/me/calendar/rotate/ "
            "gives a new one, /revoke/ revokes it."
        ),
    )


class CalendarFeedSerializer(serializers.Serializer):
    calendar_url = serializers.URLField(
        allow_null=True, help_text="The feed's URL; null once revoked."
    )


class TokenRequestSerializer(AuthTokenSerializer):
    """POST /auth/token/: the account's username and password, and what the new token is for."""

    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="What the token is for (shown on the API tokens page). Default: API.",
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Lifetime in days; default API_TOKEN_DAYS (90), at most API_TOKEN_MAX_DAYS.",
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it in the list: never the secret."""

    id = serializers.UUIDField(source="uid", read_only=True)
    expired = serializers.BooleanField(source="is_expired", read_only=True)
    current = serializers.SerializerMethodField(
        help_text="True for the token that authenticated this request."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expiry", "last_used_at", "expired", "current"]

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        auth = getattr(request, "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class TokenCreatedSerializer(ApiTokenSerializer):
    """The new token, with its secret `token`: shown this once, never again."""

    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]


# --- Input ------------------------------------------------------------------------------------


class _ScopedInput(serializers.Serializer):
    """Looks up related ids in the requesting user's scope."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema generator builds serializers without a request
            return
        user = request.user
        for field in self.fields.values():
            target = getattr(field, "child_relation", field)
            model = getattr(getattr(target, "queryset", None), "model", None)
            if model is Agency:
                target.queryset = permissions.agencies_visible_to(user)
            elif model is Task:
                target.queryset = permissions.tasks_visible_to(user)


class VersionField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "The task's `version` the client last read. A stale version answers 409 "
            "and changes nothing.",
        )
        super().__init__(**kwargs)


class TaskCreateInputSerializer(_ScopedInput):
    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.all())
    priority_area = serializers.PrimaryKeyRelatedField(queryset=PriorityArea.objects.all())
    code = serializers.CharField(max_length=60)
    title = serializers.CharField(max_length=500)
    expected_output = serializers.CharField(required=False, allow_blank=True, default="")
    lead_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    coordinating_agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), many=True, required=False, default=list
    )
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Task.objects.all(), required=False, allow_null=True, default=None
    )
    assigned_on = DateField()
    due = DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Empty for a regular task (nhiệm vụ thường xuyên).",
    )
    kpi_target = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    kpi_unit = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    weight = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True, default=None
    )
    dti_index = serializers.PrimaryKeyRelatedField(
        queryset=DtiIndex.objects.all(), required=False, allow_null=True, default=None
    )


class TaskUpdateInputSerializer(_ScopedInput):
    """PATCH: any of the editable fields, and the `version` read. Due dates move only
    through extensions and adjustments (adjust-due). A new lead agency needs a `reason`."""

    version = VersionField()
    title = serializers.CharField(max_length=500, required=False)
    expected_output = serializers.CharField(required=False, allow_blank=True)
    priority_area = serializers.PrimaryKeyRelatedField(
        queryset=PriorityArea.objects.all(), required=False
    )
    lead_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), required=False)
    coordinating_agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), many=True, required=False
    )
    kpi_target = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    kpi_unit = serializers.CharField(max_length=150, required=False, allow_blank=True)
    weight = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True
    )
    dti_index = serializers.PrimaryKeyRelatedField(
        queryset=DtiIndex.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the fields change; kept in the change history. Required with a new "
        "`lead_agency`.",
    )

    def validate(self, attrs):
        # Say why a due date sent here is not taken, rather than ignore it silently.
        moved = [name for name in ("due", "original_due") if name in self.initial_data]
        if moved:
            raise serializers.ValidationError(
                dict.fromkeys(
                    moved,
                    _(
                        "The due date changes only through an approved extension or an "
                        "adjustment (adjust-due)."
                    ),
                )
            )
        # A task changes hands only for a stated reason (a decision, a reorganisation).
        task = self.context.get("task")
        lead = attrs.get("lead_agency")
        moves = lead is not None and (task is None or lead.pk != task.lead_agency_id)
        if moves and not attrs["reason"].strip():
            raise serializers.ValidationError(
                {"reason": _("Give the reason for changing the lead agency.")}
            )
        return attrs


class TaskAdjustDueInputSerializer(serializers.Serializer):
    version = VersionField()
    due = DateField(help_text="The new due date, earlier or later; the original due date stays.")
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the due date moves; kept in the change history."
    )


class TaskReassignInputSerializer(_ScopedInput):
    tasks = serializers.PrimaryKeyRelatedField(
        queryset=Task.objects.all(),
        many=True,
        allow_empty=False,
        help_text="Ids of the tasks to give the new lead agency (typically those flagged "
        "`needs_reassignment`).",
    )
    lead_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(),
        help_text="The new lead agency (id); it must exist today.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the tasks change hands (required); kept in each task's change history.",
    )

    def validate_tasks(self, tasks):
        # Each task once, in the order given.
        return list({task.pk: task for task in tasks}.values())


class TaskAssignInputSerializer(_ScopedInput):
    agencies = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(),
        many=True,
        help_text="One child task is created per agency; an agency that has one keeps it.",
    )

    def validate_agencies(self, agencies):
        # Keep the order given, once per agency.
        return list({agency.pk: agency for agency in agencies}.values())


class EvidenceFilesField(serializers.ListField):
    """`files`: evidence files (multipart), each checked by content and size."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField(allow_empty_file=True))
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault(
            "help_text",
            "Evidence files: PDF, images (PNG, JPEG, GIF, WebP) or office documents "
            "(Word, Excel, PowerPoint, OpenDocument); checked by content; at most "
            "EVIDENCE_MAX_MB megabytes each.",
        )
        super().__init__(**kwargs)


def _evidence(files):
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        return uploads.evidence_uploads(files)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from error


class ContributionInputSerializer(serializers.Serializer):
    result = serializers.CharField(required=False, allow_blank=True, default="")
    difficulties = serializers.CharField(required=False, allow_blank=True, default="")
    proposals = serializers.CharField(required=False, allow_blank=True, default="")
    files = EvidenceFilesField()

    def validate_files(self, files):
        return _evidence(files)


class StatusUpdateInputSerializer(ContributionInputSerializer):
    """A progress report: the text and files of a contribution, plus the new state."""

    version = VersionField()
    state = serializers.ChoiceField(choices=TaskState.choices)
    progress = serializers.IntegerField(help_text="Progress in percent, 0 to 100.")
    kpi_actual = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None
    )
    completed_on = DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ConfirmInputSerializer(serializers.Serializer):
    version = VersionField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    version = VersionField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionRequestInputSerializer(serializers.Serializer):
    proposed_due = DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionDecisionInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Input: plans, their basis documents and priority areas ----------------------------------


class _PlanPeriodInput(_ScopedInput):
    """A plan's period, given as a calendar `year` or as `period_start` and `period_end`;
    `validate` turns a year into its period (plan_services.year_period)."""

    year = serializers.IntegerField(
        required=False,
        min_value=MIN_DATE.year,
        max_value=MAX_DATE.year,
        help_text="A plan for one calendar year: its period is 1 January to 31 December. "
        "Give either `year` or `period_start` and `period_end`.",
    )
    period_start = DateField(required=False)
    period_end = DateField(required=False)

    def _period(self, attrs, *, required: bool) -> dict:
        year = attrs.pop("year", None)
        given = [name for name in ("period_start", "period_end") if name in attrs]
        if year is not None and given:
            raise serializers.ValidationError(
                {"year": _("Give either the year or the start and end of the period, not both.")}
            )
        if year is not None:
            attrs["period_start"], attrs["period_end"] = plan_services.year_period(year)
        elif required and len(given) < 2:
            message = _("Give the year of the plan, or the start and end of its period.")
            raise serializers.ValidationError(
                {name: message for name in ("period_start", "period_end") if name not in given}
                if given
                else {"year": message}
            )
        return attrs


class PlanCreateInputSerializer(_PlanPeriodInput):
    code = serializers.CharField(
        max_length=40, help_text="The plan's key in files and reports; set once."
    )
    title = serializers.CharField(max_length=500)
    number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    issued_on = DateField(required=False, allow_null=True, default=None)
    issuing_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    monitor_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True, default=None
    )
    leader_in_charge = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        return self._period(attrs, required=True)


class PlanUpdateInputSerializer(_PlanPeriodInput):
    """PATCH: any of the plan's fields but its code."""

    title = serializers.CharField(max_length=500, required=False)
    number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    issued_on = DateField(required=False, allow_null=True)
    issuing_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False
    )
    monitor_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True
    )
    leader_in_charge = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs):
        if "code" in self.initial_data:
            raise serializers.ValidationError({"code": _("The code of a plan cannot be changed.")})
        return self._period(attrs, required=False)


class PlanDocumentInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=60, help_text="The document's number, e.g. 12/NQ-TU.")
    title = serializers.CharField(max_length=500)
    issued_on = DateField(required=False, allow_null=True, default=None)
    issuer = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    file = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        allow_empty_file=True,
        help_text="The document itself (multipart): PDF, image or office document, checked "
        "by content; at most EVIDENCE_MAX_MB megabytes.",
    )

    def validate_file(self, file):
        from django.core.exceptions import ValidationError as DjangoValidationError

        if file is None:
            return None
        limit = settings.EVIDENCE_MAX_MB * 1024 * 1024
        content = file.read() if file.size <= limit else b""
        try:
            uploads.check_evidence_file(name=file.name, size=file.size, content=content)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        file.seek(0)
        return file


class AreaCreateInputSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.all())
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=255)
    name_en = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    order = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=32767,
        help_text="Position in the plan; without one the area comes last.",
    )
    dti_index = serializers.PrimaryKeyRelatedField(
        queryset=DtiIndex.objects.all(), required=False, allow_null=True, default=None
    )


class AreaUpdateInputSerializer(serializers.Serializer):
    """PATCH: any of the area's fields; it stays in its plan."""

    code = serializers.CharField(max_length=20, required=False)
    name = serializers.CharField(max_length=255, required=False)
    name_en = serializers.CharField(max_length=255, required=False, allow_blank=True)
    order = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    dti_index = serializers.PrimaryKeyRelatedField(
        queryset=DtiIndex.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs):
        if "plan" in self.initial_data:
            raise serializers.ValidationError(
                {"plan": _("A priority area stays in the plan it was created in.")}
            )
        return attrs


class TaskExpandQuerySerializer(serializers.Serializer):
    expand = serializers.ChoiceField(
        choices=["updates"],
        required=False,
        help_text=f"`updates`: add the task's {LATEST_UPDATES} latest status updates, with "
        "their evidence files and a link to the rest, in one request.",
    )


class AsOfQuerySerializer(serializers.Serializer):
    as_of = DateField(
        required=False,
        help_text="Report date (YYYY-MM-DD) for `category`; default today in Asia/Ho_Chi_Minh.",
    )
