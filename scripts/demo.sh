#!/usr/bin/env bash
# Try every screen without a single key: Panels on http://127.0.0.1:8000 against the provider simulator
# (replies say they are simulated) and the local Stripe stand-in (payments never reach Stripe).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt

simulator=http://127.0.0.1:9100
export DEBUG=true
export OPENAI_BASE_URL="$simulator/v1" GEMINI_BASE_URL="$simulator/v1" MISTRAL_BASE_URL="$simulator/v1"
export ANTHROPIC_BASE_URL="$simulator"
export OPENAI_API_KEY=simulated ANTHROPIC_API_KEY=simulated GEMINI_API_KEY=simulated MISTRAL_API_KEY=simulated
export STRIPE_SECRET_KEY=sk_test_demo STRIPE_WEBHOOK_SECRET=whsec_demo STRIPE_API_BASE=http://127.0.0.1:12111

.venv/bin/python manage.py simulate_providers --port 9100 &
.venv/bin/python manage.py stripe_standin --port 12111 --webhook-url http://127.0.0.1:8000/billing/stripe/webhook/ &
trap 'kill $(jobs -p) 2>/dev/null' EXIT
bash scripts/run.sh
