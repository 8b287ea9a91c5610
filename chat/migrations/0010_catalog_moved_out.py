"""The catalog models leave chat's state (catalog/migrations/0001 takes them); their tables stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


MOVED = ["provider", "aimodel", "providerchange"]


def move_content_types(from_app, to_app):
    """Keep admin permissions and log entries with the moved models: their content types change app label."""

    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.filter(app_label=from_app, model__in=MOVED).update(app_label=to_app)

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_models_point_at_catalog"),
        ("catalog", "0001_initial"),
        ("chat", "0009_provider_key_binding"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="routerule",
                    name="model",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.aimodel"
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="comparison_model",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="If Auto chose: the other candidate whose price the reply is compared with.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="catalog.aimodel",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="model",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.aimodel"
                    ),
                ),
                migrations.RemoveField(
                    model_name="providerchange",
                    name="provider",
                ),
                migrations.RemoveField(
                    model_name="providerchange",
                    name="changed_by",
                ),
                migrations.DeleteModel(
                    name="AIModel",
                ),
                migrations.DeleteModel(
                    name="Provider",
                ),
                migrations.DeleteModel(
                    name="ProviderChange",
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types("chat", "catalog"), move_content_types("catalog", "chat")),
    ]
