#!/usr/bin/env bash
# Main job: serve API + chat page on 127.0.0.1 while the bundled corpus indexes in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
exec .venv/bin/pressqa serve --index-bundled "$@"
