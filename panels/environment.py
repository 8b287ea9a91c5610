"""Read settings from the process environment, remembering every name read.

The names read are kept in ``NAMES`` so that tests can check `.env.example`, the README and
`docker-compose.yml` against what the settings really use. `read_env_file` lets `manage.py` and the server
take values from a local `.env` as well (scripts/run.sh writes one with a generated SECRET_KEY).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

NAMES: list[str] = []
LOCAL_ENV_FILE = Path(__file__).resolve().parent.parent / ".env"  # gitignored; never in an image (.dockerignore)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read_env_file(path: Path = LOCAL_ENV_FILE) -> None:
    """Put the `NAME=value` lines of `path` in the environment, where the environment leaves them unset.

    The file follows docker compose's `.env`: `#` comments, an optional `export `, values optionally quoted.
    A variable set in the process's environment wins, so a shell or a container can override the file.
    """
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip().removeprefix("export ").strip()
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if line.startswith("#") or not equals or not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if not os.environ.get(name, "").strip():
            os.environ[name] = value


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, or ``default`` when it is unset or empty."""
    if name not in NAMES:
        NAMES.append(name)
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable read as a boolean (1/0, true/false, yes/no, on/off)."""
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return the variable read as an integer."""
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the variable read as a comma-separated list."""
    raw = env_str(name)
    if not raw:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
