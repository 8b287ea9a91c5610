"""Accounts: sign up, log in with email and password, log out, reset a password, create an admin."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct-horse-battery"


def logged_in_email(client) -> str | None:
    """Return the email of the user the client's session belongs to, if any."""
    user = client.get("/").wsgi_request.user
    return user.email if user.is_authenticated else None


def test_sign_up_creates_the_account_and_logs_in(client):
    response = client.post(
        "/accounts/signup/", {"email": "Grace@Example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get().email == "grace@example.com"
    assert logged_in_email(client) == "grace@example.com"


def test_sign_up_with_a_taken_email_is_refused_with_a_reason(client, user):
    response = client.post(
        "/accounts/signup/", {"email": "ADA@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert User.objects.count() == 1


def test_sign_up_with_a_weak_password_is_refused(client):
    response = client.post("/accounts/signup/", {"email": "bob@example.com", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.exists()


def test_log_in_with_email_and_password_then_log_out(client, user):
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_email(client) == "ada@example.com"
    client.post("/accounts/logout/")
    assert logged_in_email(client) is None


def test_a_wrong_password_does_not_log_in(client, user):
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": "wrong-password"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert logged_in_email(client) is None


def test_password_reset_mails_a_link_that_sets_a_new_password(client, user):
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # allauth moves the key into the session, then shows the form
    response = client.post(form_url, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_emails_are_unique_regardless_of_case():
    User.objects.create_user(email="Lin@Example.com", password=PASSWORD)
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="LIN@example.COM")])


def test_createsuperuser_runs_without_prompts_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an-admin-passphrase")
    call_command("createsuperuser", "--noinput")
    admin = User.objects.get(email="root@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("an-admin-passphrase")
