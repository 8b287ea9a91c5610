"""Billing URLs: the wallet pages under /billing/, the JSON endpoints under /api/."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.wallet_page, name="wallet"),
    path("usage.csv", views.usage_csv, name="usage_csv"),
    # Stripe: top-up, Checkout return pages, webhook
]

api_urlpatterns = [
    path("wallet", views.api_wallet, name="api_wallet"),
    path("estimate", views.api_estimate, name="api_estimate"),
]
