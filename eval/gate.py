"""The CI gate: minimum and maximum values of a set's top-level metrics, from a checked-in file.

A gated metric that comes out unmeasured (None) or NaN fails the gate: a gate that cannot measure what it
guards must not pass. Thresholds at the top level apply to every set; `sets: {name: {min:, max:}}` adds or
overrides bounds for one set (dev and train are different questions and score differently).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from eval.metrics import COUNTS, SUMMARY_METRICS
from eval.squad import SQUAD_SUMMARY_METRICS

# The report's numbers a threshold may name: the metrics of either kind of set, and the counts.
GATED = (*SUMMARY_METRICS, *(m for m in SQUAD_SUMMARY_METRICS if m not in SUMMARY_METRICS), *COUNTS)


class GateError(ValueError):
    """A thresholds file that cannot be used: unreadable, or naming an unknown metric."""


@dataclass
class Bounds:
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)


@dataclass
class Thresholds:
    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)
    sets: dict[str, Bounds] = field(default_factory=dict)

    def for_set(self, name: str | None) -> Bounds:
        """The bounds that apply to one set: the top-level ones, with that set's section over them."""
        extra = self.sets.get(name or "", Bounds())
        return Bounds(minimum={**self.minimum, **extra.minimum}, maximum={**self.maximum, **extra.maximum})


def _bounds(data: object, where: str) -> Bounds:
    if not isinstance(data, dict) or set(data) - {"min", "max"}:
        raise GateError(f"{where}: expected a mapping with `min:` and/or `max:` sections")
    sections = {}
    for key in ("min", "max"):
        section = data.get(key) or {}
        if not isinstance(section, dict):
            raise GateError(f"{where}: `{key}` must map metric names to numbers")
        for name, value in section.items():
            # A misspelt metric would never gate anything: refuse it.
            if name not in GATED:
                raise GateError(f"{where}: unknown metric `{name}` under `{key}` (known: {', '.join(GATED)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise GateError(f"{where}: `{key}.{name}` must be a number, got {value!r}")
        sections[key] = {k: float(v) for k, v in section.items()}
    return Bounds(minimum=sections["min"], maximum=sections["max"])


def load_thresholds(path: Path) -> Thresholds:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GateError(f"{path}: cannot read thresholds: {exc}") from exc
    if not isinstance(data, dict):
        raise GateError(f"{path}: expected a mapping with `min:`, `max:` and/or `sets:` sections")
    sets_data = data.pop("sets", None) or {}
    top = _bounds(data, str(path))
    if not isinstance(sets_data, dict):
        raise GateError(f"{path}: `sets` must map set names to `min:`/`max:` sections")
    sets = {str(name): _bounds(section, f"{path}: sets.{name}") for name, section in sets_data.items()}
    return Thresholds(minimum=top.minimum, maximum=top.maximum, sets=sets)


def _unmeasured(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def check_gate(summary: dict, thresholds: Thresholds | Bounds, set_name: str | None = None) -> tuple[list[str], list[str]]:
    """(missed thresholds, gated metrics with no value); the gate holds only when both are empty."""
    bounds = thresholds.for_set(set_name) if isinstance(thresholds, Thresholds) else thresholds
    missed, unmeasured = [], []
    checks = [(n, v, True) for n, v in bounds.minimum.items()] + [(n, v, False) for n, v in bounds.maximum.items()]
    for name, bound, is_minimum in checks:
        value = summary.get(name)
        if _unmeasured(value):
            unmeasured.append(name)
        elif is_minimum and value < bound:
            missed.append(f"{name} = {value:.3g} < minimum {bound:.3g}")
        elif not is_minimum and value > bound:
            missed.append(f"{name} = {value:.3g} > maximum {bound:.3g}")
    return missed, unmeasured
