"""A provider's key goes only to the address it was confirmed for; who moved it, and where, is on record.

The provider here is the real simulator; "someone else's host" is a second local server that records the
`Authorization` header of every request it gets. Changes are made through the real admin, as a superuser
and as staff without superuser rights, and then a person starts a turn, which makes the provider call.
"""

import asyncio
import json
import threading
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils.html import escape

from billing.models import Price
from catalog.exceptions import KeyNotConfirmed
from catalog.models import AIModel, Provider, ProviderChange, ProviderChangeIsAppendOnly
from catalog.services import change_provider
from chat.exceptions import ModelUnavailable
from chat.providers.registry import adapter_for, provider_config_for
from chat.services import start_turn
from standins.providers import SimulatorThread
from tests.factories import fund

pytestmark = pytest.mark.django_db

KEY = "sk-simhost-0f9e8d7c6b5a"  # distinctive, so a leak is easy to spot
OTHER_KEY = "sk-openai-1a2b3c4d5e6f"
MOVED = "Simulated's address changed since its key was set; an admin must confirm the key for the new address."


class RecordingHost:
    """Someone else's server: it records the Authorization header of every request and answers 401."""

    def __init__(self):
        self.authorizations: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                host.authorizations.append(self.headers.get("Authorization", ""))
                body = json.dumps({"error": {"message": "who are you?", "type": "invalid_request_error"}}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def simulator():
    with SimulatorThread(reply_tokens=5) as sim:
        yield sim


@pytest.fixture
def elsewhere():
    with RecordingHost() as host:
        yield host


@pytest.fixture
def simulated(simulator, monkeypatch, settings):
    """Return a priced model on a provider that reaches the simulator with the key in SIMHOST_API_KEY."""
    monkeypatch.setenv("SIMHOST_API_KEY", KEY)
    settings.CHAT_MAX_TURNS_IN_FLIGHT = 100
    provider = Provider.objects.create(
        slug="simulated", name="Simulated", base_url=simulator.base_url_openai, api_key_setting="SIMHOST_API_KEY"
    )
    model = AIModel.objects.create(
        slug="sim-model", name="Sim Model", provider=provider, api_model_id="sim-model-1", context_window=8192,
        max_output_tokens=512,
    )  # fmt: skip
    Price.objects.create(model=model, input_usd_per_m=Decimal("1"), output_usd_per_m=Decimal("1"))
    return model


@pytest.fixture
def caller(user):
    fund(user, 10_000_000)
    return user


@pytest.fixture
def staff_client(client, django_user_model):
    """Log in staff who may add, view and change providers but is not a superuser."""
    staff = django_user_model.objects.create_user(email="staff@example.com", password="pw-staff-123", is_staff=True)
    codenames = ["add_provider", "view_provider", "change_provider", "view_providerchange", "change_providerchange"]
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(staff)
    client.staff = staff
    return client


def next_call(user, model, stream) -> object:
    """Start a turn on `model` as `user` would, then make its provider call; return what the call produced."""
    started = start_turn(
        user=user, request_id=str(uuid.uuid4()), conversation_id=None, model_slugs=[model.slug], content="Hello"
    )
    (reply,) = started.replies
    return asyncio.run(stream(adapter_for(reply.call.provider.wire_format), reply.call))


def provider_form(client, provider: Provider) -> dict[str, str]:
    """Return what a browser posts when it saves the provider's admin page without edits."""
    page = client.get(f"/admin/catalog/provider/{provider.pk}/change/")
    assert page.status_code == 200
    data = {}
    for bound in page.context["adminform"].form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = str(value)
    return data


def change_page(client, provider: Provider, **edits: str):
    return client.post(f"/admin/catalog/provider/{provider.pk}/change/", provider_form(client, provider) | edits)


def recorded(provider: Provider) -> list[tuple[str, str, str, str]]:
    return [
        (change.changed_by.email if change.changed_by else "", change.field, change.old_value, change.new_value)
        for change in ProviderChange.objects.filter(provider=provider).order_by("id")
    ]


# --- Base URL changes in the admin -------------------------------------------------------------------


def test_an_unconfirmed_base_url_change_saves_nothing_and_the_key_never_leaves(
    admin_client, simulated, simulator, elsewhere, caller, stream
):
    provider = simulated.provider
    before = recorded(provider)

    response = change_page(admin_client, provider, base_url=elsewhere.base_url)

    assert response.status_code == 200
    assert f"Type SIMHOST_API_KEY again to send this key to {elsewhere.origin}." in response.content.decode()
    provider.refresh_from_db()
    assert (provider.base_url, provider.key_bound_origin) == (simulator.base_url_openai, simulator.simulator.base_url)
    assert recorded(provider) == before
    outcome = next_call(caller, simulated, stream)
    assert outcome.error is None and outcome.usage is not None  # still the simulator
    assert elsewhere.authorizations == []


def test_a_wrong_confirmation_is_refused_like_none(admin_client, simulated, elsewhere):
    provider = simulated.provider

    response = change_page(
        admin_client, provider, base_url=elsewhere.base_url, confirm_api_key_setting="OPENAI_API_KEY"
    )

    assert response.status_code == 200
    assert "Type SIMHOST_API_KEY again" in response.content.decode()
    provider.refresh_from_db()
    assert provider.base_url != elsewhere.base_url


def test_a_confirmed_base_url_change_sends_the_key_there_and_is_recorded(
    admin_client, admin_user, simulated, simulator, elsewhere, caller, stream
):
    provider = simulated.provider

    response = change_page(
        admin_client, provider, base_url=elsewhere.base_url, confirm_api_key_setting="SIMHOST_API_KEY"
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    provider.refresh_from_db()
    assert (provider.base_url, provider.key_bound_origin) == (elsewhere.base_url, elsewhere.origin)
    outcome = next_call(caller, simulated, stream)
    assert outcome.error is not None  # the stand-in refuses every key
    assert elsewhere.authorizations == [f"Bearer {KEY}"]
    assert recorded(provider)[-2:] == [
        (admin_user.email, "base_url", simulator.base_url_openai, elsewhere.base_url),
        (admin_user.email, "key_bound_origin", simulator.simulator.base_url, elsewhere.origin),
    ]
    change = ProviderChange.objects.filter(provider=provider).latest("id")
    assert change.changed_at is not None


def test_a_base_url_change_within_the_same_origin_needs_no_confirmation_but_is_recorded(
    admin_client, admin_user, simulated, simulator, caller, stream
):
    provider = simulated.provider
    new_url = f"{simulator.simulator.base_url}/proxy/v1"

    response = change_page(admin_client, provider, base_url=new_url)

    assert response.status_code == 302, response.context and response.context["errors"]
    provider.refresh_from_db()
    assert (provider.base_url, provider.key_bound_origin) == (new_url, simulator.simulator.base_url)
    assert recorded(provider)[-1] == (admin_user.email, "base_url", simulator.base_url_openai, new_url)
    assert next_call(caller, simulated, stream).error is None


def test_a_base_url_changed_behind_the_admins_back_is_refused_at_call_time(admin_client, simulated, elsewhere, caller):
    Provider.objects.filter(pk=simulated.provider_id).update(base_url=elsewhere.base_url)
    simulated.refresh_from_db()

    with pytest.raises(ModelUnavailable) as raised:
        start_turn(
            user=caller, request_id=str(uuid.uuid4()), conversation_id=None, model_slugs=[simulated.slug],
            content="Hello",
        )  # fmt: skip

    assert raised.value.detail == MOVED
    assert elsewhere.authorizations == []
    assert escape(MOVED) in admin_client.get("/admin/catalog/provider/").content.decode()


def test_changing_which_key_a_provider_sends_needs_that_key_names_confirmation(
    admin_client, admin_user, simulated, simulator, caller, stream, settings
):
    settings.OPENAI_API_KEY = OTHER_KEY
    provider = simulated.provider

    refused = change_page(admin_client, provider, api_key_setting="OPENAI_API_KEY")
    typed_the_old_name = change_page(
        admin_client, provider, api_key_setting="OPENAI_API_KEY", confirm_api_key_setting="SIMHOST_API_KEY"
    )

    for response in (refused, typed_the_old_name):
        assert response.status_code == 200
        assert (
            f"Type OPENAI_API_KEY again to send this key to {simulator.simulator.base_url}."
            in response.content.decode()
        )
    provider.refresh_from_db()
    assert provider.api_key_setting == "SIMHOST_API_KEY"

    confirmed = change_page(
        admin_client, provider, api_key_setting="OPENAI_API_KEY", confirm_api_key_setting="OPENAI_API_KEY"
    )

    assert confirmed.status_code == 302, confirmed.context and confirmed.context["errors"]
    provider.refresh_from_db()
    assert provider.api_key_setting == "OPENAI_API_KEY"
    assert recorded(provider)[-1] == (admin_user.email, "api_key_setting", "SIMHOST_API_KEY", "OPENAI_API_KEY")
    assert next_call(caller, simulated, stream).error is None


def test_pointing_a_keyed_provider_at_another_base_url_setting_needs_confirmation(
    admin_client, admin_user, simulated, elsewhere, monkeypatch, caller, stream
):
    monkeypatch.setenv("ELSEWHERE_BASE_URL", elsewhere.base_url)
    provider = simulated.provider

    refused = change_page(admin_client, provider, base_url_setting="ELSEWHERE_BASE_URL")

    assert refused.status_code == 200
    assert f"Type SIMHOST_API_KEY again to send this key to {elsewhere.origin}." in refused.content.decode()
    provider.refresh_from_db()
    assert provider.base_url_setting == ""
    assert next_call(caller, simulated, stream).error is None
    assert elsewhere.authorizations == []

    confirmed = change_page(
        admin_client, provider, base_url_setting="ELSEWHERE_BASE_URL", confirm_api_key_setting="SIMHOST_API_KEY"
    )

    assert confirmed.status_code == 302, confirmed.context and confirmed.context["errors"]
    assert recorded(provider)[-1] == (admin_user.email, "base_url_setting", "", "ELSEWHERE_BASE_URL")
    next_call(caller, simulated, stream)
    assert elsewhere.authorizations == [f"Bearer {KEY}"]  # the operator's environment is trusted


def test_a_provider_without_a_key_moves_freely(admin_client, elsewhere):
    local = Provider.objects.create(slug="ollama", name="Ollama", base_url="http://localhost:11434/v1")

    response = change_page(admin_client, local, base_url=elsewhere.base_url)

    assert response.status_code == 302, response.context and response.context["errors"]
    local.refresh_from_db()
    assert local.base_url == elsewhere.base_url
    assert [(field, new) for _, field, _, new in recorded(local)] == [("base_url", elsewhere.base_url)]


def test_saving_other_fields_needs_no_confirmation_and_records_nothing(admin_client, simulated):
    provider = simulated.provider
    before = recorded(provider)

    response = change_page(admin_client, provider, name="Simulated (EU)")

    assert response.status_code == 302, response.context and response.context["errors"]
    provider.refresh_from_db()
    assert provider.name == "Simulated (EU)"
    assert recorded(provider) == before


def test_turning_a_provider_off_from_the_list_needs_no_confirmation_and_records_nothing(admin_client, simulated):
    provider = simulated.provider
    before = recorded(provider)
    listing = admin_client.get("/admin/catalog/provider/")
    formset = listing.context["cl"].formset
    data = {bound.html_name: str(bound.value()) for bound in formset.management_form}
    for form in formset.forms:
        data[form["id"].html_name] = str(form.instance.pk)
        if form.instance.enabled and form.instance != provider:
            data[form["enabled"].html_name] = "on"
    data["_save"] = "Save"

    response = admin_client.post("/admin/catalog/provider/", data)

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.enabled is False
    assert Provider.objects.filter(enabled=True).count() == len(formset.forms) - 1
    assert recorded(provider) == before


# --- Adding a provider ---------------------------------------------------------------------------


def provider_to_add(**fields: str) -> dict[str, str]:
    return {"name": "Simulated 2", "slug": "simulated-2", "wire_format": "openai", "base_url_setting": "",
            "enabled": "on"} | fields  # fmt: skip


def test_a_new_provider_binds_its_key_at_creation_and_the_creation_is_recorded(admin_client, admin_user, elsewhere):
    response = admin_client.post(
        "/admin/catalog/provider/add/",
        provider_to_add(base_url=elsewhere.base_url, api_key_setting="SIMTWO_API_KEY"),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    provider = Provider.objects.get(slug="simulated-2")
    assert provider.key_bound_origin == elsewhere.origin
    assert recorded(provider) == [
        (admin_user.email, "base_url", "", elsewhere.base_url),
        (admin_user.email, "api_key_setting", "", "SIMTWO_API_KEY"),
        (admin_user.email, "key_bound_origin", "", elsewhere.origin),
    ]


def test_a_new_provider_that_reuses_another_providers_key_needs_confirmation(
    admin_client, admin_user, elsewhere, settings
):
    settings.OPENAI_API_KEY = OTHER_KEY
    fields = provider_to_add(base_url=elsewhere.base_url, api_key_setting="OPENAI_API_KEY")

    refused = admin_client.post("/admin/catalog/provider/add/", fields)

    assert refused.status_code == 200
    assert f"Type OPENAI_API_KEY again to send this key to {elsewhere.origin}." in refused.content.decode()
    assert not Provider.objects.filter(slug="simulated-2").exists()

    confirmed = admin_client.post(
        "/admin/catalog/provider/add/", fields | {"confirm_api_key_setting": "OPENAI_API_KEY"}
    )

    assert confirmed.status_code == 302, confirmed.context and confirmed.context["errors"]
    assert Provider.objects.get(slug="simulated-2").key_bound_origin == elsewhere.origin


# --- Staff who are not superusers --------------------------------------------------------------------


def test_staff_who_are_not_superusers_cannot_change_where_a_key_goes(
    staff_client, simulated, simulator, elsewhere, caller, stream
):
    provider = simulated.provider
    before = recorded(provider)
    page = staff_client.get(f"/admin/catalog/provider/{provider.pk}/change/")
    form = page.context["adminform"].form
    assert {"base_url", "base_url_setting", "api_key_setting", "confirm_api_key_setting"}.isdisjoint(form.fields)
    assert simulator.base_url_openai in page.content.decode()  # shown, read-only

    data = provider_form(staff_client, provider) | {
        "name": "Renamed by staff",
        "base_url": elsewhere.base_url,
        "base_url_setting": "ELSEWHERE_BASE_URL",
        "api_key_setting": "OPENAI_API_KEY",
        "confirm_api_key_setting": "SIMHOST_API_KEY",
    }
    response = staff_client.post(f"/admin/catalog/provider/{provider.pk}/change/", data)

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Renamed by staff"  # what staff may change, they did
    assert (provider.base_url, provider.base_url_setting, provider.api_key_setting, provider.key_bound_origin) == (
        simulator.base_url_openai,
        "",
        "SIMHOST_API_KEY",
        simulator.simulator.base_url,
    )
    assert recorded(provider) == before
    assert next_call(caller, simulated, stream).error is None
    assert elsewhere.authorizations == []


def test_staff_who_are_not_superusers_cannot_add_providers(staff_client, elsewhere):
    assert staff_client.get("/admin/catalog/provider/add/").status_code == 403
    response = staff_client.post(
        "/admin/catalog/provider/add/", provider_to_add(base_url=elsewhere.base_url, api_key_setting="OPENAI_API_KEY")
    )
    assert response.status_code == 403
    assert not Provider.objects.filter(slug="simulated-2").exists()


# --- The record ----------------------------------------------------------------------------------------


def test_provider_changes_are_shown_and_never_added_changed_or_deleted_in_the_admin(
    admin_client, staff_client, simulated, elsewhere
):
    change_page(
        admin_client, simulated.provider, base_url=elsewhere.base_url, confirm_api_key_setting="SIMHOST_API_KEY"
    )
    change = ProviderChange.objects.filter(provider=simulated.provider).latest("id")

    listing = admin_client.get("/admin/catalog/providerchange/")
    assert listing.status_code == 200
    assert elsewhere.origin in listing.content.decode()
    assert admin_client.get(f"/admin/catalog/providerchange/{change.pk}/change/").status_code == 200  # view only
    for client in (admin_client, staff_client):
        assert client.get("/admin/catalog/providerchange/add/").status_code == 403
        assert client.post(f"/admin/catalog/providerchange/{change.pk}/change/", {"new_value": "x"}).status_code == 403
        assert client.post(f"/admin/catalog/providerchange/{change.pk}/delete/", {"post": "yes"}).status_code == 403
    change.refresh_from_db()
    assert change.new_value == elsewhere.origin


def test_provider_changes_cannot_be_rewritten_or_deleted(admin_user, simulated, elsewhere):
    change_provider(
        provider=simulated.provider, changes={"base_url": elsewhere.base_url}, by=admin_user,
        confirmation="SIMHOST_API_KEY",
    )  # fmt: skip
    change = ProviderChange.objects.filter(provider=simulated.provider).latest("id")
    change.new_value = "https://somewhere.else"
    with pytest.raises(ProviderChangeIsAppendOnly):
        change.save()
    with pytest.raises(ProviderChangeIsAppendOnly):
        change.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_the_database_itself_refuses_to_rewrite_provider_changes(admin_user, simulated, elsewhere):
    change_provider(
        provider=simulated.provider, changes={"base_url": elsewhere.base_url}, by=admin_user,
        confirmation="SIMHOST_API_KEY",
    )  # fmt: skip
    changes = ProviderChange.objects.filter(provider=simulated.provider)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        changes.update(new_value="https://somewhere.else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        changes.delete()


def test_the_service_refuses_an_unconfirmed_key_move_and_writes_nothing(admin_user, simulated, simulator, elsewhere):
    provider = simulated.provider
    before = recorded(provider)

    with pytest.raises(KeyNotConfirmed) as raised:
        change_provider(provider=provider, changes={"base_url": elsewhere.base_url}, by=admin_user)

    assert raised.value.detail == f"Type SIMHOST_API_KEY again to send this key to {elsewhere.origin}."
    provider.refresh_from_db()
    assert (provider.base_url, provider.key_bound_origin) == (simulator.base_url_openai, simulator.simulator.base_url)
    assert recorded(provider) == before


@pytest.mark.django_db(transaction=True)
def test_the_migration_binds_each_existing_key_to_where_it_goes_today(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    before = [("chat", "0008_server_processes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("chat", "Provider").objects.create(
        slug="openrouter", name="OpenRouter", base_url="https://openrouter.ai/api/v1",
        api_key_setting="OPENROUTER_API_KEY",
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    openrouter = Provider.objects.get(slug="openrouter")
    assert openrouter.key_bound_origin == "https://openrouter.ai"
    assert provider_config_for(openrouter).api_key == KEY
    assert recorded(openrouter) == [("", "key_bound_origin", "", "https://openrouter.ai")]
    assert Provider.objects.get(slug="openai").key_bound_origin == ""  # its address comes from the environment
