"""Accounts fixtures: every test here starts and ends with no accounts counted against the test client."""

import pytest

from tests.factories import forget_signups


@pytest.fixture(autouse=True)
def no_signups_counted():
    """Clear the hourly account counts of the test client's address before and after each test."""
    forget_signups("127.0.0.1")
    yield
    forget_signups("127.0.0.1")
