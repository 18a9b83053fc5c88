#!/usr/bin/env bash
# Sets up what is missing, then plays the embedded demo: three callers to Harbour Light Dental.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
exec .venv/bin/ari-app demo "$@"
