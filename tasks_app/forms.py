"""Forms of the staff pages. They parse and check input only; the business rules (which state
may follow which, what a completion needs, who may act) live in services.py and
permissions.py, and their ValidationErrors are shown beside the fields by `add_service_errors`.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tasks_app import uploads
from tasks_app.choices import FINISHED_STATES, AgeingBand, ReportCategory, TaskState
from tasks_app.collation import vi_order
from tasks_app.models import AGENCY_LABEL, Agency, PriorityArea, Task
from tasks_app.selectors import TASK_RELATION_COORDINATED, TASK_RELATION_LED
from tasks_app.services import ALLOWED_TRANSITIONS, EvidenceUpload

# --- Shared building blocks -------------------------------------------------------------------


class StyledFormMixin:
    """Give every widget the Bootstrap class it needs. Django itself adds `aria-invalid`
    and an `aria-describedby` pointing at `<id>_helptext` and `<id>_error`, the ids that
    templates/tasks_app/partials/_field.html gives the help text and the errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def add_service_errors(form: forms.Form, error: ValidationError, aliases=None) -> None:
    """Show a service's ValidationError beside the fields it names; messages about fields the
    form does not have (e.g. "task", "status") go to the top of the form. `aliases` maps a
    service's field name to the form's (e.g. "reason" → "note")."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        field = aliases.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as YYYY-MM-DD whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several evidence files at once. Cleaned to the EvidenceUpload values the services
    store, after tasks_app.uploads has checked each file's size and content (shared with the
    API); every refused file is named in the error shown under the field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        extensions = (ext for kind in uploads.ACCEPTED_KINDS for ext in kind.extensions)
        self.widget.attrs.setdefault("accept", ",".join(f".{ext}" for ext in extensions))

    def clean(self, data, initial=None) -> list[EvidenceUpload]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        for upload in files:
            super().clean(upload, initial)
        return uploads.evidence_uploads(files)


def evidence_help_text():
    return _(
        "Up to %(count)s files, %(max)s MB each: PDF, images, Word, Excel, PowerPoint or "
        "OpenDocument."
    ) % {"count": uploads.MAX_FILES_PER_UPDATE, "max": settings.EVIDENCE_MAX_MB}


# --- Task list filters -------------------------------------------------------------------------


class MonthField(forms.DateField):
    """A month written YYYY-MM (the value of <input type="month">) or MM/YYYY; cleaned to
    the first day of the month."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    input_formats = ["%Y-%m", "%m/%Y"]


SORT_DUE_ASC = "due"
SORT_DUE_DESC = "-due"


class TaskFilterForm(StyledFormMixin, forms.Form):
    """Filters of the task list; every field is optional and an invalid one is ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code or title")}),
    )
    priority_area = forms.ModelChoiceField(
        label=_("Priority area"),
        queryset=PriorityArea.objects.none(),
        required=False,
        empty_label=_("All priority areas"),
    )
    category = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *ReportCategory.choices],
    )
    due_month = MonthField(label=_("Due in month"), required=False)
    relation = forms.ChoiceField(
        label=_("My agency's role"),
        required=False,
        choices=[
            ("", _("Led or coordinated")),
            (TASK_RELATION_LED, _("Led by my agency")),
            (TASK_RELATION_COORDINATED, _("Coordinated by my agency")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            (SORT_DUE_ASC, _("Due date, earliest first")),
            (SORT_DUE_DESC, _("Due date, latest first")),
        ],
    )

    # The dashboard's links to the tasks behind a number (reports/links.py) add these; the
    # form carries them along as hidden fields while the person refines the list.
    plan = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    as_of = forms.DateField(required=False, widget=forms.HiddenInput)
    leaves = forms.BooleanField(required=False, widget=forms.HiddenInput)
    level = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    agency = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    lead_agency = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    due_by = forms.BooleanField(required=False, widget=forms.HiddenInput)
    counted = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The link "Nhiệm vụ cần giao lại" of the monitors' pages (issue 14).
    needs_reassignment = forms.BooleanField(required=False, widget=forms.HiddenInput)
    overdue_days = forms.ChoiceField(
        required=False,
        choices=[("", ""), *AgeingBand.choices],
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, priority_areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if priority_areas is not None:
            self.fields["priority_area"].queryset = priority_areas

    def filters(self) -> dict:
        """The valid filters as keyword arguments of selectors.task_list_filtered (the
        parameters' names, as in the API; `leaves` is the API's `is_parent=false`, and
        `sort` and `as_of` are the list's own)."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        area = data.get("priority_area")
        return {
            "q": data.get("q") or "",
            "priority_area": area.pk if area else None,
            "category": data.get("category") or "",
            "due_month": data.get("due_month"),
            "relation": data.get("relation") or "",
            "descending": data.get("sort") == SORT_DUE_DESC,
            "as_of": data.get("as_of"),
            "plan": data.get("plan"),
            "is_parent": False if data.get("leaves") else None,
            "level": data.get("level"),
            "agency": data.get("agency"),
            "lead_agency": data.get("lead_agency"),
            "due_by": bool(data.get("due_by")),
            "overdue_days": data.get("overdue_days") or "",
            "counted": bool(data.get("counted")),
            "needs_reassignment": True if data.get("needs_reassignment") else None,
        }

    def from_dashboard(self) -> bool:
        """Whether the list shows the tasks behind a dashboard number."""
        filters = self.filters()
        keys = ("as_of", "plan", "level", "agency", "lead_agency", "due_by", "overdue_days")
        return filters["is_parent"] is False or any(filters[key] for key in (*keys, "counted"))


# --- Progress report (lead agency) -----------------------------------------------------------

# What the lead agency may set. A completion is reported for the monitoring agency to
# confirm (DESIGN.md: not_started → in_progress → awaiting_confirmation → completed);
# stopping a task is the monitoring agency's decision (task_withdraw).
LEAD_STATE_LABELS = {
    TaskState.NOT_STARTED: pgettext_lazy("task state", "Not started"),
    TaskState.IN_PROGRESS: pgettext_lazy("task state", "In progress"),
    TaskState.AWAITING_CONFIRMATION: _("Completed: send to the monitoring agency for confirmation"),
}


def lead_state_choices(task: Task) -> list[tuple[str, str]]:
    """The states the lead agency may choose from for `task` now (none when the task is
    completed or stopped: only the monitoring agency reopens it)."""
    if task.state in FINISHED_STATES:
        return []
    allowed = ALLOWED_TRANSITIONS[task.state]
    return [(state, label) for state, label in LEAD_STATE_LABELS.items() if state in allowed]


class ProgressForm(StyledFormMixin, forms.Form):
    state = forms.ChoiceField(label=_("State"), widget=forms.RadioSelect)
    progress = forms.IntegerField(
        label=_("Progress (%)"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": 5, "inputmode": "numeric"}),
        help_text=_("A completed task counts as 100%."),
    )
    kpi_actual = forms.DecimalField(
        label=_("KPI achieved"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    completed_on = forms.DateField(
        label=_("Completion date"),
        required=False,
        widget=DateInput(),
        help_text=_("Required when the task is completed."),
    )
    result = forms.CharField(
        label=_("Result"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done. A completion needs a result or an attached file."),
    )
    difficulties = forms.CharField(
        label=_("Difficulties"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    proposals = forms.CharField(
        label=_("Proposals"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = EvidenceField(label=_("Evidence files"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = lead_state_choices(task)
        self.fields["evidence"].help_text = evidence_help_text()
        if task.kpi_unit:
            self.fields["kpi_actual"].help_text = _("Unit: %(unit)s") % {"unit": task.kpi_unit}


class ProgressSheetUploadForm(StyledFormMixin, forms.Form):
    """A filled progress sheet (tasks_app/progress_sheet.py), for one of the agencies the
    user reports for."""

    agency = forms.ModelChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=_("Filled progress sheet (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        agencies = agencies.order_by(vi_order(AGENCY_LABEL), "code")
        self.agencies = list(agencies)  # the page offers a download for each
        self.fields["agency"].queryset = agencies
        if len(self.agencies) == 1:
            self.fields["agency"].widget = forms.HiddenInput()
            self.fields["agency"].initial = self.agencies[0].pk


# --- Contribution (coordinating agency) --------------------------------------------------------


class ContributionForm(StyledFormMixin, forms.Form):
    agency = forms.ModelChoiceField(
        label=_("On behalf of"), queryset=Agency.objects.none(), empty_label=None
    )
    result = forms.CharField(
        label=_("Contribution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What your agency did for this task. Describe it or attach a file."),
    )
    difficulties = forms.CharField(
        label=_("Difficulties"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    proposals = forms.CharField(
        label=_("Proposals"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = EvidenceField(label=_("Evidence files"))

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies.order_by(vi_order(AGENCY_LABEL), "code")
        self.fields["evidence"].help_text = evidence_help_text()
        if len(agencies) == 1:
            self.fields["agency"].widget = forms.HiddenInput()
            self.fields["agency"].initial = agencies[0].pk


# --- Decisions of the monitoring agency ---------------------------------------------------------

DECISION_CONFIRM = "confirm"
DECISION_RETURN = "return"


class ReviewForm(StyledFormMixin, forms.Form):
    """Confirm a reported completion, or return it to the lead agency with a reason."""

    decision = forms.ChoiceField(
        choices=[(DECISION_CONFIRM, DECISION_CONFIRM), (DECISION_RETURN, DECISION_RETURN)],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional when confirming; required when returning the task."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for stopping the task"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example the decision that stopped it. This is kept in the history."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- Deadline extensions ---------------------------------------------------------------------


class ExtensionRequestForm(StyledFormMixin, forms.Form):
    proposed_due = forms.DateField(label=_("Proposed new due date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why the task cannot be finished by the current due date."),
    )

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        if task.due:
            minimum = task.due + datetime.timedelta(days=1)
            self.fields["proposed_due"].widget.attrs["min"] = minimum.isoformat()


DECISION_APPROVE = "approve"
DECISION_REJECT = "reject"


class ExtensionDecisionForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[(DECISION_APPROVE, DECISION_APPROVE), (DECISION_REJECT, DECISION_REJECT)],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional when approving; required when rejecting."),
    )


# --- Accounts ------------------------------------------------------------------------------


class LoginForm(StyledFormMixin, AuthenticationForm):
    """Django's login form with the product's styling."""


class PasswordChangeForm(StyledFormMixin, auth_forms.PasswordChangeForm):
    """Django's password change form with the product's styling."""


# --- Memberships over time (issue 14) ------------------------------------------------------------


class MembershipTransferForm(StyledFormMixin, forms.Form):
    """The monitoring agency's confirmation that staff of a reorganised agency continue in
    its successor: which of them (all by default), and an explicit confirmation."""

    memberships = forms.TypedMultipleChoiceField(
        label=_("Staff to move"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one person to move.")},
    )
    confirm = forms.BooleanField(
        label=_("I confirm that these people now work for the successor."),
        error_messages={"required": _("Tick the confirmation to move these people.")},
    )

    def __init__(self, *args, memberships=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["memberships"]
        field.choices = [(m.pk, str(m.pk)) for m in memberships]
        field.initial = [m.pk for m in memberships]


class ApiTokenForm(StyledFormMixin, forms.Form):
    """A new API token on the "API tokens" page; the rules are in tasks_app/tokens.py."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “LGSP link” or “Excel report script”."),
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        help_text=_("The token stops working after this many days."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS
        # A hint for the browser; the service checks the range.
        self.fields["days"].widget.attrs.update(min=1, max=settings.API_TOKEN_MAX_DAYS)
