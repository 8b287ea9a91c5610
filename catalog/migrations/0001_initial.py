"""Providers, AI models and provider changes move here from chat, in Django's state only.

The tables already exist (created by chat's migrations) and keep their names (db_table), so nothing in the
database changes: no table is rewritten and the append-only trigger on chat_providerchange stays.
"""

import catalog.models
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('chat', '0009_provider_key_binding'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Provider',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(unique=True)),
                        ('name', models.CharField(help_text='Shown to people, e.g. “OpenAI”, “Google Gemini”.', max_length=100)),
                        ('wire_format', models.CharField(choices=[('openai', 'OpenAI-compatible (Chat Completions)'), ('anthropic', 'Anthropic Messages')], default='openai', max_length=20)),
                        ('base_url', models.CharField(blank=True, help_text='e.g. https://openrouter.ai/api/v1 or http://localhost:11434/v1. May be blank when the base URL setting supplies it.', max_length=500, validators=[django.core.validators.RegexValidator('^https?://[^/\\s]+\\S*$', 'Enter an http:// or https:// URL.'), catalog.models.validate_plain_origin], verbose_name='base URL')),
                        ('base_url_setting', models.CharField(blank=True, help_text='Optional name of a setting or environment variable (ending in _BASE_URL) that overrides the base URL when it is set.', max_length=100, validators=[django.core.validators.RegexValidator('^[A-Z][A-Z0-9_]*_BASE_URL$', 'Use a name like OPENROUTER_BASE_URL.')], verbose_name='base URL setting')),
                        ('api_key_setting', models.CharField(blank=True, help_text='Name of the setting or environment variable (ending in _API_KEY) that holds the key; the key itself is never stored here. Blank: no key needed (local servers).', max_length=100, validators=[django.core.validators.RegexValidator('^[A-Z][A-Z0-9_]*_API_KEY$', 'Use a name like OPENROUTER_API_KEY.')], verbose_name='API key setting')),
                        ('enabled', models.BooleanField(default=True, help_text='Off: every model of this provider is hidden.')),
                        ('key_bound_origin', models.CharField(blank=True, editable=False, help_text="The origin (scheme://host:port) an admin confirmed this provider's key may be sent to; a stored base URL elsewhere gets no key. Moved only by catalog.services.", max_length=300, verbose_name='key confirmed for')),
                    ],
                    options={
                        'db_table': 'chat_provider',
                        'ordering': ['name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('wire_format__in', ['openai', 'anthropic'])), name='provider_wire_format_known'), models.CheckConstraint(condition=models.Q(models.Q(('base_url', ''), _negated=True), models.Q(('base_url_setting', ''), _negated=True), _connector='OR'), name='provider_has_a_base_url_source'), models.CheckConstraint(condition=models.Q(('base_url', ''), ('base_url__startswith', 'http://'), ('base_url__startswith', 'https://'), _connector='OR'), name='provider_base_url_is_http'), models.CheckConstraint(condition=models.Q(('api_key_setting', ''), ('api_key_setting__regex', '^[A-Z][A-Z0-9_]*_API_KEY$'), _connector='OR'), name='provider_api_key_setting_is_a_name'), models.CheckConstraint(condition=models.Q(('base_url_setting', ''), ('base_url_setting__regex', '^[A-Z][A-Z0-9_]*_BASE_URL$'), _connector='OR'), name='provider_base_url_setting_is_a_name')],
                    },
                ),
                migrations.CreateModel(
                    name='AIModel',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(help_text='Stable: used in URLs and the API.', max_length=64, unique=True)),
                        ('name', models.CharField(help_text='Shown to people, e.g. “GPT-4o mini”.', max_length=100)),
                        ('api_model_id', models.CharField(help_text="The provider's own id, e.g. claude-3-5-haiku-20241022.", max_length=200, verbose_name='API model id')),
                        ('context_window', models.PositiveIntegerField(help_text='Input plus output tokens the model accepts.')),
                        ('max_output_tokens', models.PositiveIntegerField(help_text='The most tokens one reply may use.')),
                        ('supports_vision', models.BooleanField(default=False, verbose_name='vision')),
                        ('supports_json_mode', models.BooleanField(default=False, verbose_name='JSON mode')),
                        ('supports_tools', models.BooleanField(default=False, verbose_name='tools')),
                        ('best_for', models.CharField(blank=True, help_text='One line: what this model is best at.', max_length=200)),
                        ('enabled', models.BooleanField(default=True, help_text='Off: hidden from people; history is kept.')),
                        ('sort_order', models.PositiveIntegerField(default=100, help_text='Lower comes first in the model picker.')),
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='models', to='catalog.provider')),
                    ],
                    options={
                        'verbose_name': 'AI model',
                        'db_table': 'chat_aimodel',
                        'ordering': ['sort_order', 'name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('context_window__gt', 0)), name='aimodel_context_window_positive'), models.CheckConstraint(condition=models.Q(('max_output_tokens__gt', 0)), name='aimodel_max_output_positive'), models.CheckConstraint(condition=models.Q(('max_output_tokens__lte', models.F('context_window'))), name='aimodel_max_output_fits_context'), models.CheckConstraint(condition=models.Q(('api_model_id', ''), _negated=True), name='aimodel_api_model_id_not_blank')],
                    },
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
                        ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='catalog.provider')),
                    ],
                    options={
                        'db_table': 'chat_providerchange',
                        'ordering': ['-changed_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('field__in', ['base_url', 'base_url_setting', 'api_key_setting', 'key_bound_origin'])), name='provider_change_field_known'), models.CheckConstraint(condition=models.Q(('old_value', models.F('new_value')), _negated=True), name='provider_change_changes_something')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
