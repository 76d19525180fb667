"""A per-process copy of every committed chunk, in whatever form a search needs, kept in step with the store.

Both in-memory searches (BM25 and exact dense) keep one item per chunk of each release version. When the store's
revision changes (checked at most once a second), only the releases whose content hash the copy has not seen are
re-read; the search structure is then re-assembled from the kept items. A half-written update's chunks are never
read (the store returns only the committed version's), so a search sees every release whole or not at all.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any, Generic, TypeVar

import numpy as np

Item = TypeVar("Item")
Snapshot = TypeVar("Snapshot")


def published_ordinal(hit) -> int:
    """The chunk's release date as an ordinal for the date filters; 0 when undated."""
    return date.fromisoformat(hit.published).toordinal() if hit.published else 0


def filter_mask(
    ordinals: np.ndarray, sources: np.ndarray, since: date | None, until: date | None, source: str | None
) -> np.ndarray:
    """Which kept chunks a search's filters let through; an undated chunk passes no date bound (as in Chroma)."""
    mask = np.ones(len(ordinals), dtype=bool)
    if since:
        mask &= ordinals >= since.toordinal()
    if until:
        mask &= (ordinals <= until.toordinal()) & (ordinals > 0)
    if source:
        mask &= sources == source
    return mask


class StoreMirror(Generic[Item, Snapshot]):
    """Subclasses say how to read a release's chunks (`_read`) and how to assemble the kept items (`_assemble`)."""

    CHECK_EVERY_S = 1.0

    def __init__(self, store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._checked_at = 0.0
        self._local_writes = 0
        self._snapshot: Snapshot | None = None
        # release id → (content hash, its chunks' items), for the releases committed at the last sync.
        self._releases: dict[str, tuple[str, list[Item]]] = {}
        self.last_sync: dict[str, float] = {}

    def _read(self, versions: dict[str, str]) -> dict[str, list[Item]]:
        """The items of these release versions' chunks, in chunk order."""
        raise NotImplementedError

    def _assemble(self, items: list[Item]) -> Snapshot:
        """An immutable search structure over every kept item (safe to search without the lock)."""
        raise NotImplementedError

    def snapshot(self) -> Snapshot:
        """The current search structure, brought up to date first if the store changed."""
        with self._lock:
            self._fresh()
            return self._snapshot  # type: ignore[return-value]

    def refresh(self) -> None:
        """Bring the copy up to date now (e.g. right after an ingest in this process)."""
        with self._lock:
            self._checked_at = 0.0
            self._fresh()

    def _fresh(self) -> None:
        now = time.monotonic()
        # Another process's write shows within CHECK_EVERY_S; a write through this process's store at once, so that
        # a question asked right after an ingest or upload finds what was just added.
        local_writes = self.store.local_writes
        if self._snapshot is not None and local_writes == self._local_writes and now - self._checked_at < self.CHECK_EVERY_S:
            return
        rev = self.store.revision()
        self._checked_at, self._local_writes = now, local_writes
        if self._snapshot is not None and rev == self._revision:
            return
        self._sync(rev)

    def _sync(self, revision: str) -> None:
        t0 = time.perf_counter()
        versions = self.store.release_versions()
        stale = [rid for rid, h in versions.items() if self._releases.get(rid, ("",))[0] != h]
        kept: dict[str, tuple[str, list[Any]]] = {rid: self._releases[rid] for rid in versions if rid not in stale}
        for rid, items in self._read({rid: versions[rid] for rid in stale}).items():
            kept[rid] = (versions[rid], items)
        items = [item for _, release_items in kept.values() for item in release_items]
        self._snapshot = self._assemble(items)
        self._releases, self._revision = kept, revision
        self.last_sync = {"releases_read": len(stale), "chunks": len(items), "seconds": time.perf_counter() - t0}
