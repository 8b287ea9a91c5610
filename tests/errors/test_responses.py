"""The JSON error envelope every endpoint answers with."""

import json

import pytest

from chat.exceptions import NotFound
from errors import InvalidRequest
from errors.responses import error_response


def test_an_error_is_answered_with_its_code_and_detail():
    response = error_response(NotFound("There is no such conversation."), status=404)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"error": "not_found", "detail": "There is no such conversation."}


def test_a_code_is_answered_with_the_detail_given():
    response = error_response("not_authenticated", "Log in first.", status=401)
    assert (response.status_code, json.loads(response.content)) == (
        401,
        {"error": "not_authenticated", "detail": "Log in first."},
    )


def test_an_error_and_its_code_give_the_same_answer():
    by_error = error_response(InvalidRequest("Send a JSON object."), status=400)
    by_code = error_response("invalid_request", "Send a JSON object.", status=400)
    assert (by_error.status_code, by_error.content) == (by_code.status_code, by_code.content)


def test_a_code_without_a_detail_is_refused():
    with pytest.raises(TypeError, match="needs a detail"):
        error_response("invalid_request", status=400)
