"""Runs gold questions through the answer chain (in process, or a running service over HTTP) and reports."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from eval.gate import GateError, check_gate, load_thresholds
from eval.gold import GoldError, GoldQuestion, load_gold
from eval.metrics import score_question, summarize, summarize_by_tag
from eval.reports import (
    BaselineError,
    EvalReport,
    diff_baseline,
    load_baseline,
    print_summary,
    write_json,
    write_junit,
    write_markdown,
)
from pressqa.settings import Settings
from service.records import Answer, Message

DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "dev.yaml"


class HttpChain:
    """The chain of a running pressqa service, asked through POST /api/ask."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 120.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def ask(self, question: str, history: list[Message] | None = None) -> Answer:
        body = {"question": question, "history": [m.model_dump() for m in history or []]}
        response = self.client.post("/api/ask", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code} from {self.url}/api/ask: {response.text[:300]}")
        return Answer.model_validate(response.json())

    def close(self) -> None:
        self.client.close()


def ensure_index(runtime, corpus: Path, console: Console) -> dict:
    """Ingest the corpus root; releases already indexed unchanged are skipped, so an up-to-date index costs little."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("files · {task.fields[chunks]} chunks"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task(f"indexing {corpus}", total=None, chunks=0)

        def on_progress(p) -> None:  # ingest.pipeline.IngestProgress
            progress.update(task, completed=p.files_done, total=p.files_total or None, chunks=p.chunks)

        summary = runtime.indexer.ingest([corpus], progress=on_progress)
    info = {k: _count(getattr(summary, k, None)) for k in ("added", "updated", "unchanged", "chunks", "skipped", "errors")}
    info["releases"] = runtime.store.count_releases()
    console.print(
        f"index: {info['releases']} releases ({info['added']} added, {info['updated']} updated, "
        f"{info['unchanged']} unchanged, {info['errors']} errors)"
    )
    if info["errors"]:
        console.print(f"[yellow]warning:[/yellow] {info['errors']} corpus file(s) failed to index; see `pressqa ingest`")
    return info


def _count(value) -> int | None:
    if value is None:
        return None
    return len(value) if isinstance(value, (list, tuple, set, dict)) else int(value)


def warm_up(chain, questions: Sequence[GoldQuestion]) -> float | None:
    """One untimed question first: latency figures are for a warm chain (models in memory, BM25 built)."""
    if not questions:
        return None
    start = time.perf_counter()
    try:
        chain.ask(questions[0].question)
    except Exception:  # the timed run will record the failure
        return None
    return round(time.perf_counter() - start, 3)


def run_eval(
    questions: Sequence[GoldQuestion],
    *,
    chain=None,
    settings: Settings | None = None,
    url: str | None = None,
    corpus: Path | None = None,
    console: Console | None = None,
) -> EvalReport:
    """Ask every question (with its history) and score it; a question whose chain raises is recorded as failed.

    The chain is `chain` when given, else the service at `url`, else the in-process chain built from
    `settings` over `corpus` (default: settings.corpus), indexed first when missing or stale.
    """
    console = console or Console(stderr=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    run: dict = {"started_at": started.isoformat(timespec="seconds")}
    if chain is not None:
        run["target"] = f"chain {type(chain).__name__}"
    elif url:
        api_keys = settings.api_key_list if settings else []
        timeout = max(60.0, 4 * settings.llm_timeout_s) if settings else 120.0
        chain = HttpChain(url, api_key=api_keys[0] if api_keys else None, timeout_s=timeout)
        run["target"] = f"service {url}"
    else:
        if settings is None:
            raise ValueError("run_eval needs a chain, a url or settings")
        from pressqa.runtime import Runtime

        runtime = Runtime(settings)
        corpus = Path(corpus or settings.corpus)
        run["corpus"] = str(corpus)
        run["index"] = ensure_index(runtime, corpus, console)
        chain = runtime.chain
        run["target"] = f"in-process chain, llm_backend={settings.llm_backend}"
        run["warm_up_s"] = warm_up(chain, questions)

    results = []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task("questions", total=len(questions))
        for q in questions:
            progress.update(task, description=f"asking {escape(q.id)}")
            answer, error, latency = None, None, None
            start = time.perf_counter()
            try:
                raw = chain.ask(q.question, history=list(q.history) or None)
                latency = time.perf_counter() - start
                answer = raw if isinstance(raw, Answer) else Answer.model_validate(raw)
            except Exception as exc:  # one failing question never stops the run
                error = f"{type(exc).__name__}: {exc}"
            result = score_question(q, answer, error=error, latency_s=latency)
            results.append(result)
            status = "[green]pass[/green]" if result.passed else f"[red]FAIL[/red] {escape(result.reason)}"
            progress.console.print(f"{len(results)}/{len(questions)} {escape(q.id)}: {status}", highlight=False)
            progress.advance(task)
    if isinstance(chain, HttpChain):
        chain.close()
    run["duration_s"] = round(time.perf_counter() - t0, 3)
    return EvalReport(summary=summarize(results), by_tag=summarize_by_tag(results), questions=results, run=run)


def eval_cli(
    settings: Settings,
    gold: list[Path] | None = None,
    corpus: Path | None = None,
    url: str | None = None,
    json_out: Path | None = None,
    junit: Path | None = None,
    markdown: Path | None = None,
    baseline: Path | None = None,
    gate: Path | None = None,
) -> int:
    """`pressqa eval`: 0 when done (and the gate holds), 1 when a threshold is missed, 2 on bad input."""
    out = Console()
    err = Console(stderr=True)
    gold_files = [Path(p) for p in gold] if gold else [DEFAULT_GOLD]
    try:
        questions = load_gold(gold_files)
        thresholds = load_thresholds(gate) if gate else None
        previous = load_baseline(baseline) if baseline else None
    except (GoldError, GateError, BaselineError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    if url and corpus:
        err.print("note: --corpus is ignored with --url (the service evaluates its own index)")
    if not url:
        corpus_root = Path(corpus or settings.corpus)
        if not corpus_root.exists():
            err.print(f"[red]error:[/red] corpus {escape(str(corpus_root))} does not exist")
            return 2

    report = run_eval(questions, settings=settings, url=url, corpus=corpus, console=err)
    report.run["gold"] = [str(p) for p in gold_files]
    if previous is not None:
        report.run["baseline"] = str(baseline)
        report.newly_failing, report.newly_passing = diff_baseline(previous, report.questions)
    if thresholds is not None:
        missed, unmeasured = check_gate(report.summary, thresholds)
        report.gate = {"file": str(gate), "missed": missed, "unmeasured": unmeasured, "passed": not missed}

    if json_out:
        write_json(report, json_out)
    if markdown:
        write_markdown(report, markdown)
    if junit:
        write_junit(report, junit)
    print_summary(report, out)
    return 1 if report.gate is not None and not report.gate["passed"] else 0
