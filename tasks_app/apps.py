from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks_app"
    verbose_name = _("Plan tasks")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tasks_app.collation import register_on_sqlite

        # SQLite learns the Vietnamese collation on every new connection (collation.py).
        connection_created.connect(register_on_sqlite, dispatch_uid="tasks_app.vi_collation")
