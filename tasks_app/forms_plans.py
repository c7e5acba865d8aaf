"""Forms of the monitoring agency's plan pages (tasks_app/views_plans.py): plans, basis
documents, priority areas and tasks. They parse and check input only; the services
(tasks_app.plan_services, tasks_app.services) hold the rules, and their ValidationErrors are
shown beside the fields by `tasks_app.forms.add_service_errors`.

Agency pickers list the agencies that exist today in Vietnamese order (selectors.
agency_list_current); static/js/agency_picker.js adds a filter box that ignores diacritics.
Without JavaScript they are plain selects.
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tasks_app import selectors
from tasks_app.forms import DateInput, StyledFormMixin
from tasks_app.models import Agency, DtiIndex, Plan, PriorityArea, Task

# --- Agency pickers ---------------------------------------------------------------------------


def _picker_attrs(multiple: bool = False) -> dict:
    attrs = {
        "data-agency-picker": "",
        "data-filter-label": _("Filter the list"),
        "data-filter-placeholder": _("Type part of the name, without accents if you like"),
    }
    if multiple:
        attrs["size"] = "8"
    return attrs


class AgencyField(forms.ModelChoiceField):
    """One agency, chosen among those that exist today (and the one the form holds)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Agency.objects.none())
        kwargs.setdefault("widget", forms.Select(attrs=_picker_attrs()))
        super().__init__(*args, **kwargs)


class AgenciesField(forms.ModelMultipleChoiceField):
    """Several agencies, chosen among those that exist today (and those the form holds)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Agency.objects.none())
        kwargs.setdefault("widget", forms.SelectMultiple(attrs=_picker_attrs(multiple=True)))
        super().__init__(*args, **kwargs)


def _agency_ids(*values) -> list[int]:
    """The ids of the agencies in `values` (agencies, ids, lists of either; None skipped)."""
    ids = []
    for value in values:
        items = value if isinstance(value, list | tuple | set) else [value]
        for item in items:
            if item is None or item == "":
                continue
            ids.append(item.pk if isinstance(item, Agency) else int(item))
    return ids


def _set_agency_choices(form: forms.Form, names: list[str]) -> None:
    """Give the agency fields `names` the agencies existing today, plus any the form already
    holds (a task led by an agency since abolished keeps it in the list)."""
    held = []
    for name in names:
        held += _agency_ids(form.initial.get(name))
    queryset = selectors.agency_list_current(include=held)
    for name in names:
        form.fields[name].queryset = queryset


class VersionMixin(forms.Form):
    """The task version the person saw; a stale one is refused by the service."""

    version = forms.IntegerField(widget=forms.HiddenInput)


# --- Plans ----------------------------------------------------------------------------------


class PlanForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Plan code"),
        max_length=40,
        help_text=_("A short key, e.g. CDS-2026. It cannot be changed later."),
    )
    title = forms.CharField(label=_("Plan title"), max_length=500)
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2000,
        max_value=2100,
        help_text=_("The plan covers the calendar year: 1 January to 31 December."),
    )
    number = forms.CharField(
        label=_("Document number"),
        max_length=60,
        required=False,
        help_text=_("e.g. 45/KH-UBND"),
    )
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=DateInput())
    issuing_agency = AgencyField(label=_("Issuing agency"))
    monitor_agency = AgencyField(label=_("Monitoring agency"), required=False)

    def __init__(self, *args, plan: Plan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        _set_agency_choices(self, ["issuing_agency", "monitor_agency"])
        self.fields["monitor_agency"].empty_label = _("(none)")
        if plan is not None:
            # The code is the plan's key in files and reports: set once (plan_services).
            del self.fields["code"]


# --- Basis documents ------------------------------------------------------------------------


class PlanDocumentForm(StyledFormMixin, forms.Form):
    number = forms.CharField(label=_("Number and symbol"), max_length=60)
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=DateInput())
    issuer = forms.CharField(label=_("Issuer"), max_length=255, required=False)
    title = forms.CharField(
        label=_("Summary"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("Optional. A new file replaces the stored one."),
    )


# --- Priority areas ---------------------------------------------------------------------------


class AreaForm(StyledFormMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=255)
    order = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=32767,
        required=False,
        help_text=_("Empty: after the plan's other priority areas."),
    )
    dti_index = forms.ModelChoiceField(
        label=_("DTI index"),
        queryset=DtiIndex.objects.order_by("-edition", "code"),
        required=False,
    )


# --- Tasks --------------------------------------------------------------------------------------


class TaskFieldsMixin(forms.Form):
    """The descriptive fields a task is created with and edited through."""

    code = forms.CharField(label=_("Task code"), max_length=60)
    title = forms.CharField(
        label=_("Task"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    priority_area = forms.ModelChoiceField(
        label=_("Priority area"), queryset=PriorityArea.objects.none()
    )
    coordinating_agencies = AgenciesField(label=_("Coordinating agencies"), required=False)
    assigned_on = forms.DateField(label=_("Assigned on (start)"), widget=DateInput())
    expected_output = forms.CharField(
        label=_("Expected output"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kpi_target = forms.DecimalField(
        label=_("KPI target"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    kpi_unit = forms.CharField(label=_("KPI unit"), max_length=150, required=False)
    dti_index = forms.ModelChoiceField(
        label=_("DTI index"),
        queryset=DtiIndex.objects.order_by("-edition", "code"),
        required=False,
    )

    def _setup_task_fields(self, plan: Plan, exclude_task: int | None = None) -> None:
        self.plan = plan
        self.exclude_task = exclude_task
        self.fields["priority_area"].queryset = selectors.priority_area_list_for_plan(plan=plan)


class TaskCreateForm(StyledFormMixin, TaskFieldsMixin):
    lead_agency = AgencyField(label=_("Lead agency"))
    due = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    regular = forms.BooleanField(
        label=_("Regular task (no due date)"),
        required=False,
        help_text=_("A regular task is carried out all year and is never overdue."),
    )
    parent = forms.ModelChoiceField(
        label=_("Part of task"),
        queryset=Task.objects.none(),
        required=False,
        empty_label=_("(none: a task of its own)"),
        help_text=_("Optional: the plan item this task carries out for one agency."),
    )

    field_order = [
        "code",
        "title",
        "priority_area",
        "lead_agency",
        "coordinating_agencies",
        "assigned_on",
        "due",
        "regular",
        "expected_output",
        "kpi_target",
        "kpi_unit",
        "dti_index",
        "parent",
    ]

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_task_fields(plan)
        _set_agency_choices(self, ["lead_agency", "coordinating_agencies"])
        self.fields["parent"].queryset = selectors.task_parent_choices(plan=plan)

    def clean(self):
        data = super().clean()
        if data.get("regular"):
            data["due"] = None
        elif not data.get("due") and "due" not in self.errors:
            self.add_error("due", _("Enter the due date, or tick “Regular task”."))
        return data


class TaskEditForm(StyledFormMixin, VersionMixin, TaskFieldsMixin):
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; kept in the change history."),
    )

    field_order = [
        "code",
        "title",
        "priority_area",
        "coordinating_agencies",
        "assigned_on",
        "expected_output",
        "kpi_target",
        "kpi_unit",
        "dti_index",
        "reason",
        "version",
    ]

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_task_fields(task.plan, exclude_task=task.pk)
        _set_agency_choices(self, ["coordinating_agencies"])


class TaskLeadForm(StyledFormMixin, VersionMixin):
    lead_agency = AgencyField(label=_("New lead agency"))
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for the change.")},
        help_text=_("For example the decision that reassigned the task."),
    )

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        _set_agency_choices(self, ["lead_agency"])

    def clean_lead_agency(self) -> Agency:
        agency = self.cleaned_data["lead_agency"]
        if agency.pk == self.task.lead_agency_id:
            raise forms.ValidationError(_("This agency already leads the task."))
        return agency


class TaskDueForm(StyledFormMixin, VersionMixin):
    due = forms.DateField(label=_("New due date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the reason for the adjustment.")},
    )


class TaskSplitForm(StyledFormMixin, VersionMixin):
    agencies = AgenciesField(
        label=_("Agencies"),
        help_text=_("Each agency gets its own task, coded with this task's code and its code."),
        error_messages={"required": _("Choose at least one agency.")},
    )

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        _set_agency_choices(self, ["agencies"])

    def existing_children(self) -> set[int]:
        """The agencies that lead a child of the task already (task_split keeps them)."""
        if not hasattr(self, "_existing"):
            self._existing = {child.lead_agency_id for child in self.task.children.all()}
        return self._existing

    def child_codes(self) -> list[tuple[Agency, str, bool]]:
        """(agency, the code its task gets, whether it has one already) for the agencies
        chosen, in the pickers' order."""
        existing = self.existing_children()
        return [
            (agency, f"{self.task.code}.{agency.code}", agency.pk in existing)
            for agency in self.cleaned_data["agencies"]
        ]


def default_assigned_on(plan: Plan) -> datetime.date:
    """Today, moved into the plan's period."""
    today = timezone.localdate()
    return min(max(today, plan.period_start), plan.period_end)


# --- Tasks that need a new owner (issue 14) -----------------------------------------------------


class TaskReassignForm(StyledFormMixin, forms.Form):
    """Reassign some flagged tasks of one former lead agency (`group`, its id) at once.

    The new lead agency's select lists the suggested successors first, then every agency
    existing today; any agency is accepted here, and the service refuses one that no longer
    exists (with its message beside the field)."""

    group = forms.IntegerField(widget=forms.HiddenInput)
    tasks = forms.ModelMultipleChoiceField(
        label=_("Tasks"),
        queryset=Task.objects.none(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Choose at least one task.")},
    )
    lead_agency = forms.ModelChoiceField(
        label=_("New lead agency"),
        queryset=Agency.objects.all(),
        error_messages={"required": _("Choose the new lead agency.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the reassignment.")},
        help_text=_("For example the decision that reassigned the tasks."),
    )

    def __init__(
        self,
        *args,
        tasks,
        suggested: list[Agency],
        current: list[Agency],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = tasks
        suggested_ids = {agency.pk for agency in suggested}
        others = [(a.pk, str(a)) for a in current if a.pk not in suggested_ids]
        choices: list = [("", _("Choose an agency"))]
        if suggested:
            choices.append((_("Suggested successors"), [(a.pk, str(a)) for a in suggested]))
        choices.append((_("All agencies existing today"), others))
        self.fields["lead_agency"].widget.choices = choices
        if len(suggested) == 1 and not self.is_bound:
            self.initial.setdefault("lead_agency", suggested[0].pk)

    def chosen_task_ids(self) -> set[str]:
        """The ids of the tasks ticked (to keep them ticked when the form is refused)."""
        return set(self.data.getlist("tasks")) if self.is_bound else set()
