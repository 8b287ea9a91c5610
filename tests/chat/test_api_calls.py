"""An admitted API call is always finished, even when it is never made.

Called off when its program hangs up during admission, swept when its process dies: either way its hold goes
back to the wallet and the key, and nothing is charged.
"""

import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from billing.keys import create_api_key
from billing.models import ApiKey, Hold, LedgerEntry, Wallet
from chat.api.calls import start_call
from chat.api.requests import CompletionRequest
from chat.api.streaming import call_off
from chat.housekeeping import finish_abandoned_api_calls
from chat.liveness import record_heartbeat
from chat.models import ApiCall
from chat.providers.base import ChatMessage
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admitted(user, openai_and_anthropic):
    """Return a function that admits one call for a funded user's new key, as the view does."""

    def admit(process_id=None):
        fund(user, 2_000_000)
        new = create_api_key(user=user, name="k", daily_limit_credits=1_000_000)
        request = CompletionRequest(model="gpt-4o-mini", messages=(ChatMessage("user", "hi"),), max_tokens=500)
        return start_call(secret=new.secret, request=request, process_id=process_id), new.key

    return admit


def assert_released(call_id, key):
    call = ApiCall.objects.get(pk=call_id)
    assert (call.status, call.error_code, call.credits) == ("error", "interrupted", 0)
    assert call.finished_at is not None
    assert Hold.objects.get(reference=f"api:{call_id}").status == "released"
    assert Wallet.objects.get(user=key.user).held_credits == 0
    assert ApiKey.objects.get(pk=key.pk).held_credits == 0
    assert not LedgerEntry.objects.filter(api_key=key).exists()


async def test_a_call_admitted_for_a_program_that_hung_up_is_called_off(admitted):
    started, key = await database_sync_to_async(admitted)()
    assert await database_sync_to_async(lambda: ApiKey.objects.get(pk=key.pk).held_credits)() > 0
    await call_off(started)
    await database_sync_to_async(assert_released)(started.call_id, key)


async def test_a_call_whose_process_died_is_swept(admitted):
    dead = str(uuid.uuid4())
    started, key = await database_sync_to_async(admitted)(process_id=dead)
    await database_sync_to_async(record_heartbeat)(process_id=dead, now=timezone.now() - timedelta(minutes=5))
    assert await finish_abandoned_api_calls() == 1
    await database_sync_to_async(assert_released)(started.call_id, key)
    assert await finish_abandoned_api_calls() == 0  # once
