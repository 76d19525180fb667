"""`pressqa ingest`, `pressqa releases`, `pressqa delete`: the index's commands, over ingest.pipeline and core.store."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from ingest.pipeline import Indexer, IngestProgress


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--{name} must be a date like 2025-01-31, not {value!r}") from None


def ingest_cli(paths: Sequence[Path], settings, as_json: bool = False) -> int:
    """`pressqa ingest`: progress on stderr, then a summary (or one JSON object on stdout)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.embeddings import make_embedder
    from core.store import make_store

    err = Console(stderr=True)
    missing = [str(p) for p in paths if not Path(p).exists()]
    store = make_store(settings)
    embedder = make_embedder(settings)
    indexer = Indexer(store, embedder, max_tokens=settings.chunk_max_tokens)
    columns = (
        TextColumn("[bold]indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("releases · {task.fields[chunks]} chunks · {task.fields[files]} files"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=as_json, disable=not err.is_terminal) as bar:
        task = bar.add_task("ingest", total=None, chunks=0, files="0/?")

        def show(p: IngestProgress) -> None:
            bar.update(
                task,
                completed=p.releases_done,
                total=max(p.releases_loaded, p.releases_done),
                chunks=p.chunks,
                files=f"{p.files_done}/{p.files_total}",
            )

        summary = indexer.ingest([p for p in paths if Path(p).exists()], progress=show)
    summary.errors.extend({"path": p, "error": "no such file or folder"} for p in missing)
    if as_json:
        sys.stdout.write(summary.to_json() + "\n")
    else:
        _print_summary(summary, store)
    return 1 if summary.errors else 0


def _print_summary(summary: IngestSummary, store) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console()
    table = Table(title="ingest", show_header=False)
    for label, value in (
        ("added", summary.added),
        ("updated", summary.updated),
        ("unchanged", summary.unchanged),
        ("chunks written", summary.chunks),
        ("skipped files", len(summary.skipped)),
        ("failed files", len(summary.errors)),
        ("releases in store", store.count_releases()),
        ("chunks in store", store.count_chunks()),
    ):
        table.add_row(label, str(value))
    out.print(table)
    for s in summary.skipped:
        out.print(f"[yellow]skipped[/] {s['path']}: {s['reason']}", highlight=False)
    for e in summary.encodings:
        out.print(f"[cyan]decoded[/] {e['path']} as {e['encoding']} (not UTF-8)", highlight=False)
    for e in summary.errors:
        out.print(f"[red]error[/] {e['path']}: {e['error']}", highlight=False)


def releases_cli(settings, as_json: bool = False, since: str | None = None, until: str | None = None) -> int:
    """`pressqa releases`: id, date, title, chunk count, newest first."""
    from rich.console import Console
    from rich.table import Table

    from core.store import make_store

    try:
        start, end = _parse_date(since, "since"), _parse_date(until, "until")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    metas = make_store(settings).list_releases(since=start, until=end)
    if as_json:
        rows = [{"id": m.id, "date": m.published, "title": m.title, "chunks": m.chunk_count} for m in metas]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    table = Table("id", "date", "title", "chunks")
    for m in metas:
        table.add_row(m.id, m.published or "", m.title, str(m.chunk_count))
    Console().print(table)
    return 0


def delete_cli(ids: Sequence[str], settings) -> int:
    """`pressqa delete`: non-zero when an id is unknown."""
    from core.store import make_store

    store = make_store(settings)
    status = 0
    for rid in ids:
        if store.delete(rid):
            print(f"deleted {rid}")
        else:
            print(f"unknown release id: {rid}", file=sys.stderr)
            status = 1
    return status
