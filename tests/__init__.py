"""Panels' tests, laid out as the packages they test; helpers in tests/factories.py, fixtures in conftest.py."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository, for tests that read its files
