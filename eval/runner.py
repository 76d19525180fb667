"""Runs eval sets through the answer chain (in process, or a running service over HTTP), one report per set.

Gold-facts sets (YAML) are asked against the corpus index (or the service's own index); a SQuAD 2.0 file is
indexed into a temporary data dir, never the user's, and asked through a chain built on it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from eval.asking import HttpChain, ask_with_deadline, warm_up
from eval.baseline import BaselineError, BaselineMissing, baseline_path, compare, load_baseline, write_baseline
from eval.gate import GateError, check_gate, load_thresholds
from eval.gold import GoldError, GoldQuestion, load_gold_file
from eval.metrics import QuestionResult, score_question, summarize, summarize_by_tag
from eval.reports import EvalReport, print_summary, write_json, write_junit, write_markdown
from eval.squad import SquadError, SquadFile, fixed_sample, load_squad, score_squad_question, squad_releases, summarize_squad
from pressqa.settings import Settings

DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "dev.yaml"


def default_timeout_s(settings: Settings | None) -> float:
    """Per-question deadline: four LLM calls' worth (condense, draft, retries), at least a minute."""
    return max(60.0, 4 * settings.llm_timeout_s) if settings else 120.0


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
    info = _index_info(summary, runtime)
    console.print(
        f"index: {info['releases']} releases ({info['added']} added, {info['updated']} updated, "
        f"{info['unchanged']} unchanged, {info['errors']} errors)"
    )
    if info["errors"]:
        console.print(f"[yellow]warning:[/yellow] {info['errors']} corpus file(s) failed to index; see `pressqa ingest`")
    return info


def _index_info(summary, runtime) -> dict:
    info = {k: _count(getattr(summary, k, None)) for k in ("added", "updated", "unchanged", "chunks", "skipped", "errors")}
    info["releases"] = runtime.store.count_releases()
    return info


def _count(value) -> int | None:
    if value is None:
        return None
    return len(value) if isinstance(value, (list, tuple, set, dict)) else int(value)


def ask_all(
    chain, items: Sequence, score: Callable[..., QuestionResult], timeout_s: float, console: Console, label: str
) -> list[QuestionResult]:
    """Ask every question (with its history, if any) and score it; errors and timeouts are scored, never raised."""
    results = []
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task(label, total=len(items))
        for item in items:
            progress.update(task, description=f"{label}: asking {escape(item.id)}")
            history = list(getattr(item, "history", None) or []) or None
            outcome = ask_with_deadline(chain, item.question, history, timeout_s)
            result = score(item, outcome.answer, error=outcome.error, latency_s=outcome.latency_s, timed_out=outcome.timed_out)
            results.append(result)
            status = "[green]pass[/green]" if result.passed else f"[red]FAIL[/red] {escape(result.reason)}"
            progress.console.print(f"{label} {len(results)}/{len(items)} {escape(item.id)}: {status}", highlight=False)
            progress.advance(task)
    return results


def run_eval(
    questions: Sequence[GoldQuestion],
    *,
    chain=None,
    settings: Settings | None = None,
    url: str | None = None,
    corpus: Path | None = None,
    console: Console | None = None,
    timeout_s: float | None = None,
    set_name: str = "gold",
    source: str = "",
) -> EvalReport:
    """One gold-facts set; see run_gold_sets."""
    return run_gold_sets({set_name: (source, list(questions))}, chain=chain, settings=settings, url=url, corpus=corpus,
                         console=console, timeout_s=timeout_s)[0]


def run_gold_sets(
    sets: dict[str, tuple[str, list[GoldQuestion]]],
    *,
    chain=None,
    settings: Settings | None = None,
    url: str | None = None,
    corpus: Path | None = None,
    console: Console | None = None,
    timeout_s: float | None = None,
) -> list[EvalReport]:
    """Ask every set's questions through one chain and score each set on its own.

    The chain is `chain` when given, else the service at `url`, else the in-process chain built from
    `settings` over `corpus` (default: settings.corpus), indexed first when missing or stale. Every mode asks
    one untimed warm-up question first.
    """
    console = console or Console(stderr=True)
    timeout_s = timeout_s or default_timeout_s(settings)
    t0 = time.perf_counter()
    run: dict = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "question_timeout_s": timeout_s}
    owned_http = None
    if chain is not None:
        run["target"] = f"chain {type(chain).__name__}"
    elif url:
        api_keys = settings.api_key_list if settings else []
        chain = owned_http = HttpChain(url, api_key=api_keys[0] if api_keys else None, timeout_s=timeout_s)
        run["target"] = f"service {url}"
    else:
        if settings is None:
            raise ValueError("run_gold_sets needs a chain, a url or settings")
        from pressqa.runtime import Runtime

        runtime = Runtime(settings)
        corpus = Path(corpus or settings.corpus)
        run["corpus"] = str(corpus)
        run["index"] = ensure_index(runtime, corpus, console)
        chain = runtime.chain
        run["target"] = f"in-process chain, llm_backend={settings.llm_backend}"
    first = next((q.question for _, qs in sets.values() for q in qs if not q.history), None)
    run["warm_up_s"] = warm_up(chain, first, timeout_s)
    reports = []
    try:
        for name, (source, questions) in sets.items():
            results = ask_all(chain, questions, score_question, timeout_s, console, name)
            reports.append(EvalReport(name, "gold", source, summarize(results), summarize_by_tag(results), results, run))
    finally:
        if owned_http is not None:
            owned_http.close()
    run["duration_s"] = round(time.perf_counter() - t0, 3)
    return reports


def run_squad(
    squad: SquadFile,
    questions: Sequence,
    *,
    settings: Settings,
    set_name: str,
    console: Console | None = None,
    timeout_s: float | None = None,
) -> EvalReport:
    """Index every paragraph of the file (the sample's questions still have all paragraphs to choose from) into
    a temporary data dir, then ask `questions` through a chain built on it."""
    from pressqa.runtime import Runtime

    console = console or Console(stderr=True)
    timeout_s = timeout_s or default_timeout_s(settings)
    t0 = time.perf_counter()
    run: dict = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "question_timeout_s": timeout_s}
    with tempfile.TemporaryDirectory(prefix="pressqa-squad-", ignore_cleanup_errors=True) as tmp:
        # Never the user's index: an on-disk store in the temporary dir, even when a Chroma server is configured.
        scratch = settings.model_copy(update={"data": Path(tmp) / "data", "chroma_url": None})
        runtime = Runtime(scratch)
        summary = runtime.indexer.ingest_releases(squad_releases(squad))
        run["index"] = _index_info(summary, runtime)
        run["target"] = f"in-process chain over a temporary index of {squad.path.name}, llm_backend={settings.llm_backend}"
        chain = runtime.chain
        run["warm_up_s"] = warm_up(chain, questions[0].question if questions else None, timeout_s)
        contexts = squad.contexts

        def score(q, answer, **kw):
            return score_squad_question(q, contexts, answer, **kw)

        results = ask_all(chain, questions, score, timeout_s, console, set_name)
    run["duration_s"] = round(time.perf_counter() - t0, 3)
    return EvalReport(set_name, "squad", str(squad.path), summarize_squad(results), summarize_by_tag_squad(results), results, run)


def summarize_by_tag_squad(results: Sequence[QuestionResult]) -> dict[str, dict]:
    tags = sorted({t for r in results for t in r.tags})
    return {t: summarize_squad([r for r in results if t in r.tags]) for t in tags}


def squad_set_name(path: Path, sample: int | None) -> str:
    return f"{Path(path).stem}-sample{sample}" if sample else Path(path).stem


def eval_cli(
    settings: Settings,
    gold: list[Path] | None = None,
    corpus: Path | None = None,
    url: str | None = None,
    json_out: Path | None = None,
    junit: Path | None = None,
    markdown: Path | None = None,
    baseline_dir: Path | None = None,
    write_baselines: bool = False,
    gate: Path | None = None,
    squad: Path | None = None,
    squad_sample: int | None = None,
    question_timeout_s: float | None = None,
) -> int:
    """`pressqa eval`: 0 when done and every check holds; 1 when a gate is missed or a baseline question
    regressed; 2 on bad input (including a missing baseline file)."""
    out = Console()
    err = Console(stderr=True)
    try:
        if squad is not None:
            if gold or url:
                raise SquadError("--squad runs on its own temporary index: it takes neither --gold nor --url")
            squad_file = load_squad(squad)
            names = [squad_set_name(squad, squad_sample)]
        else:
            gold_files = [Path(p) for p in gold] if gold else [DEFAULT_GOLD]
            names = [p.stem for p in gold_files]
            if len(set(names)) != len(names):
                raise GoldError(f"two gold files share a set name (file stem): {', '.join(names)}")
            gold_sets = _load_gold_sets(gold_files)
        thresholds = load_thresholds(gate) if gate else None
        baselines = {}
        if baseline_dir is not None:
            for name in names:
                try:
                    baselines[name] = load_baseline(baseline_path(baseline_dir, name))
                except BaselineMissing:
                    if not write_baselines:
                        raise
    except BaselineMissing as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}: there is no accepted run of this set to compare against.\n"
                  "Write one from a run you accept (and commit it, saying why): add --write-baseline to this command.")
        return 2
    except (GoldError, GateError, BaselineError, SquadError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    if write_baselines and baseline_dir is None:
        err.print("[red]error:[/red] --write-baseline needs --baseline-dir")
        return 2
    if url and corpus:
        err.print("note: --corpus is ignored with --url (the service evaluates its own index)")
    if not url and squad is None:
        corpus_root = Path(corpus or settings.corpus)
        if not corpus_root.exists():
            err.print(f"[red]error:[/red] corpus {escape(str(corpus_root))} does not exist")
            return 2

    if squad is not None:
        questions = fixed_sample(squad_file.questions, squad_sample) if squad_sample else squad_file.questions
        reports = [run_squad(squad_file, questions, settings=settings, set_name=names[0], console=err,
                             timeout_s=question_timeout_s)]
    else:
        reports = run_gold_sets(gold_sets, settings=settings, url=url, corpus=corpus, console=err, timeout_s=question_timeout_s)

    for report in reports:
        if baseline_dir is not None:
            path = baseline_path(baseline_dir, report.set_name)
            if report.set_name in baselines:
                report.baseline = compare(baselines[report.set_name], report.questions, str(path))
            if write_baselines:
                write_baseline(path, report.set_name, report.source, report.run.get("target", ""), report.summary, report.questions)
                err.print(f"baseline written: {path} ({report.summary['passed']}/{report.summary['question_count']} passed)")
        if thresholds is not None:
            missed, unmeasured = check_gate(report.summary, thresholds, report.set_name)
            report.gate = {"file": str(gate), "missed": missed, "unmeasured": unmeasured, "passed": not missed and not unmeasured}

    if json_out:
        write_json(reports, json_out)
    if markdown:
        write_markdown(reports, markdown)
    if junit:
        write_junit(reports, junit)
    for report in reports:
        print_summary(report, out)
    gate_failed = any(r.gate is not None and not r.gate["passed"] for r in reports)
    # Writing the baseline accepts this run's outcome: its regressions are then the change being landed.
    regressed = not write_baselines and any(r.regressed for r in reports)
    return 1 if gate_failed or regressed else 0


def _load_gold_sets(paths: list[Path]) -> dict[str, tuple[str, list[GoldQuestion]]]:
    """Each file a set, named by its stem; ids must be unique across all of them (one report per run)."""
    sets, seen = {}, {}
    for path in paths:
        questions = load_gold_file(path)
        for q in questions:
            if q.id in seen:
                raise GoldError(f"{q.file}:{q.line}: id={q.id}: duplicate id (first at {seen[q.id]})")
            seen[q.id] = f"{q.file}:{q.line}"
        sets[path.stem] = (str(path), questions)
    return sets
