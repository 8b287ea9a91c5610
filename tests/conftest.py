"""Shared fixtures: real servers (Daphne, a Celery worker, Redis) started as processes against the test database.

The servers themselves are started by standins/servers.py, which benchmarks use too; test data comes from
tests/factories.py.
"""

import os
import sys

import pytest
from django.conf import settings

from standins.providers import ProviderSimulator
from standins.servers import DaphneServer, RedisServer, server_environment, start_logged, stop


@pytest.fixture(scope="session", autouse=True)
def attachments_in_a_temporary_folder(tmp_path_factory):
    """Keep attached files out of the project folder: here and in every server process the tests start."""
    folder = str(tmp_path_factory.mktemp("media"))
    os.environ["MEDIA_ROOT"] = folder  # server processes inherit the environment (standins/servers.py)
    settings.MEDIA_ROOT = folder
    yield folder


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Prepare the collected tests before pytest-django orders them.

    - Every transactional test restores the migrated data (catalog, settings, packs) afterwards. Mixing
      tests that do with tests that don't breaks both: a plain flush recreates content types under new
      ids, which the serialized copy then collides with.
    - Tests marked `services` are skipped without REDIS_URL, unless CI demands the services (then they fail).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False
            )
    if settings.REDIS_URL or os.environ.get("PANELS_REQUIRE_SERVICES"):
        return
    skip = pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI sets it)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """Serve the app with a real Daphne process for the whole session, on the test database."""
    with django_db_blocker.unblock():
        server = DaphneServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """Run a real Celery worker on Redis, consuming a queue of its own; yield (queue, process)."""
    queue = f"test-{os.getpid()}"
    with django_db_blocker.unblock():
        env = server_environment()
    process = start_logged(
        [sys.executable, "-m", "celery", "-A", "panels", "worker", "--pool=solo", "-Q", queue, "-l", "info"], env
    )
    yield queue, process
    stop(process)


@pytest.fixture
def redis_server():
    """Run a Redis server of this test's own (restartable); needs `redis-server` on the PATH."""
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
async def simulator():
    """Serve both provider wire formats on 127.0.0.1, as fast as possible, with 40-token replies."""
    async with ProviderSimulator(reply_tokens=40) as sim:
        yield sim


@pytest.fixture
def user(django_user_model):
    """Return a person with an account (password: correct-horse-battery)."""
    return django_user_model.objects.create_user(email="ada@example.com", password="correct-horse-battery")


@pytest.fixture
def priced_model(db):
    """Return an AI model priced like gpt-4o-mini ($0.15 / $0.60 per 1M), whether or not the seed ran."""
    from decimal import Decimal

    from billing.models import Price
    from catalog.models import AIModel, Provider

    provider, _ = Provider.objects.get_or_create(
        slug="test-provider",
        defaults={"name": "Test provider", "wire_format": "openai", "base_url": "http://127.0.0.1:9/v1"},
    )
    model, created = AIModel.objects.get_or_create(
        slug="test-mini",
        defaults={
            "name": "Test Mini",
            "provider": provider,
            "api_model_id": "gpt-4o-mini",
            "context_window": 128_000,
            "max_output_tokens": 16_384,
        },
    )
    if created:
        Price.objects.create(model=model, input_usd_per_m=Decimal("0.15"), output_usd_per_m=Decimal("0.60"))
    return model


@pytest.fixture
def openai_and_anthropic(settings):
    """Configure OpenAI and Anthropic (the routing table's two models); leave Gemini and Mistral unconfigured."""
    settings.OPENAI_API_KEY = "sk-test"
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.GEMINI_API_KEY = ""
    settings.MISTRAL_API_KEY = ""
    return settings
