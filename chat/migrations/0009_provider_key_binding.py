"""Bind each provider's key to its current base URL's origin, and record changes of where keys go (append-only).

Existing rows are bound to the origin of their stored base URL, so nothing configured breaks; the binding
is recorded as a change by nobody (this migration). Providers whose base URL comes from a setting (the
built-in ones) need no binding: an address from the environment is trusted.
"""

import catalog.models
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION chat_provider_change_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'chat_providerchange is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER chat_providerchange_append_only
    BEFORE UPDATE OR DELETE ON chat_providerchange
    FOR EACH ROW EXECUTE FUNCTION chat_provider_change_is_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS chat_providerchange_append_only ON chat_providerchange;
DROP FUNCTION IF EXISTS chat_provider_change_is_append_only();
"""


def bind_keys_where_they_go_today(apps, schema_editor):
    Provider = apps.get_model("chat", "Provider")
    ProviderChange = apps.get_model("chat", "ProviderChange")
    for provider in Provider.objects.filter(key_bound_origin=""):
        origin = catalog.models.origin_of(provider.base_url)
        if origin:
            Provider.objects.filter(pk=provider.pk).update(key_bound_origin=origin)
            ProviderChange.objects.create(
                provider=provider, changed_by=None, field="key_bound_origin", old_value="", new_value=origin
            )


def forbid_changes_to_the_record(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)


def allow_changes_to_the_record(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0008_server_processes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='provider',
            name='key_bound_origin',
            field=models.CharField(blank=True, editable=False, help_text="The origin (scheme://host:port) an admin confirmed this provider's key may be sent to; a stored base URL elsewhere gets no key. Moved only by catalog.services.", max_length=300, verbose_name='key confirmed for'),
        ),
        migrations.AlterField(
            model_name='provider',
            name='base_url',
            field=models.CharField(blank=True, help_text='e.g. https://openrouter.ai/api/v1 or http://localhost:11434/v1. May be blank when the base URL setting supplies it.', max_length=500, validators=[django.core.validators.RegexValidator('^https?://[^/\\s]+\\S*$', 'Enter an http:// or https:// URL.'), catalog.models.validate_plain_origin], verbose_name='base URL'),
        ),
        migrations.CreateModel(
            name='ProviderChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('field', models.CharField(choices=[('base_url', 'base URL'), ('base_url_setting', 'base URL setting'), ('api_key_setting', 'API key setting'), ('key_bound_origin', 'key confirmed for')], max_length=30)),
                ('old_value', models.CharField(blank=True, max_length=500)),
                ('new_value', models.CharField(blank=True, max_length=500)),
                ('changed_by', models.ForeignKey(blank=True, help_text='Blank: changed by a migration or a script, not a person.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='chat.provider')),
            ],
            options={
                'ordering': ['-changed_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('field__in', ['base_url', 'base_url_setting', 'api_key_setting', 'key_bound_origin'])), name='provider_change_field_known'), models.CheckConstraint(condition=models.Q(('old_value', models.F('new_value')), _negated=True), name='provider_change_changes_something')],
            },
        ),
        migrations.RunPython(bind_keys_where_they_go_today, migrations.RunPython.noop),
        migrations.RunPython(forbid_changes_to_the_record, allow_changes_to_the_record),
    ]
