#!/usr/bin/env bash
# Test job: the test suite, then the eval gate on the bundled corpus. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
# Browser tests drive Debian's headless Chromium (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
    || echo "warning: could not install chromium; browser tests will fail" >&2
fi
mkdir -p artifacts
# pytest exits 5 when it collects no tests: that is a failure here, not hidden.
.venv/bin/pytest "$@"
.venv/bin/pressqa eval --gate eval/thresholds.yaml --json artifacts/eval.json \
  --markdown artifacts/eval.md --junit artifacts/eval-junit.xml
