"""The per-question baseline: which questions of a set passed (strictly) in the accepted run, and what they said.

`eval/baseline/<set>.json` is checked in. A run fails when a question that passed there fails now; the
report prints the question, the old answer and the new one. An accepted change lands by rewriting the
file (`pressqa eval ... --baseline-dir eval/baseline --write-baseline`) in the same commit, the reason in
the commit message. Questions new since the baseline, or gone from the set, are listed, never failed.

Each question's confidence (the reader's P(the answer is right), which its threshold decided on) is kept too, so
that a regression shows whether it is a changed answer or the same one on the other side of the threshold (as an
encoder that rounds differently on another CPU could cause).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

BASELINE_FORMAT = 1


class BaselineError(ValueError):
    """A baseline file that is unreadable or not in the baseline format."""


class BaselineMissing(BaselineError):
    """No baseline file for a set: nothing to compare against, which a gate must not take as a pass."""


@dataclass
class BaselineEntry:
    passed: bool
    answer: str
    short_answer: str | None = None
    reason: str = ""
    confidence: float | None = None  # absent from baselines written before it was recorded


@dataclass
class Regression:
    """A question that passed in the baseline and fails now."""

    id: str
    question: str
    old_answer: str
    new_answer: str
    new_reason: str
    old_confidence: float | None = None
    new_confidence: float | None = None

    def confidence_change(self) -> str | None:
        """"0.380 → 0.360", when either run recorded one ("?" for the side that did not)."""
        if self.old_confidence is None and self.new_confidence is None:
            return None
        return f"{_shown_confidence(self.old_confidence)} → {_shown_confidence(self.new_confidence)}"


def _shown_confidence(confidence: float | None) -> str:
    return "?" if confidence is None else f"{confidence:.3f}"


@dataclass
class BaselineDiff:
    file: str
    regressions: list[Regression]
    newly_passing: list[str]
    not_in_baseline: list[str]
    not_in_run: list[str]

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "regressions": [r.__dict__ for r in self.regressions],
            "newly_passing": self.newly_passing,
            "not_in_baseline": self.not_in_baseline,
            "not_in_run": self.not_in_run,
        }


def baseline_path(directory: Path, set_name: str) -> Path:
    return Path(directory) / f"{set_name}.json"


def load_baseline(path: Path) -> dict[str, BaselineEntry]:
    path = Path(path)
    if not path.exists():
        raise BaselineMissing(f"{path}: no baseline file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != BASELINE_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {BASELINE_FORMAT}")
        return {
            q["id"]: BaselineEntry(bool(q["passed"]), q.get("answer", ""), q.get("short_answer"), q.get("reason", ""),
                                   None if q.get("confidence") is None else float(q["confidence"]))
            for q in data["questions"]
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BaselineError(f"{path}: not a pressqa baseline file: {exc}") from exc


def _show(answer: str, short_answer: str | None) -> str:
    text = " ".join(answer.split()) or "(no answer)"
    return f"{text}  [short answer: {short_answer}]" if short_answer is not None else text


def compare(baseline: dict[str, BaselineEntry], results, file: str) -> BaselineDiff:
    """Regressions (passed then, fail now), newly passing ids, and the ids only one side has."""
    regressions, newly_passing = [], []
    for r in results:
        before = baseline.get(r.id)
        if before is None:
            continue
        if before.passed and not r.passed:
            now = _show(r.answer, r.short_answer) if r.error is None else f"(error) {r.error}"
            regressions.append(Regression(r.id, r.question, _show(before.answer, before.short_answer), now, r.reason,
                                          before.confidence, r.confidence))
        elif not before.passed and r.passed:
            newly_passing.append(r.id)
    ids = {r.id for r in results}
    return BaselineDiff(
        file=file,
        regressions=regressions,
        newly_passing=newly_passing,
        not_in_baseline=[r.id for r in results if r.id not in baseline],
        not_in_run=sorted(set(baseline) - ids),
    )


def write_baseline(path: Path, set_name: str, source: str, target: str, summary: dict, results) -> None:
    """The set's per-question outcome, in run order, with the headline figures for the commit reviewer."""
    data = {
        "format": BASELINE_FORMAT,
        "set": set_name,
        "source": source,
        "target": target,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "passed": summary.get("passed"),
        "question_count": summary.get("question_count"),
        "questions": [
            {"id": r.id, "passed": r.passed, "answer": r.answer, "short_answer": r.short_answer, "reason": r.reason,
             "confidence": None if r.confidence is None else round(float(r.confidence), 4)}
            for r in results
        ],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
