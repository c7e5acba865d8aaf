from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from reports.trend_store import drop_snapshots_from
        from tasks_app.signals import past_status_recorded

        past_status_recorded.connect(drop_snapshots_from, dispatch_uid="reports.trend_store")
