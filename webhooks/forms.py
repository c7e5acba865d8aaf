"""The form of the webhook pages (webhooks/views.py): it parses input only; the services hold
the rules (the URL check among them), and their errors are shown beside the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks_app.forms import StyledFormMixin
from tasks_app.forms_plans import AgencyField, _set_agency_choices
from webhooks.models import WebhookEvent


class EndpointForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("e.g. LGSP of the province")
    )
    url = forms.CharField(
        label=_("Receiving URL"),
        max_length=500,
        help_text=_("http:// or https://, at a public address; events are POSTed to it."),
    )
    agency = AgencyField(
        label=_("Agency scope"),
        required=False,
        empty_label=_("(the whole province)"),
        help_text=_("The tasks of this agency and its units; empty: the whole province."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _set_agency_choices(self, ["agency"])
