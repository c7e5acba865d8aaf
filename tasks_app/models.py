"""The domain model: agencies, plans, priority areas, tasks and their history.

History is never overwritten. A task's current state is the latest StatusUpdate (copied onto
the task row for fast listing); an approved DeadlineExtension moves `due` and keeps
`original_due`; agencies that were renamed, merged or abolished keep their records and are
linked to their successors by AgencySuccession rows.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from tasks_app import formatting
from tasks_app.choices import (
    AgencyKind,
    ChangeSource,
    ExtensionKind,
    ExtensionStatus,
    ReportCategory,
    Role,
    SuccessionKind,
    TaskState,
    UpdateKind,
)
from tasks_app.querysets import (
    AdministrativeLevelQuerySet,
    AgencyQuerySet,
    MembershipQuerySet,
    TaskQuerySet,
)
from tasks_app.search import fold


class InForce:
    """Rows with a validity period (`valid_from`, `valid_to`; empty for open-ended): the
    Python twin of `querysets.in_force_on`."""

    valid_from: datetime.date | None
    valid_to: datetime.date | None

    def is_valid_on(self, day: datetime.date) -> bool:
        """Whether the row was in force on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class AdministrativeLevel(InForce, models.Model):
    """A tier of government (province, district, commune). Data, not code: the 2025 reform
    ended the district tier, so a level has validity dates like an agency."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = AdministrativeLevelQuerySet.as_manager()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("administrative level")
        verbose_name_plural = _("administrative levels")

    def __str__(self) -> str:
        return self.name


class Agency(InForce, models.Model):
    """An agency (department, People's Committee, office…) in the tree of the province.

    `path` is the chain of primary keys from the root ("/1/7/42/"), kept in step with
    `parent` by save(); it makes "this agency and everything under it" one indexed
    prefix match, which the permission scope needs on every request.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    doc_code = models.CharField(
        _("document code"),
        max_length=20,
        blank=True,
        help_text=_("Abbreviation used in document numbers, e.g. STTTT in 12/BC-STTTT."),
    )
    level = models.ForeignKey(
        AdministrativeLevel,
        verbose_name=_("administrative level"),
        on_delete=models.PROTECT,
        related_name="agencies",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    place_name = models.CharField(
        _("place name"),
        max_length=100,
        blank=True,
        help_text=_("Locality written in the date line of documents, e.g. Nam Định."),
    )
    gso_code = models.CharField(_("statistical code"), max_length=20, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    search_text = models.TextField(editable=False, default="")

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="agency_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs.pop("force_insert", None)
        self.search_text = fold(" ".join([self.code, self.name, self.short_name]))
        old_path = self.path
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # The agency moved: rewrite the prefix of every descendant in one statement.
            Agency.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(models.Value(self.path), Substr("path", len(old_path) + 1))
            )

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("An agency cannot be placed under itself.")})
            ancestor = ancestor.parent


# What an agency is called in pickers (Agency.__str__: the short name, else the name), as an
# expression to sort by: `order_by(vi_order(AGENCY_LABEL))`.
AGENCY_LABEL = Coalesce(NullIf(F("short_name"), Value("")), F("name"))


class AgencySuccession(models.Model):
    """A reorganisation event: one row per predecessor. The successor is empty when an
    agency was abolished or its successor is not known; its open tasks then need to be
    reassigned by hand."""

    predecessor = models.ForeignKey(
        Agency,
        verbose_name=_("predecessor"),
        on_delete=models.PROTECT,
        related_name="successions",
    )
    successor = models.ForeignKey(
        Agency,
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessions",
    )
    date = models.DateField(_("effective date"))
    kind = models.CharField(_("kind"), max_length=10, choices=SuccessionKind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["date", "predecessor__code"]
        verbose_name = _("agency succession")
        verbose_name_plural = _("agency successions")
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "date", "kind"], name="succession_unique_event"
            ),
            # A rename always names the new agency; merges may not know it yet (2024 merges).
            models.CheckConstraint(
                condition=~Q(kind="rename") | Q(successor__isnull=False),
                name="succession_rename_has_successor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor or '—'} ({self.date:%d/%m/%Y})"


class Membership(models.Model):
    """A user's role in an agency. A user may belong to several agencies.

    `valid_from` / `valid_to` (inclusive, empty: open-ended) bound the role in time: only
    memberships in force today give rights. When an agency is reorganised, the monitoring
    agency ends its staff's memberships and opens them in the successor
    (services.membership_transfer); the ended rows stay as the record of who was where.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["agency__path", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="membership_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.agency} · {self.get_role_display()}"


class DtiIndex(models.Model):
    """A main index of the provincial Digital Transformation Index, by edition (2020, 2022…);
    tasks and priority areas may be tagged with one."""

    edition = models.PositiveSmallIntegerField(_("edition"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=150)
    points = models.PositiveSmallIntegerField(_("points"), default=0)

    class Meta:
        ordering = ["edition", "code"]
        verbose_name = _("DTI index")
        verbose_name_plural = _("DTI indices")
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="dti_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.edition})"


class Plan(models.Model):
    """A plan issued by an agency (usually the provincial People's Committee) for a period."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    number = models.CharField(_("document number"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=500)
    issuing_agency = models.ForeignKey(
        Agency, verbose_name=_("issuing agency"), on_delete=models.PROTECT, related_name="+"
    )
    monitor_agency = models.ForeignKey(
        Agency,
        verbose_name=_("monitoring agency"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    leader_in_charge = models.CharField(_("leader in charge"), max_length=255, blank=True)
    source_document = models.TextField(_("source document"), blank=True)

    class Meta:
        ordering = ["-period_start", "code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="plan_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PlanDocument(models.Model):
    """A document the plan is based on (resolution, national programme…)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="documents"
    )
    number = models.CharField(_("document number"), max_length=60)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issuer = models.CharField(_("issuer"), max_length=255, blank=True)
    title = models.CharField(_("title"), max_length=500)
    file = models.FileField(_("file"), upload_to="plan-documents/%Y/", max_length=255, blank=True)

    class Meta:
        ordering = ["plan", "issued_on", "number"]
        verbose_name = _("basis document")
        verbose_name_plural = _("basis documents")
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_document_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class PriorityArea(models.Model):
    """A priority of the plan (smart city, e-government, digital health…)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="priority_areas"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=255)
    name_en = models.CharField(_("name in English"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    dti_index = models.ForeignKey(
        DtiIndex,
        verbose_name=_("DTI index"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["plan", "order", "code"]
        verbose_name = _("priority area")
        verbose_name_plural = _("priority areas")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="priority_area_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    """A unit of work led by one agency (chủ trì), with any number of coordinating agencies
    (phối hợp). A plan item that several agencies carry out is a parent task with one child
    per agency; the parent's progress rolls up from its children.

    The state fields (state, progress, completed_on, result, kpi_actual) mirror the latest
    StatusUpdate; `version` grows on every change so that stale edits can be refused.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="tasks"
    )
    priority_area = models.ForeignKey(
        PriorityArea,
        verbose_name=_("priority area"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    code = models.CharField(_("code"), max_length=60)
    title = models.CharField(_("title"), max_length=500)
    expected_output = models.TextField(_("expected output"), blank=True)
    lead_agency = models.ForeignKey(
        Agency, verbose_name=_("lead agency"), on_delete=models.PROTECT, related_name="led_tasks"
    )
    coordinating_agencies = models.ManyToManyField(
        Agency,
        verbose_name=_("coordinating agencies"),
        blank=True,
        related_name="coordinated_tasks",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    assigned_on = models.DateField(_("assigned on"))
    original_due = models.DateField(_("original due date"), null=True, blank=True)
    due = models.DateField(
        _("due date"),
        null=True,
        blank=True,
        help_text=_("The due date in force; empty for a regular task."),
    )
    state = models.CharField(
        _("state"), max_length=30, choices=TaskState.choices, default=TaskState.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    kpi_target = models.DecimalField(
        _("KPI target"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    kpi_unit = models.CharField(_("KPI unit"), max_length=150, blank=True)
    kpi_actual = models.DecimalField(
        _("KPI actual"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Share of this task in its parent's progress; empty means equal shares."),
    )
    dti_index = models.ForeignKey(
        DtiIndex,
        verbose_name=_("DTI index"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    due_moved = models.BooleanField(
        _("due date moved"),
        default=False,
        editable=False,
        help_text=_(
            "An approved extension or an adjustment moved the due date at least once; "
            "until then the due date in force at any past date is the original one."
        ),
    )
    needs_reassignment = models.BooleanField(
        _("needs reassignment"),
        default=False,
        help_text=_("The lead agency was abolished; the task must be assigned again."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "code"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["lead_agency", "due"], name="task_lead_due"),
            models.Index(fields=["plan", "priority_area"], name="task_plan_area"),
            models.Index(fields=["due"], name="task_due"),
            # Counts of the API list filtered by state (the open tasks) as an index-only
            # scan: 1.5 ms instead of 9 ms over 20,000 tasks (bench/results/api.md).
            models.Index(fields=["state"], name="task_state"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="task_code_unique_in_plan"),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="task_progress_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(state="completed") | Q(completed_on__isnull=False),
                name="task_completed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(due__isnull=True, original_due__isnull=True)
                | Q(due__isnull=False, original_due__isnull=False),
                name="task_due_and_original_due_together",
            ),
            models.CheckConstraint(
                condition=Q(original_due__isnull=True) | Q(original_due__gte=F("assigned_on")),
                name="task_due_after_assignment",
            ),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gt=0), name="task_weight_positive"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="task_not_its_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.title}"

    def save(self, *args, **kwargs) -> None:
        # Keep the folded copy used by diacritic-insensitive search in step with the title.
        self.search_text = fold(f"{self.code} {self.title}")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"code", "title"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.priority_area_id and self.plan_id and self.priority_area.plan_id != self.plan_id:
            errors["priority_area"] = _("The priority area belongs to another plan.")
        if self.parent_id and self.plan_id and self.parent.plan_id != self.plan_id:
            errors["parent"] = _("The parent task belongs to another plan.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_regular(self) -> bool:
        """A task with no due date is a regular task (nhiệm vụ thường xuyên)."""
        return self.due is None

    @property
    def is_extended(self) -> bool:
        return self.due is not None and self.due != self.original_due

    @property
    def kpi_percent(self):
        """The KPI's actual value as a percentage of its target, half-up to one decimal
        (Decimal; None without both)."""
        return formatting.kpi_percent(self.kpi_actual, self.kpi_target)

    @property
    def days_late(self) -> int | None:
        """For a task in the category completed_late: by how many days it was completed after
        the due date in force on the completion day. Needs the category annotations
        (`category`, `completed_on_at`, `due_at_completion` of TaskQuerySet.with_category);
        None otherwise."""
        if getattr(self, "category", None) != ReportCategory.COMPLETED_LATE:
            return None
        return formatting.days_late(
            getattr(self, "completed_on_at", None), getattr(self, "due_at_completion", None)
        )


class StatusUpdate(models.Model):
    """One report on a task: append-only. The lead agency reports progress, a coordinating
    agency adds a contribution, the monitoring agency confirms or returns a completion.

    `recorded_at` is when the update became known; reports at a date D only see updates
    recorded by the end of D, so a report regenerated later shows the same figures.
    """

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="updates"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=UpdateKind.choices, default=UpdateKind.REPORT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)
    state = models.CharField(_("state"), max_length=30, choices=TaskState.choices)
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    kpi_actual = models.DecimalField(
        _("KPI actual"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    proposals = models.TextField(_("proposals"), blank=True)
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why the task was withdrawn or returned.")
    )

    class Meta:
        ordering = ["task", "recorded_at", "pk"]
        get_latest_by = ["recorded_at", "pk"]
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        # Serves "the latest update of this task recorded before D" without a sort.
        indexes = [
            models.Index(fields=["task", "-recorded_at", "-id"], name="update_task_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="update_progress_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(state="completed") | Q(completed_on__isnull=False),
                name="update_completed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.code} · {self.get_state_display()} · {self.progress}%"

    def save(self, *args, **kwargs) -> None:
        # History is a legal record: an update, once written, is never changed.
        if not self._state.adding:
            raise ValidationError(_("Status updates cannot be changed once recorded."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Status updates cannot be deleted."))


def evidence_upload_to(instance: "Evidence", filename: str) -> str:
    # Keep the user's file name out of the stored path: it is kept in original_name.
    today = timezone.localdate()
    return f"evidence/{today:%Y/%m}/{instance.sha256[:16]}-{instance.update.task_id}.bin"


class Evidence(models.Model):
    """A file attached to a status update (a signed decision, minutes, a photo…)."""

    update = models.ForeignKey(
        StatusUpdate,
        verbose_name=_("status update"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["update", "pk"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name


class DeadlineExtension(models.Model):
    """A move of a task's due date: an agency's request (approved, rejected or pending) or
    the monitoring agency's recorded adjustment (kind `adjustment`, approved when made).
    Approval moves `Task.due` and keeps `Task.original_due`; reports at a date D only
    honour the moves decided by then (categories.facts_at)."""

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="extensions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("requesting agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ExtensionKind.choices, default=ExtensionKind.REQUEST
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    previous_due = models.DateField(_("due date when requested"))
    proposed_due = models.DateField(_("proposed due date"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, db_index=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["task", "requested_at", "pk"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        indexes = [
            # Serves "the latest extension approved before D" for the report category.
            models.Index(
                fields=["task", "-decided_at", "-id"],
                condition=Q(status="approved"),
                name="extension_task_approved",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(status="pending"),
                name="extension_one_pending_per_task",
            ),
            # An agency asks for more time; the monitoring agency may also bring a due
            # date forward (ExtensionKind.ADJUSTMENT), never to the same day.
            models.CheckConstraint(
                condition=Q(proposed_due__gt=F("previous_due"))
                | Q(kind="adjustment", proposed_due__lt=F("previous_due")),
                name="extension_moves_due",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="extension_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.code}: {self.previous_due:%d/%m/%Y} → {self.proposed_due:%d/%m/%Y}"


class TaskChange(models.Model):
    """One change of one field of a task: who, when, old → new, and why. Append-only, like
    the status updates beside which it is shown.

    `old_value`/`new_value` hold the value in machine form (a primary key, an ISO date, a
    decimal, sorted keys joined by commas for the coordinating agencies; "" for none);
    `old_text`/`new_text` what a reader saw at the time. Reports at a past date read the
    lead agency in force then from here (categories.facts_at).
    """

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="changes"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    field = models.CharField(_("field"), max_length=40)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    old_text = models.TextField(_("before"), blank=True)
    new_text = models.TextField(_("after"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(
        _("made in"), max_length=12, choices=ChangeSource.choices, default=ChangeSource.PAGE
    )

    class Meta:
        ordering = ["task", "changed_at", "pk"]
        verbose_name = _("task change")
        verbose_name_plural = _("task changes")
        indexes = [
            # Serves "the first change of this field after D" (the value in force at D).
            models.Index(fields=["task", "field", "changed_at"], name="task_change_field_at"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.field}: {self.old_text} → {self.new_text}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(_("Task changes cannot be changed once recorded."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Task changes cannot be deleted."))

    @property
    def field_label(self) -> str:
        """The field's name as the task form shows it."""
        try:
            return str(Task._meta.get_field(self.field).verbose_name)
        except FieldDoesNotExist:  # a field since removed keeps its stored name
            return self.field


class SheetUpload(models.Model):
    """A spreadsheet uploaded for preview, kept until it is applied: a plan (kind `plan`)
    or an agency's progress sheet (kind `progress`). Apply reads the stored bytes again, so
    what is applied is exactly the file that was previewed, and `applied_at` makes a second
    apply a no-op."""

    class Kind(models.TextChoices):
        PLAN = "plan", _("Plan")
        PROGRESS = "progress", _("Progress sheet")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    original_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("uploaded spreadsheet")
        verbose_name_plural = _("uploaded spreadsheets")

    def __str__(self) -> str:
        return self.original_name


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox): only its SHA-512 digest is stored, it expires, and a
    user holds several, each named for its purpose and revoked on its own. The token itself
    is shown once, when it is made (tasks_app/tokens.py)."""

    uid = models.UUIDField(_("identifier"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key[:8]}…)"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()


class CalendarFeed(models.Model):
    """A person's iCal feed of due dates (issue 17): the secret token in its URL
    (/calendar/<token>.ics), which calendar apps fetch without a session.

    The token is stored as it is, not hashed, so that the person can see their URL on their
    page at any time (a calendar app is set up long after the URL was made). It only
    grants reading the due dates the person sees anyway, from the same database. Rotating
    gives a new token (the old URL stops working at once); revoking keeps the row with
    `revoked_at` set, and the feed answers 404 until a new token is made.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%d/%m/%Y}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
