#!/usr/bin/env bash
# Set up what is missing and serve Panels with Daphne at http://127.0.0.1:8000.
# With no environment this is the embedded mode (SQLite, in-memory channel layer, eager Celery);
# set DATABASE_URL / REDIS_URL to run on PostgreSQL / Redis instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt

export DEBUG="${DEBUG:-true}"  # a local run; production sets DEBUG=false and its own SECRET_KEY
.venv/bin/python manage.py migrate --noinput  # the migrations also seed the model catalog
exec .venv/bin/python -m panels.serve -b 127.0.0.1 -p 8000  # Daphne, as deployed (panels/serve.py)
