"""Delete an attachment's stored file whenever its row goes: with its conversation, its account, or alone."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from chat.attachments.services import delete_files
from chat.models import Attachment


@receiver(post_delete, sender=Attachment, dispatch_uid="chat.attachment_file")
def delete_attachment_file(sender, instance, **kwargs):
    """Delete the file once the deletion commits; a cascade (a conversation deleted) sends this per row."""
    if instance.file.name:
        delete_files([instance.file.name])
