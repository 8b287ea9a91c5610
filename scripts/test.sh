#!/usr/bin/env bash
# Run the whole test suite. Tests marked `services` need Redis: set REDIS_URL (and DATABASE_URL for
# PostgreSQL), as CI does; without them those tests are skipped and the rest run on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || { echo "Could not create .venv: install python3-venv (Python 3.11)." >&2; exit 1; }
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# The browser libraries (package.json, pinned by package-lock.json), served from node_modules/ as ES modules.
command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }
if [ ! -f package-lock.json ]; then
    npm install --no-audit --no-fund
elif [ ! node_modules/.package-lock.json -nt package-lock.json ]; then  # only when the lock changed
    npm ci --no-audit --no-fund
fi

exec .venv/bin/python -m pytest "$@"
