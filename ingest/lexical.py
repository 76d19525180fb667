"""BM25 over every stored chunk, rebuilt from the store whenever its revision changes."""

from __future__ import annotations

import re
import threading
import time
from datetime import date

import numpy as np

# Words (with inner apostrophes/hyphens kept apart), and numbers with their $ / % so "$20" and "500" match.
_TOKEN = re.compile(r"\$?\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


_STOP = _stopwords()


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens without English stopwords."""
    out = []
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok and tok not in _STOP:
            out.append(tok)
    return out


class LexicalIndex:
    """Built lazily on first search; rebuilt only after the store's revision changed (checked ≤ once a second)."""

    CHECK_EVERY_S = 1.0

    def __init__(self, store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._checked_at = 0.0
        self._bm25 = None
        self._ids: list[str] = []
        self._ord = np.zeros(0, dtype=np.int64)  # published_ord, 0 when unknown
        self._source: np.ndarray = np.zeros(0, dtype=object)

    def _fresh(self) -> None:
        now = time.monotonic()
        if self._bm25 is not None and now - self._checked_at < self.CHECK_EVERY_S:
            return
        rev = self.store.revision()
        self._checked_at = now
        if self._bm25 is not None and rev == self._revision:
            return
        self._build(rev)

    def _build(self, revision: str) -> None:
        import bm25s

        ids, docs, ords, sources = [], [], [], []
        for hit in self.store.iter_chunks():
            ids.append(hit.chunk_id)
            # The title helps a chunk match questions naming the release.
            docs.append(tokenize(f"{hit.title}\n{hit.text}") or [""])
            ords.append(date.fromisoformat(hit.published).toordinal() if hit.published else 0)
            sources.append(hit.source)
        bm25 = bm25s.BM25()
        if docs:
            bm25.index(docs, show_progress=False)
        self._bm25, self._ids, self._revision = bm25, ids, revision
        self._ord = np.asarray(ords, dtype=np.int64)
        self._source = np.asarray(sources, dtype=object)

    def refresh(self) -> None:
        """Rebuild now if the store changed (e.g. right after an ingest in this process)."""
        with self._lock:
            self._checked_at = 0.0
            self._fresh()

    def search(
        self,
        query: str,
        k: int,
        since: date | None = None,
        until: date | None = None,
        source: str | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score), best first; only chunks with a positive score."""
        with self._lock:
            self._fresh()
            bm25, ids, ords, sources = self._bm25, self._ids, self._ord, self._source
        terms = [t for t in tokenize(query) if t in getattr(bm25, "vocab_dict", {})]
        if not ids or not terms or k <= 0:
            return []
        scores = np.asarray(bm25.get_scores(terms), dtype=np.float32)
        mask = scores > 0
        if since:
            mask &= ords >= since.toordinal()
        if until:
            mask &= (ords <= until.toordinal()) & (ords > 0)
        if source:
            mask &= sources == source
        cand = np.flatnonzero(mask)
        if cand.size == 0:
            return []
        top = cand[np.argsort(-scores[cand], kind="stable")[:k]]
        return [(ids[i], float(scores[i])) for i in top]
