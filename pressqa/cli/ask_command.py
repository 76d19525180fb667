"""`pressqa ask`: one question from the command line, answered with numbered sources."""

from __future__ import annotations

import json
import sys

from rich.console import Console

from pressqa.settings import Settings


def ask_cli(question: str, settings: Settings, since=None, until=None, source=None, as_json: bool = False) -> int:
    from service.dates import parse_date
    from service.llm import LLMUnavailable
    from pressqa.runtime import Runtime

    err = Console(stderr=True)
    try:
        since_date, until_date = parse_date(since), parse_date(until)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    runtime = Runtime(settings)
    if runtime.store.count_releases() == 0:
        err.print(f"[red]error:[/] no releases indexed in {settings.data}; run `pressqa ingest PATH` first")
        return 2
    try:
        answer = runtime.chain.ask(question, since=since_date, until=until_date, source=source)
    except LLMUnavailable as exc:
        err.print(f"[red]error:[/] the language model is unavailable: {exc}")
        return 3
    if as_json:
        sys.stdout.write(json.dumps(answer.model_dump(exclude={"related"} if not answer.abstained else set()), ensure_ascii=False) + "\n")
        return 0
    out = Console(highlight=False)
    out.print(answer.answer)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            out.print(f"[{c.n}] {c.title} ({c.date or 'undated'}) {c.url or c.origin or ''}")
            out.print(f"    “{c.quote}” [dim](chars {c.start}–{c.end})[/]")
    elif answer.related:
        out.print("\n[bold]Closest releases[/]")
        for r in answer.related[:5]:
            out.print(f"- {r.title} ({r.date or 'undated'}) {r.url or r.origin or ''}")
    return 0
