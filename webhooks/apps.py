from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        # tasks_app and reports announce their events with signals and never import this
        # app; the receivers write the deliveries in the sender's transaction (the outbox).
        from webhooks import receivers

        receivers.connect()
