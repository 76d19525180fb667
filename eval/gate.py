"""The CI gate: minimum (and maximum) values of the report's top-level metrics, from a checked-in file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from eval.metrics import SUMMARY_METRICS

# The report's numbers a threshold may name: the metrics, and the count of questions whose chain raised.
GATED = (*SUMMARY_METRICS, "errors")


class GateError(ValueError):
    """A thresholds file that cannot be used: unreadable, or naming an unknown metric."""


@dataclass
class Thresholds:
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)


def load_thresholds(path: Path) -> Thresholds:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GateError(f"{path}: cannot read thresholds: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"min", "max"}:
        raise GateError(f"{path}: expected a mapping with `min:` and/or `max:` sections")
    sections = {}
    for key in ("min", "max"):
        section = data.get(key) or {}
        if not isinstance(section, dict):
            raise GateError(f"{path}: `{key}` must map metric names to numbers")
        for name, value in section.items():
            # A misspelt metric would never gate anything: refuse it.
            if name not in GATED:
                raise GateError(f"{path}: unknown metric `{name}` under `{key}` (known: {', '.join(GATED)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GateError(f"{path}: `{key}.{name}` must be a number, got {value!r}")
        sections[key] = {k: float(v) for k, v in section.items()}
    return Thresholds(minimum=sections["min"], maximum=sections["max"])


def check_gate(summary: dict, thresholds: Thresholds) -> tuple[list[str], list[str]]:
    """(missed thresholds, metrics not measured on this gold set) — a metric with no value is not gated."""
    missed, unmeasured = [], []
    for name, bound, below in [(n, v, True) for n, v in thresholds.minimum.items()] + [
        (n, v, False) for n, v in thresholds.maximum.items()
    ]:
        value = summary.get(name)
        if value is None:
            unmeasured.append(name)
        elif below and value < bound:
            missed.append(f"{name} = {value:.3g} < minimum {bound:.3g}")
        elif not below and value > bound:
            missed.append(f"{name} = {value:.3g} > maximum {bound:.3g}")
    return missed, unmeasured
