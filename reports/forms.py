"""The dashboard's filters, parsed the same way for the page, the Excel file and the API."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from plan_tracker.widgets import QuickSelect
from reports.selectors import DashboardFilters, dashboard_plans, default_plan
from tasks_app.collation import vi_order
from tasks_app.models import AGENCY_LABEL, AdministrativeLevel, Agency, Plan, PriorityArea
from tasks_app.permissions import agencies_visible_to
from tasks_app.querysets import in_force_on


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as YYYY-MM-DD whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    """As-of date, plan, level, priority area and agency subtree. Every field is optional:
    the date defaults to today (Asia/Ho_Chi_Minh) and the plan to the one in force at that
    date (`default_plan`). The agency list holds only agencies the user may read about, so
    another district's agency is an invalid choice, exactly like one that does not exist.
    The level and agency lists are the map at the as-of date: the levels and agencies in
    force on that day."""

    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.none(),
        required=False,
        empty_label=None,
        widget=QuickSelect,
    )
    level = forms.ModelChoiceField(
        label=_("Level"),
        queryset=AdministrativeLevel.objects.none(),
        required=False,
        empty_label=_("All levels"),
        widget=QuickSelect,
    )
    priority_area = forms.ModelChoiceField(
        label=_("Priority area"),
        queryset=PriorityArea.objects.none(),
        required=False,
        empty_label=_("All priority areas"),
        widget=QuickSelect,
    )
    agency = forms.ModelChoiceField(
        label=_("Agency (with its sub-units)"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("All agencies in my scope"),
        widget=QuickSelect,
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        plans = dashboard_plans()
        self.fields["plan"].queryset = plans
        plan = self._chosen_plan(plans)
        # Shown selected, so that a filter changed on the page keeps the plan on screen.
        self.fields["plan"].initial = plan
        if self.is_bound and plan is not None and not self.data.get("plan"):
            self.data = self.data.copy()
            self.data["plan"] = str(plan.pk)
        self.fields["priority_area"].queryset = (
            PriorityArea.objects.filter(plan=plan).order_by("order", "code")
            if plan
            else PriorityArea.objects.none()
        )
        # The map at D: only the levels and agencies in force on the as-of date are offered
        # (the district level and its agencies end on 30/06/2025); another one is an
        # invalid choice, said with the date.
        day = self._chosen_day()
        self.fields["level"].queryset = AdministrativeLevel.objects.valid_on(day).order_by(
            "order", "code"
        )
        self.fields["agency"].queryset = (
            agencies_visible_to(user)
            .filter(in_force_on(day))
            .order_by(vi_order(AGENCY_LABEL), "code")
        )
        shown = date_format(day, "d/m/Y")
        self.fields["level"].error_messages["invalid_choice"] = _(
            "Choose a level that exists on %(date)s."
        ) % {"date": shown}
        self.fields["agency"].error_messages["invalid_choice"] = _(
            "Choose an agency of your scope that exists on %(date)s."
        ) % {"date": shown}
        self.fields["as_of"].initial = timezone.localdate()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"

    def _chosen_day(self) -> datetime.date:
        """The as-of date asked for, read before validation (the level and agency choices
        depend on it); today when it is missing or invalid, as `clean_as_of` does."""
        value = (self.data or {}).get("as_of")
        if value:
            try:
                day = self.fields["as_of"].to_python(value)
            except forms.ValidationError:
                day = None
            if day is not None:
                return day
        return timezone.localdate()

    def _chosen_plan(self, plans) -> Plan | None:
        value = (self.data or {}).get("plan")
        if value:
            try:
                found = plans.filter(pk=int(value)).first()
            except (TypeError, ValueError):
                found = None
            if found is not None:
                return found
        return default_plan(self._chosen_day())

    def clean_as_of(self) -> datetime.date:
        return self.cleaned_data.get("as_of") or timezone.localdate()

    def clean_plan(self) -> Plan | None:
        return self.cleaned_data.get("plan") or default_plan(self._chosen_day())

    def to_filters(self, *, lenient: bool = True) -> DashboardFilters | None:
        """The filters to compute. `lenient` (the page) drops invalid fields and keeps the
        others; otherwise (the API) the caller reports the errors. None when there is no
        plan at all."""
        if self.is_bound:
            self.is_valid()
            data = dict(self.cleaned_data)
        else:
            data = {}
        if not lenient and self.errors:
            return None
        plan = data.get("plan") or default_plan(data.get("as_of"))
        if plan is None:
            return None
        area = data.get("priority_area")
        return DashboardFilters(
            plan=plan,
            as_of=data.get("as_of") or timezone.localdate(),
            level=data.get("level"),
            priority_area=area if area is not None and area.plan_id == plan.pk else None,
            agency=data.get("agency"),
        )
