#!/usr/bin/env bash
# Install what is missing for Panels: a .venv with the given requirements file, and the npm packages.
# Used by run.sh, test.sh and demo.sh; fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || { echo "Could not create .venv: install python3-venv (Python 3.11)." >&2; exit 1; }
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"

# The browser libraries (package.json, pinned by package-lock.json), served from node_modules/ as ES modules.
command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }
if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then  # only when the lock changed
    npm ci --no-audit --no-fund
fi
