"""Top-up pages: start Stripe Checkout for credits, and the pages Checkout sends the person back to."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing import stripe_gateway
from billing.checkout import fulfil_checkout
from billing.exceptions import InvalidTopUp, PaymentProviderError, PaymentsNotConfigured
from billing.models import CreditPack, TopUp
from billing.selectors import wallet_of
from billing.services import create_topup, fail_topup, record_checkout_session

AMOUNT_HINT = "Enter an amount in dollars and cents, like 12.50."


class AmountField(forms.DecimalField):
    """A dollar amount as people type it: "12.50", "$12.50" or "1,000"; the bounds are the service's."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removeprefix("$").replace(",", "")
        return super().to_python(value)


class TopUpForm(forms.Form):
    """A credit pack or a custom amount; which one, and the amount's bounds, are checked by `create_topup`."""

    amount_usd = AmountField(required=False, error_messages={"invalid": AMOUNT_HINT})
    pack = forms.ModelChoiceField(
        queryset=CreditPack.objects.all(),
        required=False,
        error_messages={"invalid_choice": "That credit pack is not offered."},
    )


@login_required
@require_POST
def topup(request):
    """Record the top-up, open a Checkout Session for it, and send the person to Stripe's payment page."""
    form = TopUpForm(request.POST)
    if not form.is_valid():
        message = next(iter(form.errors.values()))[0]
        return render(request, "billing/topup_error.html", {"message": message}, status=400)
    try:
        topup = create_topup(
            user=request.user, amount_usd=form.cleaned_data["amount_usd"], pack=form.cleaned_data["pack"]
        )
    except InvalidTopUp as error:
        return render(request, "billing/topup_error.html", {"message": error.detail}, status=400)
    success_url = request.build_absolute_uri(reverse("billing:topup_success")) + "?session_id={CHECKOUT_SESSION_ID}"
    cancel_url = request.build_absolute_uri(reverse("billing:topup_cancelled"))
    try:
        session = stripe_gateway.create_checkout_session(topup=topup, success_url=success_url, cancel_url=cancel_url)
    except PaymentProviderError as error:
        fail_topup(topup=topup, status=TopUp.Status.FAILED)
        status = 503 if isinstance(error, PaymentsNotConfigured) else 502
        return render(request, "billing/topup_error.html", {"message": error.detail}, status=status)
    record_checkout_session(topup=topup, checkout_session_id=session.id)
    return HttpResponseRedirect(session.url, status=303)


@login_required
@require_GET
def topup_success(request):
    """Show the outcome of a payment, crediting it now if Stripe says it is paid and the webhook is late."""
    topup = get_object_or_404(TopUp, checkout_session_id=request.GET.get("session_id", ""), wallet__user=request.user)
    if topup.status not in (TopUp.Status.PAID, TopUp.Status.FAILED, TopUp.Status.EXPIRED):
        try:
            session = stripe_gateway.retrieve_checkout_session(topup.checkout_session_id)
        except PaymentProviderError:
            pass  # the webhook will credit it; meanwhile the page says the payment is processing
        else:
            fulfil_checkout(topup=topup, session=session)
            topup.refresh_from_db()
    return render(request, "billing/topup_success.html", {"topup": topup, "wallet": wallet_of(request.user)})


@login_required
@require_GET
def topup_cancelled(request):
    """Confirm that leaving Checkout took no money."""
    return render(request, "billing/topup_cancelled.html")
