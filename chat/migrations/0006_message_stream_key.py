"""Give every reply a stream key that is never reused (the Redis log of a reply is named by it)."""

import uuid

from django.db import migrations, models


def give_each_message_a_key(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    for message in Message.objects.only("pk").iterator():
        Message.objects.filter(pk=message.pk).update(stream_key=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("chat", "0005_seed_route_rules")]

    operations = [
        migrations.AddField(
            model_name="message", name="stream_key", field=models.UUIDField(editable=False, null=True)
        ),
        migrations.RunPython(give_each_message_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message",
            name="stream_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
