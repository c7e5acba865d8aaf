"""Webhooks (issue 17): endpoints that the province's integration platform (LGSP) or another
system registers, and the deliveries of events to them.

- An Endpoint belongs to the person who registered it (an administrator or a monitor) and
  has an agency scope: it receives the events of the tasks that its owner may see
  (`tasks_visible_to`) and whose lead or coordinating agency lies in the scope's subtree
  (no agency: the whole province).
- A Delivery is one event for one endpoint, written in the transaction of the change (an
  outbox): it exists if and only if the change was committed. Its JSON body is fixed when
  written and signed at each attempt with the endpoint's secret.
- A DeliveryAttempt records each try: the HTTP status or the error, and the response time.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tasks_app.models import Agency


class WebhookEvent(models.TextChoices):
    """The events an endpoint may subscribe to (the `event` of a delivery's body)."""

    TASK_CREATED = "task.created", _("Task created")
    TASK_CHANGED = "task.changed", _("Task changed")
    TASK_REASSIGNED = "task.reassigned", _("Task reassigned")
    STATUS_UPDATED = "task.status_updated", _("Status update recorded")
    EXTENSION_REQUESTED = "extension.requested", _("Extension requested")
    EXTENSION_DECIDED = "extension.decided", _("Extension decided")
    REPORT_ISSUED = "report.issued", _("Monthly report issued")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook delivery", "Waiting to be sent")
    SENDING = "sending", pgettext_lazy("webhook delivery", "Being sent")
    DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe text (43 characters)."""
    return secrets.token_urlsafe(32)


class Endpoint(models.Model):
    """A URL that receives the events of the tasks in its scope, signed with its secret."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The tasks of this agency and its units; empty: the whole province."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("The events sent to this endpoint; empty: every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def event_labels(self) -> list[str]:
        """The subscribed events by name, in the reader's language (none: every event)."""
        return [str(WebhookEvent(e).label) for e in self.events if e in WebhookEvent.values]

    def wants(self, event: str) -> bool:
        """Whether the endpoint subscribed to `event` (no list: every event)."""
        return not self.events or event in self.events


class Delivery(models.Model):
    """One event for one endpoint, with its body as sent. `status` moves pending → sending
    (claimed by one worker, `claimed_at`) → delivered, or back to pending with the time of
    the next try (`next_attempt_at`), or failed after WEBHOOK_MAX_ATTEMPTS tries of the
    cycle. Redelivering starts a new cycle of tries (`attempts_in_cycle` back to 0)."""

    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True)
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts_in_cycle = models.PositiveIntegerField(_("attempts in this cycle"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, the HTTP status (none when no answer came), the error,
    and how long the receiver took to answer."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempts"
    )
    started_at = models.DateTimeField(_("started at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("response time (ms)"), default=0)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery} @ {self.started_at:%Y-%m-%d %H:%M:%S}"
