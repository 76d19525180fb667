# The two commands of the README. Both set everything up first (idempotent).
.PHONY: setup run test eval bench

setup:
	scripts/setup.sh

run: setup
	scripts/run.sh

test: setup
	scripts/test.sh

eval: setup
	# The whole SQuAD 2.0 file (418 questions) and the gold sets, reported per set; no gate, no baseline.
	.venv/bin/pressqa eval --gold eval/gold/dev.yaml --gold eval/gold/train.yaml --gold eval/gold/train-written.yaml \
	  --gold eval/gold/check-written.yaml --json artifacts/eval.json \
	  --markdown artifacts/eval.md --junit artifacts/eval-junit.xml
	.venv/bin/pressqa eval --squad eval/external/squad2-dev-computational-complexity.json \
	  --json artifacts/eval-squad-full.json --markdown artifacts/eval-squad-full.md --junit artifacts/eval-squad-full-junit.xml

bench: setup
	.venv/bin/python -m bench
