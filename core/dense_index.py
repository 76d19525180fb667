"""Exact cosine search over every committed chunk's stored embedding, kept in step with the store (core.mirror).

Why not Chroma's HNSW search: it is approximate, and its graph is not the same from one build of the same corpus
to the next. Two fresh indexes of the bundled corpus, with bitwise-identical embeddings, returned different top-40
lists for 41 of 300 perturbed chunk queries (recall against exact search 0.993 on both), missing items as high as
rank 5; over-fetching 4× still left 15 of 300 different. The reader's fit and the eval's baselines then moved with
the build (a train question crossed the abstention threshold on one clean clone and not on another). An exact
search is the same on every build, and cheap here: one matrix-vector product over 12,488 × 384 floats is about a
millisecond (77 MB and a few ms at 50,000 chunks). Chroma stays the store of record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from core.mirror import StoreMirror, filter_mask, published_ordinal


@dataclass(frozen=True)
class _Row:
    chunk_id: str
    vector: np.ndarray  # float32, unit length
    ordinal: int  # published date ordinal, 0 when unknown
    source: str | None


class _Matrix:
    """Immutable: unit vectors in rows, with the filter fields; safe to search unlocked."""

    def __init__(self, rows: list[_Row]) -> None:
        self.ids = [r.chunk_id for r in rows]
        self.vectors = np.stack([r.vector for r in rows]) if rows else np.zeros((0, 0), dtype=np.float32)
        self.ordinals = np.fromiter((r.ordinal for r in rows), dtype=np.int64, count=len(rows))
        self.sources = np.asarray([r.source for r in rows], dtype=object)
        # Ties (the same text in two releases) are broken by chunk id, not by the order releases were read in.
        self.id_rank = np.argsort(np.argsort(np.asarray(self.ids, dtype=object))) if rows else np.zeros(0, dtype=np.int64)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)


class DenseIndex(StoreMirror[_Row, _Matrix]):
    """Built lazily on first search; brought up to date when the store's revision changed (checked ≤ once a second)."""

    def _read(self, versions: dict[str, str]) -> dict[str, list[_Row]]:
        return {
            rid: [
                _Row(hit.chunk_id, _unit(vector), published_ordinal(hit), hit.source)
                for hit, vector in sorted(rows, key=lambda row: row[0].index)
            ]
            for rid, rows in self.store.chunk_vectors_by_release(versions).items()
        }

    def _assemble(self, items: list[_Row]) -> _Matrix:
        return _Matrix(items)

    def search(
        self,
        query_embedding: np.ndarray,
        k: int,
        since: date | None = None,
        until: date | None = None,
        source: str | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first, over the chunks the filters let through."""
        matrix = self.snapshot()
        if not matrix.ids or k <= 0:
            return []
        # One product over every row (no copy of the matrix), then the filters.
        scores = matrix.vectors @ _unit(np.asarray(query_embedding, dtype=np.float32))
        cand = np.flatnonzero(filter_mask(matrix.ordinals, matrix.sources, since, until, source))
        if cand.size == 0:
            return []
        scores = scores[cand]
        if cand.size > k:
            # The k best and every row tied with the k-th, then ordered exactly (score, then chunk id).
            cut = np.partition(scores, cand.size - k)[cand.size - k]
            keep = np.flatnonzero(scores >= cut)
            cand, scores = cand[keep], scores[keep]
        order = np.lexsort((matrix.id_rank[cand], -scores))[:k]
        return [(matrix.ids[cand[i]], float(scores[i])) for i in order]
