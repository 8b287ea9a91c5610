"""Sign-up limits: accounts per hour from one client address and from one network, refused with a reason."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from accounts.rate_limits import retry_after
from tests import ROOT
from tests.factories import forget_signups, sign_up

pytestmark = pytest.mark.django_db

User = get_user_model()
REFUSED = "Too many accounts have been created from your internet connection in the last hour"
ONE_ADDRESS = "198.51.100.7"
NETWORK = [f"203.0.113.{host}" for host in range(1, 22)]  # 21 addresses of one /24
IPV6_NETWORK = [f"2001:db8:5:7::{host:x}" for host in range(1, 7)]  # 6 addresses of one /64
ELSEWHERE = ["198.51.101.7", "203.0.114.1", "2001:db8:5:8::1", "192.0.2.1", "192.0.2.9", "192.0.2.200"]


@pytest.fixture(autouse=True)
def uncounted(settings):
    """Start and end with no accounts counted for the addresses used here, at the default limits."""
    settings.SIGNUPS_PER_HOUR_PER_ADDRESS, settings.SIGNUPS_PER_HOUR_PER_NETWORK = 5, 20
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 21 sign-ups in a test
    addresses = [ONE_ADDRESS, *NETWORK, *IPV6_NETWORK, *ELSEWHERE]
    forget_signups(*addresses)
    yield
    forget_signups(*addresses)


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:12]}@example.com"


def created(response) -> bool:
    return response.status_code == 302


def test_a_sixth_account_from_one_address_within_the_hour_is_refused_and_not_created():
    answers = [created(sign_up(Client(), new_email(), address=ONE_ADDRESS)) for _ in range(5)]
    users_before = User.objects.count()
    email = new_email()

    refused = sign_up(Client(), email, address=ONE_ADDRESS)

    assert answers == [True] * 5
    assert refused.status_code == 200
    assert REFUSED in refused.content.decode()
    assert User.objects.count() == users_before
    assert not User.objects.filter(email=email).exists()
    assert created(sign_up(Client(), new_email(), address=ELSEWHERE[0]))  # another network is not held back


def test_a_network_is_refused_past_twenty_accounts_within_the_hour_whatever_the_address():
    answers = [created(sign_up(Client(), new_email(), address=address)) for address in NETWORK[:20]]

    refused = sign_up(Client(), new_email(), address=NETWORK[20])

    assert answers == [True] * 20
    assert REFUSED in refused.content.decode()
    assert User.objects.count() == 20
    assert created(sign_up(Client(), new_email(), address=ELSEWHERE[1]))


def test_an_ipv6_client_counts_as_its_slash_64():
    answers = [created(sign_up(Client(), new_email(), address=address)) for address in IPV6_NETWORK]

    assert answers == [True] * 5 + [False]
    assert User.objects.count() == 5
    assert created(sign_up(Client(), new_email(), address=ELSEWHERE[2]))


def test_a_sign_up_refused_for_its_own_mistakes_is_not_counted():
    for _ in range(6):
        mistyped = sign_up(Client(), new_email(), address=ONE_ADDRESS, password="123")
        assert "too short" in mistyped.content.decode()

    answers = [created(sign_up(Client(), new_email(), address=ONE_ADDRESS)) for _ in range(5)]

    assert answers == [True] * 5


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = ELSEWHERE[3]

    answers = [
        created(sign_up(Client(), new_email(), address=proxy, HTTP_X_FORWARDED_FOR=client))
        for client in [ELSEWHERE[4]] * 5 + [ELSEWHERE[5]]
    ]
    sixth_from_one_client = sign_up(Client(), new_email(), address=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE[4])

    assert answers == [True] * 6  # not all counted as the proxy's address
    assert REFUSED in sixth_from_one_client.content.decode()


PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps([
    settings.SIGNUPS_PER_HOUR_PER_ADDRESS, settings.SIGNUPS_PER_HOUR_PER_NETWORK, settings.ALLAUTH_TRUSTED_PROXY_COUNT
]))
"""


def limits_with(**env: str) -> list:
    """Return the account limits and trusted proxies the settings read from `env`, in a fresh interpreter."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "panels.settings", "DEBUG": "true", **env}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_limits_come_from_the_environment_and_zero_lifts_one():
    assert limits_with() == [5, 20, 0]
    assert limits_with(SIGNUPS_PER_HOUR_PER_ADDRESS="2", SIGNUPS_PER_HOUR_PER_NETWORK="9")[:2] == [2, 9]
    assert limits_with(BEHIND_TLS_PROXY="true")[2] == 1
    assert limits_with(BEHIND_TLS_PROXY="true", TRUSTED_PROXY_COUNT="2")[2] == 2


def test_no_limit_when_both_are_zero(settings):
    settings.SIGNUPS_PER_HOUR_PER_ADDRESS, settings.SIGNUPS_PER_HOUR_PER_NETWORK = 0, 0

    answers = [created(sign_up(Client(), new_email(), address=ONE_ADDRESS)) for _ in range(7)]

    assert answers == [True] * 7


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: every command fails to connect
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


def test_while_redis_is_away_a_limited_request_goes_through_uncounted(caplog, openai_and_anthropic):
    with override_settings(CACHES=UNREACHABLE_CACHE):
        assert retry_after(action="route", key="address:192.0.2.1", amount=1, seconds=60) is None
        response = Client().post("/api/route", {"prompt": "Summarize this"}, content_type="application/json")
    assert response.status_code == 200  # not a 500: the limit lets it through while it cannot count
    assert "route not counted for address" in caplog.text
    assert "192.0.2.1" not in caplog.text  # the warning names the kind of key, not the person's address
