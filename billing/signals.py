"""Give every new account its wallet and the signup grant, in the transaction that creates the account."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.services import grant_signup_credits


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="billing.signup_grant")
def give_new_account_its_credits(sender, instance, created, raw=False, **kwargs):
    """Grant the signup credits once, when an account is created (not when fixtures are loaded)."""
    if created and not raw:
        grant_signup_credits(user=instance)
