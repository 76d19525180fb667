"""Hybrid retrieval: dense (exact cosine over the stored embeddings) + lexical (BM25) fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.records import ChunkHit

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of the very first ranks


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    source: str | None = None

    def narrowed(self, since: date | None, until: date | None) -> "Filters":
        """Intersect with a date window (from the question): the tighter bound wins."""
        new_since = max(d for d in (self.since, since) if d) if (self.since or since) else None
        new_until = min(d for d in (self.until, until) if d) if (self.until or until) else None
        return Filters(new_since, new_until, self.source)


@dataclass
class RankedRelease:
    release_id: str
    score: float
    hits: list[ChunkHit] = field(default_factory=list)

    @property
    def best(self) -> ChunkHit:
        return self.hits[0]


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank + 1)
    return fused


class HybridRetriever(BaseModel):
    """Dense + BM25 over the same chunks; `search` takes filters, or uses the defaults set on the instance."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    embedder: Any
    lexical: Any
    dense: Any
    dense_candidates: int = 40
    lexical_candidates: int = 40
    k: int = 8
    filters: Filters = Filters()

    def search(
        self, query: str, filters: Filters | None = None, k: int | None = None, query_embedding=None
    ) -> list[ChunkHit]:
        """The k best chunks for the query, fused from both rankings (pass the query's embedding if you have it)."""
        filters = filters or self.filters
        k = k or self.k
        if query_embedding is None:
            query_embedding = self.embedder.encode_query(query)
        dense_hits = self.dense.search(
            query_embedding, self.dense_candidates, since=filters.since, until=filters.until, source=filters.source
        )
        lexical_hits = self.lexical.search(
            query, self.lexical_candidates, since=filters.since, until=filters.until, source=filters.source
        )
        fused = reciprocal_rank_fusion([[cid for cid, _ in dense_hits], [cid for cid, _ in lexical_hits]])
        by_id = {h.chunk_id: h for h in self.store.get_chunks(list(fused))}
        # Only chunks of committed releases: a killed ingest can leave chunks without their release record.
        committed = self.store.committed([h.release_id for h in by_id.values()])
        ranked = [cid for cid in sorted(fused, key=fused.get, reverse=True) if cid in by_id and by_id[cid].release_id in committed]
        return [_with_score(by_id[cid], fused[cid]) for cid in ranked[:k]]

    def rank_releases(
        self, query: str, filters: Filters | None = None, k: int | None = None, query_embedding=None
    ) -> list[RankedRelease]:
        """Releases in order of their best chunk (a long transcript's many weak chunks must not outrank a short release)."""
        releases: dict[str, RankedRelease] = {}
        for hit in self.search(query, filters, k=k or max(self.k, 20), query_embedding=query_embedding):
            entry = releases.setdefault(hit.release_id, RankedRelease(hit.release_id, 0.0))
            entry.score = max(entry.score, hit.score)
            entry.hits.append(hit)
        return sorted(releases.values(), key=lambda r: r.score, reverse=True)


def _with_score(hit: ChunkHit, score: float) -> ChunkHit:
    from dataclasses import replace

    return replace(hit, score=score)
