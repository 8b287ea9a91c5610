#!/usr/bin/env bash
# Set up what is missing and serve Panels with Daphne at http://127.0.0.1:8000.
# With no environment this is the embedded mode (SQLite, in-memory channel layer, eager Celery);
# set DATABASE_URL / REDIS_URL to run on PostgreSQL / Redis instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || { echo "Could not create .venv: install python3-venv (Python 3.11)." >&2; exit 1; }
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

# The browser libraries (package.json, pinned by package-lock.json), served from node_modules/ as ES modules.
command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }
if [ ! -f package-lock.json ]; then
    npm install --no-audit --no-fund
elif [ ! node_modules/.package-lock.json -nt package-lock.json ]; then  # only when the lock changed
    npm ci --no-audit --no-fund
fi

export DEBUG="${DEBUG:-true}"  # a local run; production sets DEBUG=false and its own SECRET_KEY
.venv/bin/python manage.py migrate --noinput  # the migrations also seed the model catalog
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
