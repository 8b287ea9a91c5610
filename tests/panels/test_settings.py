"""Settings load from the environment in the embedded mode and in the PostgreSQL + Redis mode."""

import json
import os
import subprocess
import sys

import pytest

from tests import ROOT

# Print the settings that decide the mode, as JSON, from a fresh interpreter.
PROBE = """
import json, django
from django.conf import settings
django.setup()
from panels.celery import app
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_host": settings.DATABASES["default"].get("HOST", ""),
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_config": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_options": settings.CACHES["default"].get("OPTIONS", {}),
    "celery_transport": app.conf.broker_transport_options,
    "celery_result_socket_timeout": app.conf.redis_socket_timeout,
    "celery_eager": app.conf.task_always_eager,
    "celery_broker": app.conf.broker_url,
    "email_backend": settings.EMAIL_BACKEND,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "csrf_trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
    "openai_base_url": settings.OPENAI_BASE_URL,
    "stripe_api_base": settings.STRIPE_API_BASE,
}))
"""


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a new process whose environment holds only `env` (plus PATH)."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "panels.settings", **env}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


def loaded(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_mode_uses_sqlite_in_memory_layer_and_eager_celery():
    values = loaded(DEBUG="true")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_name"] == str(ROOT / "db.sqlite3")
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"].endswith("LocMemCache")
    assert values["celery_eager"] is True
    assert values["email_backend"] == "django.core.mail.backends.console.EmailBackend"
    assert values["openai_base_url"] == "https://api.openai.com/v1"
    assert values["stripe_api_base"] == "https://api.stripe.com"


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    values = loaded(
        SECRET_KEY="s" * 50,
        DATABASE_URL="postgres://panels:pw@db.internal:5433/panels",
        REDIS_URL="redis://cache.internal:6380/2",
        ALLOWED_HOSTS="panels.example.com,www.panels.example.com",
        CSRF_TRUSTED_ORIGINS="https://panels.example.com",
        OPENAI_BASE_URL="http://127.0.0.1:9100/v1",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["db_name"], values["db_host"]) == ("panels", "db.internal")
    # connections come from psycopg's pool, not one per thread (ASGI runs calls on many threads)
    assert values["db_options"]["pool"]["max_size"] == 20 and values["conn_max_age"] == 0
    # the pub/sub layer: groups live in the process and survive a Redis restart, nothing queues in Redis
    assert values["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    (host,) = values["layer_config"]["hosts"]
    assert host["address"] == "redis://cache.internal:6380/2"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    # redis-py 8 would time every socket out after 5 s: each client says how long, and checks idle connections
    for options in (host, values["cache_options"], values["celery_transport"]):
        assert options["socket_timeout"] == 15 and options["health_check_interval"] > 0
        assert options["max_connections"] == 20
    assert values["celery_result_socket_timeout"] == 15
    assert values["celery_eager"] is False
    assert values["celery_broker"] == "redis://cache.internal:6380/2"
    assert values["allowed_hosts"] == ["panels.example.com", "www.panels.example.com"]
    assert values["csrf_trusted_origins"] == ["https://panels.example.com"]
    assert values["openai_base_url"] == "http://127.0.0.1:9100/v1"


def test_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_development_key_is_used_only_with_debug_on():
    assert loaded(DEBUG="1")["secret_key"].startswith("dev-only-")
    assert loaded(SECRET_KEY="k" * 50)["secret_key"] == "k" * 50


@pytest.mark.parametrize("name", ["DEBUG", "SECURE_COOKIES"])
def test_a_malformed_boolean_is_reported_by_name(name):
    result = load_settings(SECRET_KEY="k" * 50, **{name: "maybe"})
    assert result.returncode != 0
    assert f"{name} must be true or false" in result.stderr


def run_deploy_check(**env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )


PRODUCTION = {
    "SECRET_KEY": "Zq4u7nR1xV8kP2mW9tY3bL6cH0fJ5sD8gA1eQ7wE4rT2yU9iO3pK6lM0nB5vC8xZ",
    "ALLOWED_HOSTS": "panels.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://panels.example.com",
}


def test_deploy_check_passes_with_production_settings():
    result = run_deploy_check(**PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_fails_when_debug_is_left_on():
    result = run_deploy_check(**PRODUCTION, DEBUG="true")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment


def test_runserver_is_daphne_s_asgi_server():
    from django.core.management import get_commands

    assert get_commands()["runserver"] == "daphne"


def test_the_redis_pool_size_is_set_from_the_environment():
    values = loaded(SECRET_KEY="k" * 50, REDIS_URL="redis://cache/0", REDIS_POOL_SIZE="7")
    assert values["layer_config"]["hosts"][0]["max_connections"] == 7
    assert values["cache_options"]["max_connections"] == 7


def test_the_database_pool_size_is_set_from_the_environment():
    values = loaded(SECRET_KEY="k" * 50, DATABASE_URL="postgres://p:p@db/panels", DATABASE_POOL_SIZE="7")
    assert values["db_options"]["pool"]["max_size"] == 7
