"""What every benchmark runs on: the releases (loaded once, with our loaders) and the dev gold questions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eval.gold import GoldQuestion, load_gold
from eval.metrics import recall_at_k, release_matches
from core.records import Release

DEV_GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold" / "dev.yaml"


@dataclass(frozen=True)
class Query:
    """One gold question as retrieval sees it: the same query string for both pipelines."""

    id: str
    text: str
    gold: GoldQuestion


@dataclass(frozen=True)
class Retrieved:
    """What eval.metrics needs to match a retrieved release against a gold source."""

    release_id: str
    url: str | None
    origin: str | None


def load_releases(paths: list[Path]) -> tuple[list[Release], list[dict]]:
    """Every release under the paths, as the indexer would load it; files that fail are reported."""
    from ingest.loaders import BrokenFile, UnsupportedFile, iter_release_files, load_file

    releases, problems = [], []
    for path in iter_release_files(paths):
        try:
            releases.extend(load_file(path))
        except (UnsupportedFile, BrokenFile) as e:
            problems.append({"path": str(path), "reason": str(e)})
    # An id loaded twice (a feed repeating an item) would be one release in the store: keep the first.
    unique = list({r.id: r for r in reversed(releases)}.values())[::-1]
    return unique, problems


def select(releases: list[Release], gold: list[GoldQuestion], limit: int | None) -> list[Release]:
    """All releases, or `limit` of them: every gold source first, then others evenly spread over the corpus."""
    if not limit or limit >= len(releases):
        return releases
    sources = [s for q in gold for s in q.sources]
    is_gold = [any(release_matches(r.id, r.url, r.origin, s) for s in sources) for r in releases]
    chosen = [r for r, g in zip(releases, is_gold) if g][:limit]
    rest = [r for r, g in zip(releases, is_gold) if not g]
    need = limit - len(chosen)
    if need > 0 and rest:
        step = len(rest) / need
        chosen += [rest[int(i * step)] for i in range(min(need, len(rest)))]
    return chosen


def gold_questions(path: Path = DEV_GOLD) -> list[GoldQuestion]:
    return load_gold(path)


def retrieval_queries(gold: list[GoldQuestion], answerable_only: bool = True) -> list[Query]:
    """Follow-ups are made standalone by pressqa's own condense step (no LLM), then used by both pipelines."""
    from service.condense import condense

    out = []
    for q in gold:
        if answerable_only and not (q.answerable and q.sources):
            continue
        out.append(Query(q.id, condense(q.question, list(q.history) or None).retrieval_query, q))
    return out


def mean_recall(ranked: dict[str, list[Retrieved]], queries: list[Query], k: int = 5) -> float:
    """Mean recall@k of the gold sources over the queries (eval.metrics.recall_at_k per question)."""
    values = [recall_at_k(ranked[q.id], q.gold.sources, k) for q in queries]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else 0.0
