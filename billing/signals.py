"""Give every new account its wallet, and the signup grant once the account's email address is verified."""

from allauth.account.signals import email_confirmed
from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from billing.services import grant_signup_credits, wallet_for


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="billing.new_account_wallet")
def give_new_account_its_wallet(sender, instance, created, raw=False, **kwargs):
    """Open an empty wallet in the transaction that creates the account (not when fixtures are loaded)."""
    if created and not raw:
        wallet_for(instance)


@receiver(email_confirmed, dispatch_uid="billing.signup_grant")
def give_verified_account_its_credits(sender, email_address, **kwargs):
    """Grant the signup credits when an address of the account is confirmed (by its owner or an admin)."""
    grant_signup_credits(user=email_address.user)
