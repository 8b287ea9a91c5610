"""Billing URLs: the wallet pages under /billing/, the JSON endpoints under /api/.

The usage and settings pages and the usage CSV read chat, so they live in chat/billing_pages.py; panels/urls.py
adds them here.
"""

from django.urls import path

from billing import key_views, topup_views, views, webhooks

app_name = "billing"

urlpatterns = [
    path("", views.wallet_page, name="wallet"),
    # API keys
    path("keys/", key_views.api_keys_page, name="api_keys"),
    path("keys/<int:key_id>/", key_views.api_key_page, name="api_key"),
    path("keys/<int:key_id>/revoke/", key_views.revoke_api_key_page, name="revoke_api_key"),
    # Stripe: top-up, Checkout return pages, webhook
    path("topup/", topup_views.topup, name="topup"),
    path("topup/success/", topup_views.topup_success, name="topup_success"),
    path("topup/cancelled/", topup_views.topup_cancelled, name="topup_cancelled"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]

api_urlpatterns = [
    path("wallet", views.api_wallet, name="api_wallet"),
    path("estimate", views.api_estimate, name="api_estimate"),
]
