"""Loads models and index once in the background, then indexes the bundled corpus; reports progress."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pressqa.settings import Settings

log = logging.getLogger("pressqa.api")

BATCH_FILES = 16


def corpus_files(corpus: Path) -> list[Path]:
    """The seed folder first, so the demo question is answerable within seconds, then the rest."""
    if not corpus.is_dir():
        return []
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(corpus).parts))
    seed = corpus / "seed"
    return [p for p in files if seed in p.parents] + [p for p in files if seed not in p.parents]


class Startup:
    """Owns the start-up thread; `write_lock` serializes every write to the index (bundled, uploads, deletes)."""

    def __init__(self, settings: Settings, runtime: Any, index_bundled: bool) -> None:
        self.settings = settings
        self.runtime = runtime
        self.index_bundled = index_bundled
        self.write_lock = threading.Lock()
        self.ready = threading.Event()
        self.error: str | None = None
        self.load_seconds: float | None = None
        self.indexing = False
        self.files_done = 0
        self.files_total = 0
        self.releases = 0
        self.chunks = 0
        self.index_errors = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pressqa-startup", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        if self.index_bundled:
            self.files_total = len(corpus_files(self.settings.corpus))
            self.indexing = True
        started = time.perf_counter()
        try:
            # Touching each part builds it once; the chain then shares them.
            self.runtime.store
            self.runtime.embedder
            llm = self.runtime.llm
            # The local model loads its weights on first use; do it now, not in the first user's answer.
            getattr(llm, "loaded", None)
            self.runtime.chain
            self._count()
        except Exception as exc:  # a missing model file must show in /readyz, not kill the server
            self.error = f"{type(exc).__name__}: {exc}"
            self.indexing = False
            log.exception("pressqa failed to load its models or index")
            return
        self.load_seconds = round(time.perf_counter() - started, 2)
        self.ready.set()
        log.info("pressqa ready in %.1fs (%d releases indexed)", self.load_seconds, self.releases)
        # Build the BM25 postings now rather than in the first user's answer (7.9 s at 50,000 chunks); a question
        # asked meanwhile waits for them. Later writes only re-read the releases that changed.
        try:
            self.runtime.lexical.refresh()
        except Exception:
            log.exception("building the lexical index failed; the first search retries")
        if self.index_bundled:
            self._index_bundled()

    def _index_bundled(self) -> None:
        files = corpus_files(self.settings.corpus)
        self.files_total = len(files)
        seed = self.settings.corpus / "seed"
        seeded = [p for p in files if seed in p.parents]
        rest = files[len(seeded) :]
        # The seed alone first: it is answerable seconds after start, before the big feeds are read.
        batches = ([seeded] if seeded else []) + [rest[i : i + BATCH_FILES] for i in range(0, len(rest), BATCH_FILES)]
        started = time.perf_counter()
        try:
            for batch in batches:
                done_before = self.files_done

                def progress(p, done_before=done_before) -> None:
                    self.files_done = done_before + getattr(p, "files_done", 0)

                try:
                    with self.write_lock:
                        summary = self.runtime.indexer.ingest(batch, progress=progress)
                    self.index_errors += len(getattr(summary, "errors", []) or [])
                except Exception:
                    self.index_errors += len(batch)
                    log.exception("indexing %s … failed", batch[0])
                self.files_done = done_before + len(batch)
                self._count()
        finally:
            self.indexing = False
        log.info("bundled corpus indexed in %.1fs: %d releases", time.perf_counter() - started, self.releases)

    def _count(self) -> None:
        try:
            self.releases = self.runtime.store.count_releases()
            self.chunks = self.runtime.store.count_chunks()
        except Exception:
            log.exception("counting the index failed")

    def status(self) -> dict:
        return {
            "ready": self.ready.is_set() and self.error is None,
            "error": self.error,
            "load_seconds": self.load_seconds,
            "indexing": {
                "active": self.indexing,
                "done": self.files_done,
                "total": self.files_total,
                "releases": self.releases,
                "chunks": self.chunks,
                "errors": self.index_errors,
            },
        }
