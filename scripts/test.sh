#!/usr/bin/env bash
# Test job: the test suite, then the eval gates: dev + train + check-written on the bundled corpus, and the fixed 100-question
# sample of the SQuAD 2.0 file, each against its per-question baseline (eval/baseline/<set>.json) and its
# thresholds. Any failure fails the run.
#
# WRITE_BASELINE=1 scripts/test.sh  rewrites the baselines from this run instead of failing on regressions
# (accepting the change: commit eval/baseline/ with the reason in the message).
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

baseline=(--baseline-dir eval/baseline)
if [[ "${WRITE_BASELINE:-0}" == 1 ]]; then baseline+=(--write-baseline); fi
status=0
.venv/bin/pressqa eval --gold eval/gold/dev.yaml --gold eval/gold/train.yaml --gold eval/gold/check-written.yaml "${baseline[@]}" \
  --gate eval/thresholds.yaml --json artifacts/eval.json --markdown artifacts/eval.md \
  --junit artifacts/eval-junit.xml || status=$?
# Run the SQuAD sample even when the gold sets failed, so one CI run shows both.
.venv/bin/pressqa eval --squad eval/external/squad2-dev-computational-complexity.json --squad-sample 100 \
  "${baseline[@]}" --gate eval/thresholds-squad.yaml --json artifacts/eval-squad.json \
  --markdown artifacts/eval-squad.md --junit artifacts/eval-squad-junit.xml || status=$((status > 0 ? status : $?))
exit "$status"
