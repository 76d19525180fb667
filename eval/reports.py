"""The eval report and its renderings: JSON, Markdown, JUnit XML, the console table, and the baseline diff."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eval.metrics import SUMMARY_METRICS, QuestionResult

# Shown in the tables: the metrics a reader scans first (the JSON has all of them).
TAG_COLUMNS = ("fact_recall", "answer_contains", "citation_recall", "retrieval_recall_at_5", "abstention_accuracy")


@dataclass
class EvalReport:
    summary: dict
    by_tag: dict[str, dict]
    questions: list[QuestionResult]
    run: dict = field(default_factory=dict)  # gold files, target, corpus, index summary, timing
    newly_failing: list[str] | None = None  # set when diffed against a baseline
    newly_passing: list[str] | None = None
    gate: dict | None = None  # {"file", "missed", "unmeasured", "passed"} when gated

    def to_dict(self) -> dict:
        out = {name: self.summary.get(name) for name in SUMMARY_METRICS}
        out.update({k: self.summary[k] for k in ("question_count", "passed", "failed", "errors")})
        out["by_tag"] = self.by_tag
        out["run"] = self.run
        if self.newly_failing is not None:
            out["baseline"] = {
                "file": self.run.get("baseline"),
                "newly_failing": self.newly_failing,
                "newly_passing": self.newly_passing,
            }
        if self.gate is not None:
            out["gate"] = self.gate
        out["questions"] = [asdict(q) for q in self.questions]
        return out


class BaselineError(ValueError):
    """A --baseline file that is not a previous JSON report."""


def load_baseline(path: Path) -> dict[str, bool]:
    """Question id → passed, from a previous JSON report."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {q["id"]: bool(q["passed"]) for q in data["questions"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{path}: not a pressqa eval JSON report: {exc}") from exc


def diff_baseline(previous: dict[str, bool], questions: list[QuestionResult]) -> tuple[list[str], list[str]]:
    """(newly failing, newly passing) ids; questions absent from the baseline are in neither list."""
    failing = [q.id for q in questions if previous.get(q.id) is True and not q.passed]
    passing = [q.id for q in questions if previous.get(q.id) is False and q.passed]
    return failing, passing


def write_json(report: EvalReport, path: Path) -> None:
    _write(path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")


def fmt(name: str, value) -> str:
    if value is None:
        return "–"
    if name.endswith("_s"):
        return f"{value:.2f} s"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(report: EvalReport) -> str:
    s = report.summary
    lines = [
        "# pressqa eval",
        "",
        f"{s['question_count']} questions, **{s['passed']} passed**, {s['failed']} failed ({s['errors']} errors) — "
        f"{_md_cell(report.run.get('target', ''))}, gold: {', '.join(report.run.get('gold', []))}",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {name} | {fmt(name, s.get(name))} |" for name in SUMMARY_METRICS),
    ]
    if report.by_tag:
        lines += ["", "## By tag", "", "| tag | n | passed | " + " | ".join(TAG_COLUMNS) + " |"]
        lines.append("|---" * (3 + len(TAG_COLUMNS)) + "|")
        for tag, t in report.by_tag.items():
            cells = [tag, str(t["question_count"]), str(t["passed"]), *(fmt(c, t.get(c)) for c in TAG_COLUMNS)]
            lines.append("| " + " | ".join(cells) + " |")
    failed = [q for q in report.questions if not q.passed]
    if failed:
        lines += ["", "## Failed questions", "", "| id | why | answer |", "|---|---|---|"]
        lines += [f"| {q.id} | {_md_cell(q.reason)} | {_md_cell(q.answer)[:200]} |" for q in failed]
    if report.newly_failing is not None:
        lines += ["", f"## Against baseline `{report.run.get('baseline')}`", ""]
        lines.append("Newly failing: " + (", ".join(f"`{i}`" for i in report.newly_failing) or "none"))
        lines.append("")
        lines.append("Newly passing: " + (", ".join(f"`{i}`" for i in report.newly_passing) or "none"))
    if report.gate is not None:
        g = report.gate
        lines += ["", f"## Gate `{g['file']}`: {'passed' if g['passed'] else 'FAILED'}", ""]
        lines += [f"- missed: {m}" for m in g["missed"]]
        lines += [f"- not measured: {m}" for m in g["unmeasured"]]
    return "\n".join(lines) + "\n"


def write_markdown(report: EvalReport, path: Path) -> None:
    _write(path, render_markdown(report))


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def render_junit(report: EvalReport) -> str:
    """One testcase per question, named by its id: a failure when it fails, an error when the chain raised."""
    qs = report.questions
    suite = ET.Element(
        "testsuite",
        name="pressqa-eval",
        tests=str(len(qs)),
        failures=str(sum(not q.passed and q.error is None for q in qs)),
        errors=str(sum(q.error is not None for q in qs)),
        time=f"{report.run.get('duration_s', 0.0):.3f}",
    )
    for q in qs:
        case = ET.SubElement(suite, "testcase", classname="pressqa.eval", name=q.id, time=f"{q.latency_s or 0.0:.3f}")
        detail = _xml_text(
            f"question: {q.question}\nanswer: {q.answer}\nabstained: {q.abstained}\n"
            + "\n".join(f"{k}: {fmt(k, v)}" for k, v in q.metrics.items())
        )
        if q.error is not None:
            ET.SubElement(case, "error", message=_xml_text(q.error[:500]), type="ChainError").text = detail
        elif not q.passed:
            ET.SubElement(case, "failure", message=_xml_text(q.reason), type="EvalFailure").text = detail
        ET.SubElement(case, "system-out").text = detail
    root = ET.Element("testsuites", name="pressqa-eval", tests=suite.get("tests"), failures=suite.get("failures"), errors=suite.get("errors"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: EvalReport, path: Path) -> None:
    _write(path, render_junit(report))


def _write(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def print_summary(report: EvalReport, console: Console) -> None:
    s = report.summary
    table = Table(title=f"pressqa eval — {s['passed']}/{s['question_count']} passed, {s['errors']} errors")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in SUMMARY_METRICS:
        table.add_row(name, fmt(name, s.get(name)))
    console.print(table)
    if report.by_tag:
        tags = Table(title="by tag")
        for col in ("tag", "n", "passed", *TAG_COLUMNS):
            tags.add_column(col, justify="left" if col == "tag" else "right")
        for tag, t in report.by_tag.items():
            tags.add_row(tag, str(t["question_count"]), str(t["passed"]), *(fmt(c, t.get(c)) for c in TAG_COLUMNS))
        console.print(tags)
    for q in report.questions:
        if not q.passed:
            console.print(f"[red]FAIL[/red] {escape(q.id)}: {escape(q.reason)}", highlight=False)
    if report.newly_failing is not None:
        console.print(f"newly failing vs baseline: {', '.join(report.newly_failing) or 'none'}")
        console.print(f"newly passing vs baseline: {', '.join(report.newly_passing) or 'none'}")
    if report.gate is not None:
        g = report.gate
        for m in g["unmeasured"]:
            console.print(f"gate: {m} not measured on this gold set (not gated)")
        for m in g["missed"]:
            console.print(f"[red]gate missed:[/red] {escape(m)}")
        console.print("gate: " + ("passed" if g["passed"] else "FAILED"))
