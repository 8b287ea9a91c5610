#!/usr/bin/env bash
# Set up what is missing and serve Panels with Daphne at http://127.0.0.1:$PORT (default 8000).
# With no environment this is the embedded mode (SQLite, in-memory channel layer, eager Celery);
# set DATABASE_URL / REDIS_URL to run on PostgreSQL / Redis instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ports.sh

port="${PORT:-8000}"
require_free_port PORT "$port"  # before anything starts
bash scripts/setup.sh requirements.txt

# A local .env (gitignored) with a SECRET_KEY of this clone's own, which manage.py and the server read, so
# `manage.py createsuperuser` works without DEBUG. Written once; the key is never printed.
if ! grep -Eqs '^[[:space:]]*(export[[:space:]]+)?SECRET_KEY[[:space:]]*=[[:space:]]*[^[:space:]]' .env; then
    (umask 077 && .venv/bin/python -c 'import secrets; print("SECRET_KEY=" + secrets.token_urlsafe(50))' >> .env)
    echo "Wrote a generated SECRET_KEY to .env (kept out of git)."
fi

export DEBUG="${DEBUG:-true}"  # a local run; production sets DEBUG=false and its own SECRET_KEY
.venv/bin/python manage.py migrate --noinput  # the migrations also seed the model catalog
exec .venv/bin/python -m panels.serve -b 127.0.0.1 -p "$port"  # Daphne, as deployed (panels/serve.py)
