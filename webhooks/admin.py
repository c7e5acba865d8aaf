"""Admin for webhooks: endpoints (the secret is never shown here) and a read-only log of the
deliveries with their attempts."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from webhooks.models import Delivery, DeliveryAttempt, Endpoint
from webhooks.urlcheck import url_refusal


class EndpointAdminForm(forms.ModelForm):
    """The admin's form checks the URL as the page and the API do (urlcheck.py)."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Endpoint
        fields = ["name", "url", "agency", "events", "is_active", "owner"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if refusal := url_refusal(url):
            raise forms.ValidationError(refusal)
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["name", "url", "agency", "is_active", "owner", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    raw_id_fields = ["agency", "owner"]
    readonly_fields = ["created_at", "updated_at"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("started_at", "status_code", "error", "duration_ms", "succeeded")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["delivery_id", "event", "endpoint", "subject", "status", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["delivery_id", "subject"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
