"""Price and Hold point at catalog.AIModel: the same table (chat_aimodel), so only Django's state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_signup_grant_on_verified_email"),
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="hold",
                    name="model",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.aimodel"
                    ),
                ),
                migrations.AlterField(
                    model_name="price",
                    name="model",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="prices", to="catalog.aimodel"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
