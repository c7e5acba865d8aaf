"""The collation `vietnamese` (tasks_app.collation.VI_COLLATION) on PostgreSQL, from ICU's
Vietnamese rules. SQLite gets a collation of the same name on every connection
(TasksAppConfig.ready), so `vi_order()` works on both."""

from django.db import migrations

from tasks_app.collation import VI_COLLATION


def create_collation(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE COLLATION IF NOT EXISTS "{VI_COLLATION}" (provider = icu, locale = \'vi-VN\')'
        )


def drop_collation(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP COLLATION IF EXISTS "{VI_COLLATION}"')


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0004_task_state_index"),
    ]

    operations = [
        migrations.RunPython(create_collation, drop_collation),
    ]
