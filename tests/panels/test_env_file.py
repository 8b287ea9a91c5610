"""A local `.env` fills in what the environment leaves unset, for manage.py and the server (panels/environment.py)."""

import os

from panels.environment import read_env_file


def test_env_file_fills_unset_variables_and_the_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# written by scripts/run.sh\n"
        "SECRET_KEY=from-the-file\n"
        "export ALLOWED_HOSTS = 'panels.example.com'\n"
        'DEFAULT_FROM_EMAIL="Panels <noreply@example.com>"\n'
        "DEBUG=true\n"
        "EMAIL_HOST=from-the-file\n"
        "not a setting\n"
    )
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("DEFAULT_FROM_EMAIL", raising=False)
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("EMAIL_HOST", "")  # set but empty counts as unset, as for the settings

    read_env_file(env_file)

    assert os.environ["SECRET_KEY"] == "from-the-file"
    assert os.environ["ALLOWED_HOSTS"] == "panels.example.com"
    assert os.environ["DEFAULT_FROM_EMAIL"] == "Panels <noreply@example.com>"
    assert os.environ["DEBUG"] == "false"
    assert os.environ["EMAIL_HOST"] == "from-the-file"
    assert "not a setting" not in os.environ


def test_a_missing_env_file_changes_nothing(tmp_path):
    before = dict(os.environ)
    read_env_file(tmp_path / ".env")
    assert dict(os.environ) == before
