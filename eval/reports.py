"""The eval report, one per set (gold file or SQuAD file), and its renderings: JSON, Markdown with Wilson 95%
intervals, JUnit XML, and the console summary."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eval.baseline import BaselineDiff
from eval.intervals import wilson_interval
from eval.metrics import COUNTS, SUMMARY_METRICS, QuestionResult
from eval.squad import SQUAD_SUMMARY_METRICS

# Shown in the tag tables: the metrics a reader scans first (the JSON has all of them).
TAG_COLUMNS = ("pass_rate", "strict_fact_recall", "lenient_fact_recall", "provenance", "retrieval_recall_at_5",
               "abstention_accuracy")
SQUAD_TAG_COLUMNS = ("pass_rate", "exact", "f1", "provenance")


@dataclass
class EvalReport:
    """One set's results. `kind` is "gold" (gold-facts YAML) or "squad" (a SQuAD 2.0 file)."""

    set_name: str
    kind: str
    source: str
    summary: dict
    by_tag: dict[str, dict]
    questions: list[QuestionResult]
    run: dict = field(default_factory=dict)  # target, corpus, index summary, timing (shared by the sets of a run)
    baseline: BaselineDiff | None = None
    gate: dict | None = None  # {"file", "missed", "unmeasured", "passed"} when gated

    @property
    def metric_names(self) -> tuple[str, ...]:
        return SQUAD_SUMMARY_METRICS if self.kind == "squad" else SUMMARY_METRICS

    @property
    def regressed(self) -> bool:
        return bool(self.baseline and self.baseline.regressions)

    def to_dict(self) -> dict:
        out = {"set": self.set_name, "kind": self.kind, "source": self.source}
        out.update({name: self.summary.get(name) for name in (*COUNTS, *self.metric_names)})
        out["intervals_95"] = {m: interval(self, m) for m in self.metric_names if interval(self, m) is not None}
        out["by_tag"] = self.by_tag
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_dict()
        if self.gate is not None:
            out["gate"] = self.gate
        out["questions"] = [asdict(q) for q in self.questions]
        return out


def _binary_values(report: EvalReport, metric: str) -> list[float]:
    """The per-question 0/1 outcomes a summary rate averages (empty when it is not such a rate)."""
    qs = report.questions
    ans = [q for q in qs if q.answerable]
    unans = [q for q in qs if not q.answerable]
    rates = {
        "pass_rate": [float(q.passed) for q in qs],
        "lenient_pass_rate": [float(q.lenient_passed) for q in qs],
        "hasans_pass_rate": [float(q.passed) for q in ans],
        "abstention_accuracy": [q.metrics.get("abstention_correct") for q in unans],
        "false_abstention_rate": [float(q.abstained is not False) for q in ans],
        "citation_precision": [q.metrics.get("citation_precision") for q in qs],
        "exact": [q.metrics.get("exact") for q in qs],
        "HasAns_exact": [q.metrics.get("exact") for q in ans],
        "NoAns_exact": [q.metrics.get("exact") for q in unans],
    }
    values = rates[metric] if metric in rates else [q.metrics.get(metric) for q in ans]
    return [v for v in values if v is not None]


def interval(report: EvalReport, metric: str) -> tuple[float, float] | None:
    """Wilson 95% interval of a summary rate; None for graded metrics (F1, fact recall with several facts)."""
    values = _binary_values(report, metric)
    if not values or any(v not in (0.0, 1.0) for v in values):
        return None
    return wilson_interval(int(sum(values)), len(values))


def write_json(reports: Sequence[EvalReport], path: Path, run: dict | None = None) -> None:
    data = {
        "run": run if run is not None else (reports[0].run if reports else {}),
        "sets": {r.set_name: r.to_dict() for r in reports},
    }
    _write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def fmt(name: str, value) -> str:
    if value is None:
        return "–"
    if name.endswith("_s"):
        return f"{value:.2f} s"
    if name.startswith("answer_words"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _ci(report: EvalReport, metric: str) -> str:
    ci = interval(report, metric)
    return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else ""


def _markdown_set(report: EvalReport) -> list[str]:
    s = report.summary
    lines = [
        f"## {report.set_name} (`{report.source}`)",
        "",
        f"{s['question_count']} questions ({s['hasans_count']} answerable, {s['noans_count']} unanswerable): "
        f"**{s['passed']} passed strictly**, {s['lenient_passed']} leniently; {s['errors']} errors, {s['timeouts']} timeouts.",
        "",
        "| HasAns / NoAns | n | passed | rate | 95% CI |",
        "|---|---|---|---|---|",
    ]
    ans = [q for q in report.questions if q.answerable]
    unans = [q for q in report.questions if not q.answerable]
    for label, group, metric in (("answerable (HasAns)", ans, "hasans_pass_rate"), ("unanswerable (NoAns)", unans, "abstention_accuracy")):
        passed = sum(q.passed for q in group)
        rate = passed / len(group) if group else None
        ci = wilson_interval(passed, len(group))
        lines.append(f"| {label} | {len(group)} | {passed} | {fmt(metric, rate)} | {f'{ci[0]:.3f}–{ci[1]:.3f}' if ci else ''} |")
    lines += ["", "| metric | value | 95% CI (Wilson) |", "|---|---|---|"]
    lines += [f"| {name} | {fmt(name, s.get(name))} | {_ci(report, name)} |" for name in report.metric_names]
    columns = SQUAD_TAG_COLUMNS if report.kind == "squad" else TAG_COLUMNS
    if report.by_tag:
        lines += ["", "### By tag", "", "| tag | n | passed | " + " | ".join(columns) + " |"]
        lines.append("|---" * (3 + len(columns)) + "|")
        for tag, t in report.by_tag.items():
            cells = [tag, str(t["question_count"]), str(t["passed"]), *(fmt(c, t.get(c)) for c in columns)]
            lines.append("| " + " | ".join(cells) + " |")
    failed = [q for q in report.questions if not q.passed]
    if failed:
        lines += ["", "### Failed questions", "", "| id | why | answer |", "|---|---|---|"]
        lines += [f"| {q.id} | {_md_cell(q.reason)} | {_md_cell(q.answer)[:200]} |" for q in failed]
    if report.baseline is not None:
        b = report.baseline
        lines += ["", f"### Against baseline `{b.file}`", ""]
        lines.append(f"Regressions (passed in the baseline, fail now): {len(b.regressions) or 'none'}")
        for r in b.regressions:
            lines += ["", f"- `{r.id}`: {_md_cell(r.question)}", f"  - before: {_md_cell(r.old_answer)}",
                      f"  - now: {_md_cell(r.new_answer)} — {_md_cell(r.new_reason)}"]
            if r.confidence_change():
                lines.append(f"  - confidence: {r.confidence_change()}")
        lines += ["", "Newly passing: " + (", ".join(f"`{i}`" for i in b.newly_passing) or "none")]
        if b.not_in_baseline:
            lines += ["", f"Not in the baseline (not compared): {len(b.not_in_baseline)}"]
    if report.gate is not None:
        g = report.gate
        lines += ["", f"### Gate `{g['file']}`: {'passed' if g['passed'] else 'FAILED'}", ""]
        lines += [f"- missed: {m}" for m in g["missed"]]
        lines += [f"- not measured (fails the gate): {m}" for m in g["unmeasured"]]
    return lines


def render_markdown(reports: Sequence[EvalReport]) -> str:
    run = reports[0].run if reports else {}
    lines = ["# pressqa eval", "", f"{_md_cell(run.get('target', ''))}; sets: {', '.join(r.set_name for r in reports)}.",
             "`passed` is the strict pass (facts, provenance, no negation, precision; see eval/strict.py).", ""]
    for r in reports:
        lines += _markdown_set(r) + [""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(reports: Sequence[EvalReport], path: Path) -> None:
    _write(path, render_markdown(reports))


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _junit_suite(report: EvalReport) -> ET.Element:
    """One testcase per question, named by its id: a failure when it fails strictly, an error when the chain raised."""
    qs = report.questions
    suite = ET.Element(
        "testsuite",
        name=f"pressqa-eval.{report.set_name}",
        tests=str(len(qs)),
        failures=str(sum(not q.passed and q.error is None for q in qs)),
        errors=str(sum(q.error is not None for q in qs)),
        time=f"{sum(q.latency_s or 0.0 for q in qs):.3f}",
    )
    for q in qs:
        case = ET.SubElement(suite, "testcase", classname=f"pressqa.eval.{report.set_name}", name=q.id,
                             time=f"{q.latency_s or 0.0:.3f}")
        detail = _xml_text(
            f"question: {q.question}\nanswer: {q.answer}\nshort answer: {q.short_answer}\nabstained: {q.abstained}\n"
            + "\n".join(f"{k}: {fmt(k, v)}" for k, v in q.metrics.items())
        )
        if q.error is not None:
            ET.SubElement(case, "error", message=_xml_text(q.error[:500]), type="ChainError").text = detail
        elif not q.passed:
            ET.SubElement(case, "failure", message=_xml_text(q.reason), type="EvalFailure").text = detail
        ET.SubElement(case, "system-out").text = detail
    return suite


def render_junit(reports: Sequence[EvalReport]) -> str:
    suites = [_junit_suite(r) for r in reports]
    root = ET.Element(
        "testsuites",
        name="pressqa-eval",
        tests=str(sum(int(s.get("tests")) for s in suites)),
        failures=str(sum(int(s.get("failures")) for s in suites)),
        errors=str(sum(int(s.get("errors")) for s in suites)),
    )
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(reports: Sequence[EvalReport], path: Path) -> None:
    _write(path, render_junit(reports))


def _write(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def print_summary(report: EvalReport, console: Console) -> None:
    s = report.summary
    table = Table(title=f"{report.set_name}: {s['passed']}/{s['question_count']} passed strictly "
                        f"({s['lenient_passed']} leniently), {s['errors']} errors, {s['timeouts']} timeouts")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    for name in report.metric_names:
        table.add_row(name, fmt(name, s.get(name)), _ci(report, name))
    console.print(table)
    for q in report.questions:
        if not q.passed:
            console.print(f"[red]FAIL[/red] {escape(report.set_name)}/{escape(q.id)}: {escape(q.reason)}", highlight=False)
    if report.baseline is not None:
        b = report.baseline
        for r in b.regressions:
            console.print(f"[red]REGRESSION[/red] {escape(report.set_name)}/{escape(r.id)}: {escape(r.question)}", highlight=False)
            console.print(f"  before: {escape(r.old_answer)}", highlight=False)
            console.print(f"  now:    {escape(r.new_answer)}", highlight=False)
            console.print(f"  why:    {escape(r.new_reason)}", highlight=False)
            if r.confidence_change():
                console.print(f"  confidence: {r.confidence_change()}", highlight=False)
        console.print(f"baseline {escape(b.file)}: {len(b.regressions)} regression(s); newly passing: "
                      f"{', '.join(b.newly_passing) or 'none'}; not in the baseline: {len(b.not_in_baseline)}", highlight=False)
    if report.gate is not None:
        g = report.gate
        for m in g["unmeasured"]:
            console.print(f"[red]gate: {escape(m)} not measured[/red] (a gated metric must be measured)")
        for m in g["missed"]:
            console.print(f"[red]gate missed:[/red] {escape(m)}")
        console.print(f"gate ({escape(report.set_name)}): " + ("passed" if g["passed"] else "FAILED"))
