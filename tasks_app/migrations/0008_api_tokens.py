# Issue 16: API tokens as django-rest-knox digests (tasks_app.ApiToken), replacing DRF's
# authtoken table, which kept every token in plain text.

import datetime
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

OLD_TABLE = "authtoken_token"


def carry_over_plain_tokens(apps, schema_editor):
    """Keep the clients that hold a token of DRF's authtoken working: each old token becomes a
    digest that expires API_TOKEN_DAYS from now, named as such; then the plain-text table is
    dropped, so a copy of the database holds no working token."""
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    api_token = apps.get_model("tasks_app", "ApiToken")
    table = schema_editor.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
    expiry = timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)
    for key, user_id, created in rows:
        token = api_token.objects.create(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=expiry,
            name="API (trước 12/2026)",
        )
        api_token.objects.filter(pk=token.pk).update(created=created)
    schema_editor.execute(f"DROP TABLE {table}")


class Migration(migrations.Migration):

    dependencies = [
        ('tasks_app', '0007_membership_validity'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('digest', models.CharField(max_length=128, primary_key=True, serialize=False)),
                ('token_key', models.CharField(db_index=True, max_length=25)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('expiry', models.DateTimeField(blank=True, null=True)),
                ('uid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='identifier')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='auth_token_set', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'ordering': ['-created'],
            },
        ),
        migrations.RunPython(carry_over_plain_tokens, migrations.RunPython.noop),
    ]
