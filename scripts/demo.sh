#!/usr/bin/env bash
# Try every screen without a single key: Panels on http://127.0.0.1:$PORT (default 8000) against the provider
# simulator on $SIMULATOR_PORT (9100; replies say they are simulated) and the local Stripe stand-in on
# $STRIPE_STANDIN_PORT (12111; payments never reach Stripe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ports.sh

export PORT="${PORT:-8000}"
simulator_port="${SIMULATOR_PORT:-9100}"
stripe_port="${STRIPE_STANDIN_PORT:-12111}"
require_free_port PORT "$PORT"  # all three before anything starts
require_free_port SIMULATOR_PORT "$simulator_port"
require_free_port STRIPE_STANDIN_PORT "$stripe_port"
bash scripts/setup.sh requirements.txt

simulator="http://127.0.0.1:$simulator_port"
export DEBUG=true
export OPENAI_BASE_URL="$simulator/v1" GEMINI_BASE_URL="$simulator/v1" MISTRAL_BASE_URL="$simulator/v1"
export ANTHROPIC_BASE_URL="$simulator"
export OPENAI_API_KEY=simulated ANTHROPIC_API_KEY=simulated GEMINI_API_KEY=simulated MISTRAL_API_KEY=simulated
export STRIPE_SECRET_KEY=sk_test_demo STRIPE_WEBHOOK_SECRET=whsec_demo STRIPE_API_BASE="http://127.0.0.1:$stripe_port"

.venv/bin/python manage.py simulate_providers --port "$simulator_port" &
.venv/bin/python manage.py stripe_standin --port "$stripe_port" \
    --webhook-url "http://127.0.0.1:$PORT/billing/stripe/webhook/" &
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT  # and wait, so the ports are free once the demo ends
bash scripts/run.sh
