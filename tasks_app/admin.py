"""Django admin for the reference data (levels, agencies, plans…) and for looking at tasks.

The admin is for system administrators. It edits reference data freely, but a task's history
is a legal record: status updates, evidence files and deadline decisions are read-only here.
Updates are recorded through the web pages and the API (services.status_update_record);
extensions are decided with the actions of the extension list, which call the services, so
that an approval moves the due date and keeps the original one. Tasks are created and
changed through the services too (TaskAdminForm): the admin has no write path of its own.

Labels come from the models' verbose names; every other string is translated here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tasks_app import services
from tasks_app.choices import ChangeSource, ExtensionStatus, ReportCategory
from tasks_app.collation import vi_order
from tasks_app.forms import add_service_errors
from tasks_app.models import (
    AGENCY_LABEL,
    AdministrativeLevel,
    Agency,
    AgencySuccession,
    ApiToken,
    CalendarFeed,
    DeadlineExtension,
    DtiIndex,
    Evidence,
    Membership,
    Plan,
    PlanDocument,
    PriorityArea,
    SheetUpload,
    StatusUpdate,
    Task,
    TaskChange,
)

admin.site.site_header = _("Plan tracker administration")
admin.site.site_title = _("Plan tracker")
admin.site.index_title = _("Reference data and tasks")


def _label(model, field_name: str):
    """The (translated) verbose name of a model field, for column headers."""
    return model._meta.get_field(field_name).verbose_name


def _short_date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class WideTitleMixin:
    """Plan and task titles run to 500 characters: give them a wide input."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "title":
            kwargs["widget"] = widgets.AdminTextInputWidget(attrs={"class": "vLargeTextField"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ReadOnlyInline(admin.TabularInline):
    """An inline that lists related rows and links to them, without changing anything."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """History that is appended by the services only: viewable, never added, changed or
    deleted here (the models refuse changes and deletions anyway)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Administrative levels and agencies -------------------------------------------------------


@admin.register(AdministrativeLevel)
class AdministrativeLevelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "order", "valid_from", "valid_to")
    search_fields = ("code", "name")


class ValidTodayFilter(admin.SimpleListFilter):
    """Agencies (or memberships) in force today, or ended or not yet begun."""

    title = _("valid today")
    parameter_name = "valid_today"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.valid_on(today)
        if self.value() == "no":
            return queryset.filter(Q(valid_from__gt=today) | Q(valid_to__lt=today))
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "valid_from", "valid_to")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "kind", "valid_from", "valid_to")
    list_filter = ("level", "kind", ValidTodayFilter)
    list_select_related = ("level", "parent")
    search_fields = ("code", "name", "short_name")
    autocomplete_fields = ("parent",)
    inlines = (MembershipInline,)
    # Vietnamese alphabetical order, in the list and in every agency autocomplete.
    ordering = (vi_order(AGENCY_LABEL), "code")


@admin.register(AgencySuccession)
class AgencySuccessionAdmin(admin.ModelAdmin):
    list_display = ("predecessor", "successor", "date", "kind", "legal_basis")
    list_filter = ("kind", "predecessor__level")
    list_select_related = ("predecessor", "successor")
    search_fields = (
        "predecessor__code",
        "predecessor__name",
        "successor__code",
        "successor__name",
        "legal_basis",
    )
    autocomplete_fields = ("predecessor", "successor")
    date_hierarchy = "date"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "agency", "role", "valid_from", "valid_to")
    list_filter = ("role", "agency__level", ValidTodayFilter)
    list_select_related = ("user", "agency")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "agency__code",
        "agency__name",
    )
    autocomplete_fields = ("user", "agency")
    # People in Vietnamese order: family name first, then the given name.
    ordering = (vi_order("user__last_name"), vi_order("user__first_name"), "user__username")


# --- Plans and priority areas -----------------------------------------------------------------


@admin.register(DtiIndex)
class DtiIndexAdmin(admin.ModelAdmin):
    list_display = ("edition", "code", "name", "points")
    list_filter = ("edition",)
    search_fields = ("code", "name")


class PlanDocumentInline(admin.TabularInline):
    model = PlanDocument
    extra = 0


class PriorityAreaInline(admin.TabularInline):
    model = PriorityArea
    extra = 0
    autocomplete_fields = ("dti_index",)
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(WideTitleMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "number",
        "title",
        "issuing_agency",
        "issued_on",
        "period_start",
        "period_end",
    )
    list_select_related = ("issuing_agency",)
    search_fields = ("code", "number", "title")
    autocomplete_fields = ("issuing_agency", "monitor_agency")
    inlines = (PlanDocumentInline, PriorityAreaInline)


@admin.register(PlanDocument)
class PlanDocumentAdmin(admin.ModelAdmin):
    list_display = ("number", "issued_on", "issuer", "title", "plan")
    list_filter = ("plan",)
    list_select_related = ("plan",)
    search_fields = ("number", "title", "issuer")


@admin.register(PriorityArea)
class PriorityAreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "plan", "order", "dti_index")
    list_filter = ("plan",)
    list_select_related = ("plan", "dti_index")
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("dti_index",)


# --- Tasks ------------------------------------------------------------------------------------


class CategoryTodayFilter(admin.SimpleListFilter):
    """The report category of each task today, from the same annotation as the reports."""

    title = _("report category today")
    parameter_name = "category_today"

    def lookups(self, request, model_admin):
        return ReportCategory.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if "category" not in queryset.query.annotations:
            queryset = queryset.with_category(timezone.localdate())
        return queryset.filter(category=self.value())


class TaskStructureFilter(admin.SimpleListFilter):
    """Plan items split per agency (parents), their per-agency tasks (children), the rest."""

    title = _("parent and child tasks")
    parameter_name = "structure"

    def lookups(self, request, model_admin):
        return [
            ("parent", _("Parent tasks (split per agency)")),
            ("child", _("Child tasks")),
            ("standalone", _("Tasks not split")),
        ]

    def queryset(self, request, queryset):
        has_children = Exists(Task.objects.filter(parent=OuterRef("pk")))
        if self.value() == "parent":
            return queryset.filter(has_children)
        if self.value() == "child":
            return queryset.filter(parent__isnull=False)
        if self.value() == "standalone":
            return queryset.filter(~has_children, parent__isnull=True)
        return queryset


class LeadAgencyLevelFilter(admin.RelatedFieldListFilter):
    """The administrative level of the lead agency (titled so, not just "level")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("lead agency level")


class TaskAdminForm(forms.ModelForm):
    """Writes the task through the services, like the staff pages and the API: once its
    fields are valid, the form creates the task with `services.task_create` or changes
    what the administrator changed with `services.task_update_fields`. The services' checks
    (priority area and parent in the task's plan, dates in order, the model's constraints)
    therefore show beside the fields, and nothing is written when one fails.

    No Meta: TaskAdmin builds the form for its model with the fields of its fieldsets.
    """

    # Who is saving: set by TaskAdmin.get_form, recorded in the change history.
    changed_by = None

    def _post_clean(self):
        # In place of ModelForm's model validation: the service validates the task (its
        # own checks, then the model's full_clean) before it writes anything.
        if self.errors:
            return
        try:
            self.instance = self._write()
        except ValidationError as error:
            add_service_errors(self, error)

    def _write(self) -> Task:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.task_create(**data)
        changed = {name: data[name] for name in self.changed_data}
        coordinating = changed.pop("coordinating_agencies", None)
        # expected_version=None: the service writes on the row as it is now, so a status
        # update recorded while the page was open is kept.
        return services.task_update_fields(
            task=self.instance,
            expected_version=None,
            coordinating_agencies=coordinating,
            author=self.changed_by,
            source=ChangeSource.ADMIN,
            **changed,
        )


class StatusUpdateInline(ReadOnlyInline):
    model = StatusUpdate
    fields = (
        "recorded_at",
        "kind",
        "agency",
        "author",
        "state",
        "progress",
        "completed_on",
        "result",
    )
    ordering = ("-recorded_at", "-pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency", "author")


class TaskChangeInline(ReadOnlyInline):
    """The change history of the task's fields, beside its status updates."""

    model = TaskChange
    fields = ("changed_at", "author", "field_label", "old_text", "new_text", "reason", "source")
    readonly_fields = fields
    ordering = ("-changed_at", "-pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description=_label(TaskChange, "field"))
    def field_label(self, obj: TaskChange) -> str:
        return obj.field_label


class DeadlineExtensionInline(ReadOnlyInline):
    model = DeadlineExtension
    fields = (
        "requested_at",
        "agency",
        "previous_due",
        "proposed_due",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency", "decided_by")


class ChildTaskInline(ReadOnlyInline):
    model = Task
    fk_name = "parent"
    fields = ("code", "title", "lead_agency", "due", "state", "progress", "completed_on")
    verbose_name = _("child task")
    verbose_name_plural = _("child tasks (one per agency)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead_agency")


@admin.register(Task)
class TaskAdmin(WideTitleMixin, admin.ModelAdmin):
    form = TaskAdminForm
    list_display = (
        "code",
        "short_title",
        "priority_area",
        "lead_agency",
        "due_display",
        "state",
        "progress",
        "category_today",
        "version",
    )
    list_display_links = ("code", "short_title")
    list_select_related = ("priority_area", "lead_agency")
    list_filter = (
        "plan",
        "priority_area",
        ("lead_agency__level", LeadAgencyLevelFilter),
        ("lead_agency", admin.RelatedOnlyFieldListFilter),
        "state",
        CategoryTodayFilter,
        TaskStructureFilter,
        "needs_reassignment",
    )
    search_fields = ("code", "title", "lead_agency__name", "lead_agency__short_name")
    autocomplete_fields = ("priority_area", "lead_agency", "coordinating_agencies", "parent")
    inlines = (ChildTaskInline, StatusUpdateInline, TaskChangeInline, DeadlineExtensionInline)
    list_per_page = 50

    _identity = (None, {"fields": ("plan", "priority_area", "code", "title", "expected_output")})
    _agencies = (_("Agencies"), {"fields": ("lead_agency", "coordinating_agencies", "parent")})
    _targets = (_("Targets"), {"fields": ("kpi_target", "kpi_unit", "weight", "dti_index")})
    add_fieldsets = (
        _identity,
        _agencies,
        (_("Dates"), {"fields": ("assigned_on", "due")}),
        _targets,
    )
    change_fieldsets = (
        _identity,
        _agencies,
        (_("Dates"), {"fields": ("assigned_on", "original_due", "due")}),
        _targets,
        (
            _("Current status"),
            {
                "description": _(
                    "The state, the progress and the due date change through status "
                    "updates and deadline extensions, not here."
                ),
                "fields": (
                    "state",
                    "progress",
                    "completed_on",
                    "result",
                    "kpi_actual",
                    "needs_reassignment",
                    "version",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )
    # Mirrors of the history (state… kpi_actual), the due dates (moved only by approved
    # extensions, or reports from history would disagree with the task row), the plan (a
    # task stays in its plan: services.task_update_fields) and the parent (moving a child
    # would need a roll-up of both parents).
    change_readonly_fields = (
        "plan",
        "parent",
        "original_due",
        "due",
        "state",
        "progress",
        "completed_on",
        "result",
        "kpi_actual",
        "version",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        # One annotated query serves the category column, its filter and its ordering.
        return super().get_queryset(request).with_category(timezone.localdate())

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # modelform_factory makes a class per call: the user is this request's.
        form = super().get_form(request, obj, change=change, **kwargs)
        form.changed_by = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.change_readonly_fields

    def get_inlines(self, request, obj):
        return () if obj is None else self.inlines

    @admin.display(description=_label(Task, "title"), ordering="title")
    def short_title(self, obj: Task) -> str:
        return Truncator(obj.title).chars(90)

    @admin.display(description=_label(Task, "due"), ordering="due")
    def due_display(self, obj: Task) -> str | None:
        if obj.due is None:
            return None
        if obj.is_extended and obj.original_due is not None:
            return gettext("%(due)s (originally %(original)s)") % {
                "due": _short_date(obj.due),
                "original": _short_date(obj.original_due),
            }
        return _short_date(obj.due)

    @admin.display(description=_("report category today"), ordering="category")
    def category_today(self, obj: Task) -> str | None:
        category = getattr(obj, "category", None)
        return ReportCategory(category).label if category else None

    # TaskAdminForm has written the task through the services when it was validated.
    def save_form(self, request, form, change: bool) -> Task:
        return form.instance

    def save_model(self, request, obj: Task, form, change: bool) -> None:
        pass

    def save_related(self, request, form, formsets, change: bool) -> None:
        # The coordinating agencies were written by the service; the inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- History: status updates, evidence, deadline extensions -----------------------------------


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ("original_name", "file", "content_type", "size", "sha256", "uploaded_at")


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyAdmin):
    """Status updates are recorded through the web pages and the API, never here."""

    list_display = (
        "task_code",
        "recorded_at",
        "kind",
        "agency",
        "author",
        "state",
        "progress",
        "completed_on",
    )
    list_filter = (
        "kind",
        "state",
        "task__plan",
        "agency__level",
        ("agency", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("task", "agency", "author")
    search_fields = ("task__code", "task__title", "agency__name", "author__username")
    date_hierarchy = "recorded_at"
    ordering = ("-recorded_at", "-pk")
    inlines = (EvidenceInline,)

    @admin.display(description=_label(StatusUpdate, "task"), ordering="task__code")
    def task_code(self, obj: StatusUpdate) -> str:
        return obj.task.code


@admin.register(TaskChange)
class TaskChangeAdmin(ReadOnlyAdmin):
    """Changes are recorded by the services (pages, API, import), never made here."""

    list_display = (
        "task_code",
        "changed_at",
        "field_label",
        "old_text",
        "new_text",
        "author",
        "source",
    )
    list_filter = ("field", "source", "task__plan")
    list_select_related = ("task", "author")
    search_fields = ("task__code", "task__title", "reason", "author__username")
    date_hierarchy = "changed_at"
    ordering = ("-changed_at", "-pk")

    @admin.display(description=_label(TaskChange, "task"), ordering="task__code")
    def task_code(self, obj: TaskChange) -> str:
        return obj.task.code

    @admin.display(description=_label(TaskChange, "field"), ordering="field")
    def field_label(self, obj: TaskChange) -> str:
        return obj.field_label


@admin.register(SheetUpload)
class SheetUploadAdmin(ReadOnlyAdmin):
    """Spreadsheets uploaded for a preview; applied ones show when."""

    list_display = ("original_name", "kind", "plan", "agency", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "plan")
    list_select_related = ("plan", "agency", "uploaded_by")
    exclude = ("content",)
    date_hierarchy = "uploaded_at"


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "task_code", "content_type", "size", "uploaded_at")
    list_select_related = ("update__task",)
    search_fields = ("original_name", "sha256", "update__task__code")
    date_hierarchy = "uploaded_at"

    @admin.display(description=_label(StatusUpdate, "task"), ordering="update__task__code")
    def task_code(self, obj: Evidence) -> str:
        return obj.update.task.code


class ExtensionDecisionForm(forms.Form):
    note = forms.CharField(
        label=capfirst(_label(DeadlineExtension, "decision_note")),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        required=False,
    )

    def __init__(self, *args, note_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin):
    """Requests come from the web pages and the API; the admin decides them with the
    actions below, which call the services (never by editing the status)."""

    list_display = (
        "task_code",
        "status",
        "previous_due",
        "proposed_due",
        "agency",
        "requested_at",
        "decided_by",
        "decided_at",
    )
    ordering = ("-requested_at", "-pk")
    list_filter = ("status", "task__plan", ("agency", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("task", "agency", "decided_by")
    search_fields = ("task__code", "task__title", "reason")
    actions = ("approve_selected", "reject_selected")
    confirmation_template = "admin/tasks_app/deadlineextension/decide_confirmation.html"

    @admin.display(description=_label(DeadlineExtension, "task"), ordering="task__code")
    def task_code(self, obj: DeadlineExtension) -> str:
        return obj.task.code

    def has_decide_permission(self, request) -> bool:
        # Deciding is the "change" of an extension; the rows themselves stay read-only.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description=_("Approve selected extension requests"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject selected extension requests"), permissions=["decide"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool):
        """Ask for confirmation (and a note), then decide each request via the service.

        1. First pass: leave out requests that are no longer pending and show the
           confirmation page.
        2. Confirmed (`post=yes`): call the service per request; a request that fails
           (decided by someone else meanwhile…) is reported and the others go ahead.
        """
        pending = list(
            queryset.filter(status=ExtensionStatus.PENDING).select_related("task", "agency")
        )
        confirmed = request.POST.get("post") == "yes"
        if not confirmed:
            decided = queryset.exclude(status=ExtensionStatus.PENDING).count()
            if decided:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d selected request was already decided and is left as it is.",
                        "%(count)d selected requests were already decided and are left as "
                        "they are.",
                        decided,
                    )
                    % {"count": decided},
                    messages.WARNING,
                )
            if not pending:
                return None
        form = ExtensionDecisionForm(request.POST if confirmed else None, note_required=not approve)
        if confirmed and form.is_valid():
            note = form.cleaned_data["note"]
            done = 0
            for extension in pending:
                try:
                    if approve:
                        services.extension_approve(
                            extension=extension, decided_by=request.user, note=note
                        )
                    else:
                        services.extension_reject(
                            extension=extension, decided_by=request.user, note=note
                        )
                except ValidationError as error:
                    self.message_user(
                        request,
                        gettext("%(extension)s: %(error)s")
                        % {"extension": extension, "error": " ".join(error.messages)},
                        messages.ERROR,
                    )
                else:
                    done += 1
            if done:
                if approve:
                    text = ngettext(
                        "%(count)d extension request was approved.",
                        "%(count)d extension requests were approved.",
                        done,
                    )
                else:
                    text = ngettext(
                        "%(count)d extension request was rejected.",
                        "%(count)d extension requests were rejected.",
                        done,
                    )
                self.message_user(request, text % {"count": done}, messages.SUCCESS)
            return None
        if approve:
            title = gettext("Approve extension requests")
            intro = gettext(
                "Approve these requests? The due date of each task moves to the proposed "
                "date; its original due date is kept."
            )
            submit = gettext("Yes, approve")
        else:
            title = gettext("Reject extension requests")
            intro = gettext(
                "Reject these requests? The due dates stay as they are. Give the reason."
            )
            submit = gettext("Yes, reject")
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "submit_label": submit,
            "opts": self.opts,
            "extensions": pending,
            "headers": [
                _label(DeadlineExtension, name)
                for name in ("task", "agency", "previous_due", "proposed_due", "reason")
            ],
            "form": form,
            "action_name": "approve_selected" if approve else "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.confirmation_template, context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's API tokens (issue 16): seen and revoked (deleted) here, never made here,
    since a token is shown only to the person who makes it (their "API tokens" page, the API,
    or `manage.py api_token create`). Only digests are stored."""

    list_display = ("name", "user", "created", "expiry", "last_used_at", "expired")
    list_filter = ("expiry", "last_used_at")
    search_fields = ("name", "user__username", "user__last_name", "user__first_name")
    list_select_related = ("user",)
    fields = ("uid", "name", "user", "created", "expiry", "last_used_at")
    readonly_fields = fields
    date_hierarchy = "created"

    @admin.display(description=_("Expired"), boolean=True)
    def expired(self, obj: ApiToken) -> bool:
        return obj.is_expired

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Each person's iCal feed (issue 17): seen here, and deleted to cut a feed off at once
    (its owner makes a new URL on "My account"). The token itself is not shown."""

    list_display = ("user", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    list_select_related = ("user",)
    fields = ("user", "created_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
