"""Auto: the signals it reads, the rules it applies to the routing table, and POST /api/route."""

import json
import time

import pytest
from django.test import Client

from accounts import rate_limits
from billing.models import BillingSettings
from billing.pricing import cost_of
from billing.rates import rate_for
from catalog.models import AIModel
from chat.auto import choose_model
from chat.exceptions import ContextTooLong, ModelUnavailable, UnknownModel
from chat.models import RouteRule
from chat.router.classify import Task, classify
from chat.router.features import count_directives, extract, request_of
from chat.router.table import ROUTES, Candidate, choose
from chat.tokens import estimate_message_tokens

CODE_PROMPT = """Can you review this function? I think there's a bug.

```python
def last_n(items, n):
    return items[len(items) - n - 1:]
```"""
QUESTION = "what's the difference between a latte and a flat white"
CONTRACT = "\n\n".join(
    f"{number}. NOTICES. Notices under this Agreement must be in writing and sent by email to the address in the "
    f"Order Form, with a copy by courier for any notice of breach, termination or renewal (clause {number})."
    for number in range(1, 40)
)


@pytest.fixture(autouse=True)
def provider_keys(settings):
    """Configure OpenAI and Anthropic (the table's two models); leave Gemini and Mistral unconfigured."""
    settings.OPENAI_API_KEY = "sk-test"
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.GEMINI_API_KEY = ""
    settings.MISTRAL_API_KEY = ""


def credits_on(slug: str, prompt: str, task: Task) -> int:
    """Return what the router estimates one reply to `prompt` costs on the model `slug`."""
    model = AIModel.objects.get(slug=slug)
    output = min(ROUTES[task].reply_tokens, model.max_output_tokens)
    rate = rate_for(model.current_price(), BillingSettings.load())
    return cost_of(input_tokens=estimate_message_tokens([prompt]), output_tokens=output, rate=rate).credits


# --- Signals -------------------------------------------------------------------------------------------


def test_a_fenced_code_block_counts_as_code_but_a_json_schema_fence_does_not():
    schema = 'Return an object matching this schema:\n\n```json\n{\n  "type": "object",\n  "required": ["id"]\n}\n```'

    code, data = extract(CODE_PROMPT), extract(schema)

    assert (code.code_fences, data.code_fences) == (1, 0)
    assert code.code_lines >= 2
    assert data.code_lines == 0


def test_words_of_a_pasted_document_are_not_read_as_the_request():
    prompt = f"How many days' notice do we need to give before renewal?\n\n{CONTRACT}"

    request = request_of(prompt)

    assert "renewal?" in request
    assert "courier" not in request.split("\n\n")[0]
    assert extract(prompt).words("email") == ()  # the contract says "email"; the person did not ask for one


def test_labelled_candidates_are_data_but_numbered_steps_are_instructions():
    candidates = "Rank the answers.\nAnswer A: Use git revert.\nAnswer B: Delete the folder.\nAnswer C: Use reset."
    steps = "Take the list and: 1) remove duplicates, 2) sort by last name, 3) group by company, 4) flag gaps."

    assert count_directives(candidates) == 1
    assert count_directives(steps) == 5


def test_each_item_of_a_requirement_list_is_an_instruction():
    prompt = "Create a lesson plan. Include a warm-up, one hands-on activity, an exit ticket, and a quiz."

    assert count_directives(prompt) == 5  # "create", then the four things to include


def test_a_quoted_customer_message_is_material_not_the_ask():
    prompt = 'Which queue should this go to?\n\nTicket:\n"Please draft a reply and include the invoice, then email me."'

    assert request_of(prompt) == "Which queue should this go to?"


# --- The classifier ------------------------------------------------------------------------------------


def test_the_reason_names_the_signals_that_decided():
    decided = classify(CODE_PROMPT)

    assert decided.task == Task.CODE_REVIEW
    assert decided.reason.startswith("a fenced code block")
    assert "'review'" in decided.reason
    assert "'bug'" in decided.reason


@pytest.mark.parametrize(
    ("prompt", "task", "signal"),
    [
        (f"According to the agreement, how much notice is needed?\n\n{CONTRACT}", Task.LONG_DOCUMENT_QA, "document"),
        ("Write 5 Instagram captions for our new matcha latte, include #matcha.", Task.SOCIAL_CAPTION, "instagram"),
        ("Extract invoice_number, total and due_date as JSON.", Task.JSON_EXTRACTION, "field name"),
        ("Classify the intent: billing, refund or other. 'I was charged twice'", Task.SUPPORT_INTENT, "classify"),
        (QUESTION, Task.GENERAL_CHAT, "no code, document, list or format request"),
    ],
)
def test_each_task_is_recognised_by_its_own_signals(prompt, task, signal):
    decided = classify(prompt)

    assert decided.task == task
    assert signal in decided.reason


def test_a_lone_word_of_a_task_does_not_make_a_question_that_task():
    assert classify("what's a good email app for mac that isn't outlook").task == Task.GENERAL_CHAT


# --- The rules -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_code_goes_to_claude_3_5_haiku_and_a_plain_question_to_gpt_4o_mini():
    code, question = choose_model(prompt=CODE_PROMPT), choose_model(prompt=QUESTION)

    assert (code.task, code.model.slug) == (Task.CODE_REVIEW, "claude-3-5-haiku")
    assert code.reason.startswith("Code review and explanation: a fenced code block")
    assert code.reason.endswith("Claude 3.5 Haiku: nuanced reasoning about code.")
    assert (question.task, question.model.slug) == (Task.GENERAL_CHAT, "gpt-4o-mini")
    assert question.estimated_credits == credits_on("gpt-4o-mini", QUESTION, Task.GENERAL_CHAT)


@pytest.mark.django_db
def test_the_migration_seeds_every_task_of_the_table():
    rules = dict(RouteRule.objects.values_list("task", "model__slug"))

    assert rules == {route.task.value: route.model for route in ROUTES.values()}


@pytest.mark.django_db
def test_an_admin_rule_sends_a_task_to_another_model_with_its_reason():
    RouteRule.objects.filter(task=Task.CODE_REVIEW).update(
        model=AIModel.objects.get(slug="gpt-4.1-mini"), reason="exact instruction following"
    )

    choice = choose_model(prompt=CODE_PROMPT)

    assert choice.model.slug == "gpt-4.1-mini"
    assert choice.reason.endswith("GPT-4.1 mini: exact instruction following.")


@pytest.mark.django_db
def test_a_disabled_rule_leaves_the_task_on_its_built_in_default():
    RouteRule.objects.filter(task=Task.CODE_REVIEW).update(model=AIModel.objects.get(slug="gpt-4o"), enabled=False)

    assert choose_model(prompt=CODE_PROMPT).model.slug == "claude-3-5-haiku"


@pytest.mark.django_db
def test_a_prompt_with_history_larger_than_a_window_never_goes_to_that_model():
    choice = choose_model(prompt=QUESTION, history_tokens=150_000)

    assert choice.model.slug == "claude-3-5-haiku"  # 200K window; gpt-4o-mini has 128K
    assert "GPT-4o mini does not fit: about 150,0" in choice.reason
    assert "128,000-token window, so Claude 3.5 Haiku, next in line" in choice.reason
    assert all(alternative.model.context_window > 150_000 for alternative in choice.alternatives)


@pytest.mark.django_db
def test_a_prompt_that_fits_no_window_is_refused_with_the_largest_window():
    with pytest.raises(ContextTooLong) as refused:
        choose_model(prompt=QUESTION, history_tokens=2_000_000)

    assert refused.value.detail.startswith("The prompt and its history (about 2,000,0")
    assert refused.value.detail.endswith("the largest window is 1,048,576 tokens.")


@pytest.mark.django_db
def test_an_unconfigured_provider_falls_back_to_the_next_suitable_model(settings):
    settings.ANTHROPIC_API_KEY = ""

    choice = choose_model(prompt=CODE_PROMPT)

    assert choice.model.slug == "gpt-4.1-mini"
    assert choice.reason.endswith("Claude 3.5 Haiku is unavailable, so GPT-4.1 mini, next in line.")
    assert "claude" not in " ".join(alternative.model.slug for alternative in choice.alternatives)


@pytest.mark.django_db
def test_a_turned_off_model_falls_back_to_the_next_suitable_model():
    AIModel.objects.filter(slug="gpt-4o-mini").update(enabled=False)

    choice = choose_model(prompt=QUESTION)

    assert choice.model.slug == "claude-3-5-haiku"  # Gemini and Mistral, before it in line, have no keys
    assert choice.reason.endswith("GPT-4o mini is unavailable, so Claude 3.5 Haiku, next in line.")


@pytest.mark.django_db
def test_the_price_ceiling_passes_over_models_that_would_cost_more():
    haiku = credits_on("claude-3-5-haiku", CODE_PROMPT, Task.CODE_REVIEW)

    choice = choose_model(prompt=CODE_PROMPT, ceiling_credits=haiku - 1)

    assert choice.model.slug == "gpt-4.1-mini"
    assert choice.estimated_credits < haiku
    assert f"would cost about {haiku:,} credits, over the ceiling of {haiku - 1:,}" in choice.reason
    assert all(alternative.estimated_credits < haiku for alternative in choice.alternatives)


@pytest.mark.django_db
def test_a_ceiling_below_every_model_is_refused():
    with pytest.raises(ModelUnavailable) as refused:
        choose_model(prompt=CODE_PROMPT, ceiling_credits=1)

    assert refused.value.detail == "No available model can answer within the ceiling of 1 credit."


@pytest.mark.django_db
def test_restricted_candidates_choose_only_among_them():
    choice = choose_model(prompt=CODE_PROMPT, candidates=["gpt-4o-mini", "gpt-4o"])

    assert choice.model.slug == "gpt-4o-mini"  # last of code review's named line, before the rest by price
    assert choice.reason.endswith("GPT-4o mini, the first of the allowed models in line for this task.")
    assert [alternative.model.slug for alternative in choice.alternatives] == ["gpt-4o"]


@pytest.mark.django_db
def test_an_unknown_candidate_is_named():
    with pytest.raises(UnknownModel) as refused:
        choose_model(prompt=QUESTION, candidates=["gpt-4o-mini", "gpt-9", "auto"])

    assert refused.value.detail == "Unknown model: auto, gpt-9."


@pytest.mark.django_db
def test_alternatives_are_the_next_qualified_models_in_line_with_their_cost():
    choice = choose_model(prompt=CODE_PROMPT)

    assert [alternative.model.slug for alternative in choice.alternatives] == [
        "gpt-4.1-mini",
        "claude-haiku-4-5",
        "gpt-4o-mini",
    ]
    assert choice.alternatives[0].estimated_credits == credits_on("gpt-4.1-mini", CODE_PROMPT, Task.CODE_REVIEW)


@pytest.mark.django_db
def test_a_long_reason_is_cut_to_fit_the_message_column():
    prompt = "Review this code for bugs:\n```\n" + "\n".join(f"x{n} = f(y{n})" for n in range(50)) + "\n```"
    RouteRule.objects.filter(task=Task.CODE_REVIEW).update(reason="because " * 24)

    reason = choose_model(prompt=prompt).reason

    assert len(reason) == 300
    assert reason.endswith("…")


# --- The router alone: hand-made candidates, rules and prices; no database (these tests have no db mark) -----

CREDITS_PER_TOKEN = {"gpt-4o-mini": 1, "claude-3-5-haiku": 5}


def candidate(slug: str, name: str, *, context_window: int) -> Candidate:
    return Candidate(
        slug=slug,
        name=name,
        context_window=context_window,
        max_output_tokens=8_192,
        reply_budget=4_096,
        offered=True,
        available=True,
    )


def per_token(slug: str, *, input_tokens: int, output_tokens: int) -> int:
    return CREDITS_PER_TOKEN[slug] * (input_tokens + output_tokens)


CATALOG = [
    candidate("gpt-4o-mini", "Small", context_window=8_000),
    candidate("claude-3-5-haiku", "Large", context_window=200_000),
]


def test_the_router_alone_passes_over_a_candidate_whose_window_is_too_small_and_names_it():
    choice = choose(prompt=QUESTION, history_tokens=5_000, catalog=CATALOG, rules={}, estimate=per_token)

    input_tokens = estimate_message_tokens([QUESTION]) + 5_000  # and 4,096 for the reply: over Small's 8,000
    assert (choice.task, choice.model.slug) == (Task.GENERAL_CHAT, "claude-3-5-haiku")
    assert choice.reason == (
        f"General chat: {classify(QUESTION).reason}. Small does not fit: about {input_tokens:,} tokens against a "
        "8,000-token window, so Large, next in line."
    )
    assert choice.estimated_credits == 5 * (input_tokens + ROUTES[Task.GENERAL_CHAT].reply_tokens)
    assert (choice.alternatives, choice.comparison) == ((), None)  # Small could not have answered


def test_the_router_alone_follows_the_admin_s_rule_and_compares_with_the_other_candidate():
    rules = {Task.GENERAL_CHAT.value: ("claude-3-5-haiku", "the house style")}

    choice = choose(prompt=QUESTION, catalog=CATALOG, rules=rules, estimate=per_token)

    tokens = estimate_message_tokens([QUESTION]) + ROUTES[Task.GENERAL_CHAT].reply_tokens
    assert (choice.model.slug, choice.estimated_credits) == ("claude-3-5-haiku", 5 * tokens)
    assert choice.reason.endswith("Large: the house style.")
    assert [(alternative.model.slug, alternative.estimated_credits) for alternative in choice.alternatives] == [
        ("gpt-4o-mini", tokens)
    ]
    assert choice.comparison.slug == "gpt-4o-mini"


# --- POST /api/route -------------------------------------------------------------------------------------


def post_route(client: Client, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post("/api/route", raw, content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_the_endpoint_answers_anyone_without_a_csrf_token():
    status, answer = post_route(Client(enforce_csrf_checks=True), {"prompt": CODE_PROMPT})

    assert status == 200
    assert answer == {
        "task": "code_review",
        "task_label": "Code review and explanation",
        "model": "claude-3-5-haiku",
        "reason": choose_model(prompt=CODE_PROMPT).reason,
        "estimated_credits": credits_on("claude-3-5-haiku", CODE_PROMPT, Task.CODE_REVIEW),
        "alternatives": [
            {"model": "gpt-4.1-mini", "estimated_credits": credits_on("gpt-4.1-mini", CODE_PROMPT, Task.CODE_REVIEW)},
            {
                "model": "claude-haiku-4-5",
                "estimated_credits": credits_on("claude-haiku-4-5", CODE_PROMPT, Task.CODE_REVIEW),
            },
            {"model": "gpt-4o-mini", "estimated_credits": credits_on("gpt-4o-mini", CODE_PROMPT, Task.CODE_REVIEW)},
        ],
    }


@pytest.mark.django_db
def test_the_endpoint_applies_candidates_history_and_ceiling(client):
    status, answer = post_route(
        client, {"prompt": QUESTION, "models": ["gpt-4o-mini", "claude-3-5-haiku"], "history_tokens": 150_000}
    )

    assert (status, answer["model"], answer["alternatives"]) == (200, "claude-3-5-haiku", [])


@pytest.mark.parametrize(
    ("body", "error", "detail"),
    [
        ("{not json", "invalid_json", "Send a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "invalid_json", "Send a JSON object"),
        ('["a list"]', "invalid_json", "Send a JSON object"),
        ({}, "invalid_request", "prompt: Field required"),
        ({"prompt": "   "}, "invalid_request", "the prompt is empty"),
        ({"prompt": 42}, "invalid_request", "prompt: Input should be a valid string"),
        ({"prompt": "x" * 400_001}, "invalid_request", "prompt: String should have at most 400000 characters"),
        ({"prompt": QUESTION, "models": "gpt-4o-mini"}, "invalid_request", "models: Input should be a valid list"),
        ({"prompt": QUESTION, "models": []}, "invalid_request", "models: List should have at least 1 item"),
        ({"prompt": QUESTION, "models": ["gpt-9"]}, "unknown_model", "Unknown model: gpt-9."),
        ({"prompt": QUESTION, "history_tokens": -1}, "invalid_request", "history_tokens: Input should be greater"),
        ({"prompt": QUESTION, "history_tokens": "5"}, "invalid_request", "history_tokens: Input should be a valid"),
        ({"prompt": QUESTION, "ceiling_credits": 0}, "invalid_request", "ceiling_credits: Input should be greater"),
        ({"prompt": QUESTION, "temperature": 1}, "invalid_request", "temperature: Extra inputs are not permitted"),
    ],
)
@pytest.mark.django_db
def test_a_bad_request_is_a_400_that_says_what_is_wrong(client, body, error, detail):
    status, answer = post_route(client, body)

    assert status == 400
    assert answer["error"] == error
    assert detail in answer["detail"]


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_a_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    status, answer = post_route(client, {"prompt": "x" * 2_000})

    assert (status, answer["error"]) == (400, "invalid_request")
    assert answer["detail"].startswith("The request is too large")


@pytest.mark.django_db
def test_a_request_no_model_can_take_is_a_422(client):
    status, answer = post_route(client, {"prompt": QUESTION, "history_tokens": 5_000_000})

    assert (status, answer["error"]) == (422, "context_too_long")
    assert "fit no allowed model" in answer["detail"]


@pytest.mark.django_db
def test_a_request_when_no_model_is_available_is_a_422(client, settings):
    settings.OPENAI_API_KEY = settings.ANTHROPIC_API_KEY = ""

    status, answer = post_route(client, {"prompt": QUESTION})

    assert (status, answer) == (
        422,
        {"error": "model_unavailable", "detail": "No model that can take this prompt is available right now."},
    )


@pytest.mark.django_db
def test_the_endpoint_only_answers_post(client):
    assert client.get("/api/route").status_code == 405


@pytest.mark.django_db
def test_the_endpoint_answers_a_client_so_many_times_a_minute_then_says_when_to_come_back(
    client, settings, monkeypatch
):
    settings.ROUTE_REQUESTS_PER_MINUTE = 5
    body = json.dumps({"prompt": QUESTION})
    # Hold the clock still, so the count over the last minute is only this test's requests, and start from no
    # count for these addresses (another run may have used them).
    now = (time.time() // 60) * 60 + 20
    monkeypatch.setattr(rate_limits.time, "time", lambda: now)
    for address in ("203.0.113.7", "198.51.100.7", *(f"192.0.2.{n}" for n in range(1, 6))):
        rate_limits.forget(address, action="route", seconds=60)

    def post(address):
        return client.post("/api/route", body, content_type="application/json", REMOTE_ADDR=address)

    answers = [post("203.0.113.7") for _ in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["error"] == "rate_limited" and "5 a minute" in answers[-1].json()["detail"]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert post("198.51.100.7").status_code == 200  # another network has its own count
    # A network (a /24) gets four times one address's share, so a crowd of addresses cannot go around it.
    neighbours = [post(f"192.0.2.{n}").status_code for n in range(1, 6) for _ in range(5)]
    assert neighbours.count(200) == 20 and neighbours.count(429) == 5
