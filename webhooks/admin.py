"""Admin for webhooks: endpoints (the secret is never shown here) and a read-only log of the
deliveries with their attempts."""

from django.contrib import admin

from webhooks.models import Delivery, DeliveryAttempt, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
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
