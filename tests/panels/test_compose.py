"""docker-compose.yml agrees with the app: real modules in every command, only variables the settings read.

No Docker engine runs here, so the file is checked as data against the code it starts.
"""

import importlib
import json
import re
from urllib.parse import urlparse

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

from chat.protocol import MAX_FRAME_BYTES
from panels.environment import NAMES
from panels.serve import daphne_arguments
from tests import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]
LONG_RUNNING = ["postgres", "redis", "web", "worker", "beat"]


def default_of(value: str) -> str:
    """Return the value compose would use when the variable is unset: `${X:-d}` -> `d`."""
    match = re.fullmatch(r"\$\{[A-Z_]+:-(.*)\}", value)
    return match.group(1) if match else value


def test_the_stack_has_the_production_services():
    assert {*LONG_RUNNING, "migrate"} <= set(SERVICES)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_variables_the_settings_read(name):
    environment = SERVICES[name]["environment"]
    assert set(environment) <= set(NAMES), set(environment) - set(NAMES)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= set(environment)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_the_stack_s_postgres_and_redis(name):
    environment = SERVICES[name]["environment"]
    database = urlparse(environment["DATABASE_URL"])
    postgres = SERVICES["postgres"]["environment"]
    assert database.hostname == "postgres" and SERVICES["postgres"]["image"].startswith("postgres:")
    assert (database.username, database.password, database.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert urlparse(environment["REDIS_URL"]).hostname == "redis"
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_web_runs_daphne_on_the_asgi_application_with_the_project_s_options():
    command = SERVICES["web"]["command"]
    assert command[:3] == ["python", "-m", "panels.serve"]
    assert command == json.loads(re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text(), re.M).group(1))
    arguments = daphne_arguments(command[3:])
    # a reconnect storm must not turn valid handshakes into 403s after Daphne's default 5 s
    assert arguments[arguments.index("--websocket_connect_timeout") + 1] == "30"
    # Daphne reads more than the protocol allows, so the consumer can answer an oversized frame itself
    assert int(arguments[arguments.index("--websocket-max-message-size") + 1]) > MAX_FRAME_BYTES
    module_name, attribute = arguments[-1].split(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application)
    assert "-p" in command and SERVICES["web"]["ports"] == [f"{command[command.index('-p') + 1]}:8000"]


@pytest.mark.parametrize(("name", "role"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_start_the_project_s_celery_app(name, role):
    command = SERVICES[name]["command"]
    assert command[:2] == ["celery", "-A"] and command[3] == role
    assert isinstance(importlib.import_module(command[2]).celery_app, Celery)


def test_migrate_runs_a_real_management_command_before_the_app_starts():
    command = SERVICES["migrate"]["command"]
    assert command[:2] == ["python", "manage.py"] and command[2] in get_commands()
    for name in ["web", "worker", "beat"]:
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
    assert SERVICES[name]["healthcheck"]["test"]


def test_the_web_healthcheck_probes_a_real_url(client, db):
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = urlparse(re.search(r"http://[^'\"]+", probe).group(0)).path
    assert client.get(path).json() == {"status": "ok", "database": True}


def test_production_defaults_keep_debug_off_and_tls_on():
    environment = SERVICES["web"]["environment"]
    assert default_of(environment["DEBUG"]) == "false"
    assert default_of(environment["SECURE_SSL_REDIRECT"]) == "true"
    assert "?" in environment["SECRET_KEY"]  # compose refuses to start without a real key


def test_the_image_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
