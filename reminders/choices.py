"""Enumerations of the reminders app; labels are what users read (translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NoticeKind(models.TextChoices):
    """What a notice is about. The declaration order is the order of the digest e-mail and
    of the notification list: the most urgent first."""

    OVERDUE = "overdue", _("Overdue")
    ESCALATION = "escalation", _("Escalated: long overdue")
    DUE_SOON = "due_soon", _("Due soon")
    STALE = "stale", _("No progress reported recently")


# Digest order: overdue first, then escalations, due soon and stale.
KIND_ORDER = {kind.value: index for index, kind in enumerate(NoticeKind)}


class EmailStatus(models.TextChoices):
    """Where the e-mail copy of a notice stands. Every notice is shown on the web; only
    recipients with an e-mail address get it by mail too."""

    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", pgettext_lazy("e-mail status", "Sent")
    NO_EMAIL = "no_email", _("Web only (no e-mail address)")
