#!/usr/bin/env bash
# Run the whole test suite. Tests marked `services` need Redis: set REDIS_URL (and DATABASE_URL for
# PostgreSQL), as CI does; without them those tests are skipped and the rest run on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt

exec .venv/bin/python -m pytest "$@"
