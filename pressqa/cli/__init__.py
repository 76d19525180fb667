"""The `pressqa` command: the composition root that builds Settings and hands them down."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

from pressqa.logs import quiet_libraries

# Offline, no telemetry, no library progress bars: set before any library is imported.
quiet_libraries()

import typer  # noqa: E402

from pressqa.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Question answering over press releases.")

DataOpt = Annotated[Optional[Path], typer.Option("--data", help="Data dir (default: $PRESSQA_DATA or ./data).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def _guarded(run, *args, **kwargs) -> int:
    """Run a command's body; a data dir held by another process is a clear message and exit 2, not a traceback."""
    from core.store_lock import DataDirInUse

    try:
        return run(*args, **kwargs)
    except DataDirInUse as exc:
        typer.echo(f"pressqa: cannot open the data dir: {exc}", err=True)
        return 2


def make_settings(data: Path | None = None, **overrides) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data is not None:
        values["data"] = data
    return Settings(**values)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (recursed) or feeds.")],
    data: DataOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Index press releases from files, folders and RSS/Atom feeds."""
    from pressqa.cli.index_commands import ingest_cli

    raise typer.Exit(_guarded(ingest_cli, paths, make_settings(data), as_json=as_json))


@app.command()
def releases(
    data: DataOpt = None,
    as_json: JsonOpt = False,
    since: Annotated[Optional[str], typer.Option(help="Only releases published on/after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only releases published on/before this date.")] = None,
) -> None:
    """List indexed releases: id, date, title, chunk count."""
    from pressqa.cli.index_commands import releases_cli

    raise typer.Exit(_guarded(releases_cli, make_settings(data), as_json=as_json, since=since, until=until))


@app.command()
def delete(
    release_ids: Annotated[list[str], typer.Argument(help="Release ids (as listed by `pressqa releases`).")],
    data: DataOpt = None,
) -> None:
    """Delete releases and all their chunks."""
    from pressqa.cli.index_commands import delete_cli

    raise typer.Exit(_guarded(delete_cli, release_ids, make_settings(data)))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    data: DataOpt = None,
    since: Annotated[Optional[str], typer.Option(help="Only releases published on/after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only releases published on/before this date.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only releases from this source/publisher.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the indexed releases, citing the exact sentences, or abstain."""
    from pressqa.cli.ask_command import ask_cli

    raise typer.Exit(_guarded(ask_cli, question, make_settings(data), since=since, until=until, source=source, as_json=as_json))


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port.")] = None,
    data: DataOpt = None,
    index_bundled: Annotated[bool, typer.Option(help="Index the bundled corpus in the background.")] = False,
) -> None:
    """Serve the OpenAI-compatible API, the native API and the chat page."""
    from service.api.server import serve as run_server

    run_server(make_settings(data, host=host, port=port), index_bundled=index_bundled)


@app.command(name="eval")
def evaluate(
    gold: Annotated[Optional[list[Path]], typer.Option("--gold", help="Gold-facts YAML file(s); each is a set, reported on its own.")] = None,
    squad: Annotated[Optional[Path], typer.Option("--squad", help="A SQuAD 2.0 JSON file, indexed into a temporary data dir.")] = None,
    squad_sample: Annotated[Optional[int], typer.Option("--squad-sample", help="Ask only a fixed, stratified sample of this many SQuAD questions.")] = None,
    data: DataOpt = None,
    corpus: Annotated[Optional[Path], typer.Option(help="Corpus root to index (default: bundled corpus).")] = None,
    url: Annotated[Optional[str], typer.Option(help="Evaluate a running pressqa service instead.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the JSON report here.")] = None,
    junit: Annotated[Optional[Path], typer.Option(help="Write JUnit XML here.")] = None,
    markdown: Annotated[Optional[Path], typer.Option(help="Write a Markdown summary here.")] = None,
    baseline_dir: Annotated[Optional[Path], typer.Option("--baseline-dir", help="Per-question baselines (<set>.json); fail when a baseline pass fails now.")] = None,
    write_baseline: Annotated[bool, typer.Option("--write-baseline", help="Write this run's outcome as the baseline of each set (into --baseline-dir).")] = False,
    gate: Annotated[Optional[Path], typer.Option(help="Thresholds file; exit non-zero when one is missed or unmeasured.")] = None,
    question_timeout: Annotated[Optional[float], typer.Option("--question-timeout", help="Seconds per question (default: max(60, 4 x PRESSQA_LLM_TIMEOUT_S)).")] = None,
) -> None:
    """Run the evaluation (gold-facts sets or a SQuAD 2.0 file) and write reports."""
    from eval.runner import eval_cli

    raise typer.Exit(
        _guarded(
            eval_cli,
            make_settings(data),
            gold=gold,
            corpus=corpus,
            url=url,
            json_out=json_out,
            junit=junit,
            markdown=markdown,
            baseline_dir=baseline_dir,
            write_baselines=write_baseline,
            gate=gate,
            squad=squad,
            squad_sample=squad_sample,
            question_timeout_s=question_timeout,
        )
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
