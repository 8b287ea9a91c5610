"""The OpenAI-compatible API end to end: the official `openai` SDK against a real Daphne, the provider simulator.

A program switches to Panels by changing `base_url` and `api_key`; these tests are such a program, and check
what it and an accountant see: the text, the exact usage, the credits, and the ledger entry naming the key.
"""

import concurrent.futures
import threading

import httpx2
import openai
import pytest
import redis as redis_client

from billing.keys import create_api_key, revoke_api_key
from billing.models import ApiKey, Hold, LedgerEntry, Wallet
from chat.models import ApiCall
from standins.providers import SimulatorThread
from standins.servers import DaphneServer, output_of, provider_environment
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def simulator():
    with SimulatorThread(reply_tokens=40, tokens_per_second=400) as sim:
        yield sim


@pytest.fixture(scope="module")
def api_server(simulator, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = DaphneServer(**provider_environment(simulator), API_REQUESTS_PER_MINUTE="40")
    yield server
    server.stop()


def client_for(server, secret, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0, **options)


def record_for(simulator, text):
    matches = [r for r in simulator.records if r.text_sent == text]
    assert len(matches) == 1, f"{len(matches)} simulator records sent {text!r}"
    return matches[0]


def charge_of(call_id) -> LedgerEntry:
    return LedgerEntry.objects.get(idempotency_key=f"usage:api:{call_id}")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-haiku"])
def test_a_whole_completion_reports_exact_usage_and_is_charged_to_its_key(api_server, simulator, user, model):
    fund(user, 2_000_000)
    new = create_api_key(user=user, name="ticket classifier")
    client = client_for(api_server, new.secret)

    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Classify this ticket."}],
    )

    text = completion.choices[0].message.content
    assert text.startswith("[Simulated reply from ")
    assert completion.model == model
    assert completion.choices[0].finish_reason == "stop"
    record = record_for(simulator, text)
    assert record.messages[0] == ("system", "Be brief.") or record.system == "Be brief."
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (
        record.input_tokens,
        record.output_tokens,
    )
    call = ApiCall.objects.get(public_id=completion.id.removeprefix("chatcmpl-"))
    entry = charge_of(call.pk)
    assert entry.api_key_id == new.key.pk
    assert (entry.input_tokens, entry.output_tokens) == (record.input_tokens, record.output_tokens)
    assert completion.model_extra["panels"]["credits"] == -entry.amount_credits == call.credits > 0
    assert "ticket classifier" in entry.memo
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (2_000_000 + entry.amount_credits, 0)
    key = ApiKey.objects.get(pk=new.key.pk)
    assert (key.spent_credits, key.held_credits, key.spent_today_credits) == (call.credits, 0, call.credits)
    assert key.last_used_at is not None


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-haiku"])
def test_a_stream_with_usage_matches_the_provider_and_the_ledger(api_server, simulator, user, model):
    fund(user, 2_000_000)
    new = create_api_key(user=user, name="bulk summaries")
    client = client_for(api_server, new.secret)

    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Summarise the report."}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("[Simulated reply from ")
    assert {c.model for c in chunks} == {model}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    record = record_for(simulator, text)
    assert (usage_chunk.usage.prompt_tokens, usage_chunk.usage.completion_tokens) == (
        record.input_tokens,
        record.output_tokens,
    )
    call = ApiCall.objects.get(public_id=usage_chunk.id.removeprefix("chatcmpl-"))
    assert call.streamed and call.status == "complete"
    entry = charge_of(call.pk)
    assert usage_chunk.model_extra["panels"]["credits"] == -entry.amount_credits > 0
    assert entry.api_key_id == new.key.pk


def test_auto_routes_and_names_the_model_that_answered(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="auto").secret)

    completion = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Extract the fields as JSON: name Ada, born 1815, city London."}],
    )

    call = ApiCall.objects.get(public_id=completion.id.removeprefix("chatcmpl-"))
    assert completion.model == call.model.slug != "auto"
    assert call.requested_model == "auto" and call.route_task
    route = completion.model_extra["panels"]["route"]
    assert route == {"task": call.route_task, "reason": call.route_reason}


def test_a_bad_or_missing_key_is_a_401_that_never_echoes_the_key(api_server, user):
    with pytest.raises(openai.AuthenticationError) as refused:
        client_for(api_server, "pnl-not-a-real-key-abcdef").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"
    assert "pnl-not-a-real-key-abcdef" not in str(refused.value.body)


def test_a_revoked_key_is_refused_and_charges_nothing(api_server, user):
    fund(user, 2_000_000)
    new = create_api_key(user=user, name="old script")
    revoke_api_key(key=new.key)
    with pytest.raises(openai.AuthenticationError, match="revoked"):
        client_for(api_server, new.secret).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert Wallet.objects.get(user=user).balance_credits == 2_000_000
    assert not ApiCall.objects.filter(api_key=new.key).exists()


def test_an_unknown_model_is_a_404(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.code == "unknown_model" and "gpt-17" in refused.value.message


def test_too_few_credits_is_a_402_saying_how_much_is_needed(api_server, user):
    fund(user, 10)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 402
    assert refused.value.code == "insufficient_credits"
    assert "10 available" in refused.value.message and "needs up to" in refused.value.message
    assert not Hold.objects.filter(wallet__user=user).exists()


def test_an_invalid_request_is_a_400_naming_the_field(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], temperature=7)
    assert "temperature" in refused.value.message
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])


def test_a_key_over_its_request_rate_gets_a_429_with_retry_after(api_server, user):
    fund(user, 2_000_000)
    secret = create_api_key(user=user, name="k").secret
    statuses, waits = [], []
    with httpx2.Client(base_url=f"{api_server.url}/v1", headers={"Authorization": f"Bearer {secret}"}) as http:
        for _ in range(45):  # the server allows 40 a minute
            response = http.post(
                "/chat/completions", json={"model": "gpt-17", "messages": [{"role": "user", "content": "x"}]}
            )
            statuses.append(response.status_code)
            waits.append(response.headers.get("Retry-After"))
    assert statuses[:40] == [404] * 40
    assert set(statuses[40:]) == {429}
    assert all(wait is not None and 1 <= int(wait) <= 60 for wait in waits[40:])


def test_concurrent_calls_never_spend_past_a_key_s_daily_limit(api_server, user):
    fund(user, 50_000_000)
    new = create_api_key(user=user, name="capped", daily_limit_credits=30_000)
    client = client_for(api_server, new.secret)

    def call(_):
        try:
            return client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=2000
            ).model_extra["panels"]["credits"]
        except openai.APIStatusError as error:
            return error.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(24)))

    refused = [r for r in results if r == 402]
    assert refused, "the limit should have refused some calls"
    key = ApiKey.objects.get(pk=new.key.pk)
    charged = sum(e.amount_credits for e in LedgerEntry.objects.filter(api_key=key))
    assert -charged == key.spent_credits <= 30_000
    assert key.held_credits == 0


def test_another_person_s_key_cannot_see_or_spend_this_wallet(api_server, user, django_user_model):
    fund(user, 2_000_000)
    other = django_user_model.objects.create_user(email="eve@example.com", password="correct-horse-battery")
    fund(other, 1_000_000)
    client = client_for(api_server, create_api_key(user=other, name="eve").secret)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert Wallet.objects.get(user=user).balance_credits == 2_000_000
    assert Wallet.objects.get(user=other).balance_credits < 1_000_000


def test_the_model_list_names_prices_and_windows_and_keeps_to_the_key_s_models(api_server, user):
    client = client_for(api_server, create_api_key(user=user, name="k", allowed_models=["gpt-4o-mini"]).secret)
    models = {model.id: model for model in client.models.list()}
    assert set(models) == {"auto", "gpt-4o-mini"}
    mini = models["gpt-4o-mini"].model_extra
    assert mini["context_window"] == 128_000 and mini["pricing"]["input_usd_per_m"]
    with pytest.raises(openai.PermissionDeniedError, match="gpt-4o-mini"):
        client.chat.completions.create(model="claude-3-5-haiku", messages=[{"role": "user", "content": "hi"}])


def test_a_program_that_hangs_up_mid_stream_pays_its_input_and_what_it_was_sent(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "A long story [[sim:tokens=4000]]"}], stream=True
    )
    first = next(iter(stream))
    stream.close()
    call = ApiCall.objects.get(public_id=first.id.removeprefix("chatcmpl-"))
    for _ in range(100):
        call.refresh_from_db()
        if call.status != "streaming":
            break
        threading.Event().wait(0.1)
    assert call.status == "stopped" and call.usage_estimated
    assert 0 < call.output_tokens < 4000 and call.credits > 0
    assert charge_of(call.pk).amount_credits == -call.credits
    assert Wallet.objects.get(user=user).held_credits == 0


def test_no_key_is_ever_written_to_the_server_s_log(api_server, user):
    fund(user, 2_000_000)
    secret = create_api_key(user=user, name="k").secret
    client = client_for(api_server, secret)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    log = output_of(api_server.process)
    assert "/v1/chat/completions" in log  # the access log is there, and it is what would leak
    assert secret not in log and secret[12:] not in log


def test_options_reach_the_provider_under_its_own_names(api_server, simulator, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    options = {"temperature": 0.2, "top_p": 0.9, "stop": ["\n\n"], "max_tokens": 300}
    mini = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Extract the name."}],
        response_format={"type": "json_object"},
        seed=7,
        **options,
    )
    haiku = client.chat.completions.create(
        model="claude-3-5-haiku",
        messages=[{"role": "user", "content": "Extract the name."}],
        response_format={"type": "json_object"},
        **options,
    )
    to_openai = record_for(simulator, mini.choices[0].message.content)
    assert to_openai.options == {
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "seed": 7,
        "response_format": {"type": "json_object"},
    }
    to_anthropic = record_for(simulator, haiku.choices[0].message.content)
    assert to_anthropic.options == {"temperature": 0.2, "top_p": 0.9, "stop_sequences": ["\n\n"]}
    assert "JSON" in to_anthropic.system  # Anthropic has no JSON switch: the instruction asks for it
    held = Hold.objects.get(reference=f"api:{ApiCall.objects.get(public_id=haiku.id[9:]).pk}")
    assert held.max_output_tokens == 300  # the hold covers what was asked for, not the site's default


def test_a_provider_failure_before_any_text_keeps_its_status_and_wait(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    for stream in (False, True):
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "hi [[sim:status=429,retry_after=1]]"}],
                stream=stream,
            )
        assert refused.value.response.headers["Retry-After"] == "1"
    assert Wallet.objects.get(user=user).balance_credits == 2_000_000  # nothing came, nothing charged
    assert set(ApiCall.objects.values_list("status", "error_code")) == {("error", "rate_limited")}


def test_a_failure_mid_stream_is_an_error_event_after_what_came_which_is_charged(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    stream = client.chat.completions.create(
        model="claude-3-5-haiku",
        messages=[{"role": "user", "content": "hi [[sim:error_after=5]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = []
    with pytest.raises(openai.APIError, match=r"(?i)overloaded"):
        for chunk in stream:
            chunks.append(chunk)
    assert "".join(c.choices[0].delta.content for c in chunks if c.choices)
    usage = chunks[-1]
    assert usage.choices == [] and usage.model_extra["panels"]["usage_estimated"] is True
    call = ApiCall.objects.get(public_id=usage.id.removeprefix("chatcmpl-"))
    assert call.status == "error" and call.credits == usage.model_extra["panels"]["credits"] > 0


def test_a_refused_reply_ends_with_content_filter(api_server, user):
    fund(user, 2_000_000)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi [[sim:refuse]]"}]
    )
    assert completion.choices[0].finish_reason == "content_filter"
    assert completion.choices[0].message.content


def test_a_body_over_the_size_limit_is_a_400_that_says_so(api_server, user):
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    with pytest.raises(openai.BadRequestError, match="MB"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x" * 3_000_000}])


def test_a_path_the_api_does_not_have_is_a_json_404(api_server):
    response = httpx2.post(f"{api_server.url}/v1/completions", json={"model": "gpt-4o-mini", "prompt": "hi"})
    assert response.status_code == 404
    assert "POST /v1/completions" in response.json()["error"]["message"]


@pytest.mark.services
def test_with_redis_away_calls_are_still_answered_and_a_key_keeps_to_its_calls_in_flight(simulator, user, redis_server):
    """Redis, where a key's request rate is counted, dies; a program's calls are answered all the same.

    Only the count per minute is lost while it is away: a key is still held to API_MAX_CALLS_IN_FLIGHT, which
    the database counts.
    """
    fund(user, 2_000_000)
    new = create_api_key(user=user, name="nightly batch")
    server = DaphneServer(**provider_environment(simulator), REDIS_URL=redis_server.url, API_MAX_CALLS_IN_FLIGHT="1")
    client = client_for(server, new.secret)
    try:
        redis_server.stop()
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        call = ApiCall.objects.get(public_id=completion.id.removeprefix("chatcmpl-"))
        assert call.status == "complete" and call.api_key_id == new.key.pk
        assert completion.model_extra["panels"]["credits"] == -charge_of(call.pk).amount_credits == call.credits > 0

        slow = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi [[sim:pause_after=1,pause=3]]"}], stream=True
        )
        next(iter(slow))  # answering: the key's one call in flight
        with pytest.raises(openai.RateLimitError, match="calls answering"):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert "".join(chunk.choices[0].delta.content or "" for chunk in slow if chunk.choices)
    finally:
        server.stop()
        redis_server.start()
    key = ApiKey.objects.get(pk=new.key.pk)
    assert key.held_credits == 0 and key.spent_credits == -sum(
        e.amount_credits for e in LedgerEntry.objects.filter(api_key=key)
    )
    assert ApiCall.objects.filter(api_key=key).count() == 2  # the refused call wrote nothing


@pytest.mark.services
def test_counting_a_key_s_requests_reuses_the_process_s_redis_connections(api_server, user, settings):
    # Django keeps a cache client per request context: counting through it opened a connection per API call.
    redis = redis_client.Redis.from_url(settings.REDIS_URL)
    client = client_for(api_server, create_api_key(user=user, name="k").secret)
    client.models.list()  # the server's pools are warm
    before = redis.info("stats")["total_connections_received"]
    for _ in range(20):
        with pytest.raises(openai.NotFoundError):  # counted, then refused: no model, nothing else touches Redis
            client.chat.completions.create(model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    assert redis.info("stats")["total_connections_received"] - before < 5
