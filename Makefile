# The two commands of the README. Both set everything up first (idempotent).
.PHONY: setup run test eval bench

setup:
	scripts/setup.sh

run: setup
	scripts/run.sh

test: setup
	scripts/test.sh

eval: setup
	.venv/bin/pressqa eval --json artifacts/eval.json --markdown artifacts/eval.md --junit artifacts/eval-junit.xml

bench: setup
	.venv/bin/python -m bench
