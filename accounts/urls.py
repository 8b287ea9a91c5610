"""Accounts URLs of our own under /accounts/, beside allauth's sign-up and log-in pages."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("theme", views.theme, name="theme"),
]
