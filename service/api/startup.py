"""Loads models and index once in the background, then indexes the bundled corpus; reports progress.

Each phase logs one line with its duration; progress counts releases and chunks really written (a feed's items
too), so /readyz and the page's bar move while a 2,031-item feed is indexed.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from pressqa.logs import seconds
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


def _describe_llm(llm: Any) -> str:
    loaded = getattr(llm, "loaded", None)  # the local model, already loaded by then
    dtype = getattr(loaded, "dtype_name", None)
    return f"{type(llm).__name__}, {dtype}" if dtype else type(llm).__name__


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
        self.phase = "starting"
        self.indexing = False
        self.files_done = 0
        self.files_total = 0
        self.releases_done = 0  # of the bundled corpus: written, or found unchanged
        self.releases_total = 0  # estimated up front (feed items counted by their tags)
        self.chunks_written = 0
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

    def _phase(self, name: str, build, describe=None) -> Any:
        """Run one start-up step and log one line: what it was and how long it took."""
        self.phase = name
        started = time.perf_counter()
        result = build()
        detail = f" ({describe(result)})" if describe else ""
        log.info("%s%s in %s", name, detail, seconds(time.perf_counter() - started))
        return result

    def _run(self) -> None:
        files = corpus_files(self.settings.corpus) if self.index_bundled else []
        if self.index_bundled:
            self.files_total = len(files)
            self.releases_total = self._estimate(files)
            self.indexing = True
        started = time.perf_counter()
        try:
            # Touching each part builds it once; the chain then shares them.
            store = self._phase("store opened", lambda: self.runtime.store, lambda s: f"{s.count_releases():,} releases")
            self._phase("embedder loaded", lambda: self.runtime.embedder, lambda e: getattr(e, "dtype", "?"))
            llm = self._phase("language model loaded", self._load_llm, _describe_llm)
            self._phase("answer chain built", lambda: self.runtime.chain)
            del store, llm
            self._count()
        except Exception as exc:  # a missing model file must show in /readyz, not kill the server
            self.error = f"{type(exc).__name__}: {exc}"
            self.indexing = False
            self.phase = "failed"
            log.exception("pressqa failed to load its models or index")
            return
        self.load_seconds = round(time.perf_counter() - started, 2)
        self.ready.set()
        self.phase = "ready"
        log.info("ready in %s: %s releases indexed, questions are answered now", seconds(self.load_seconds), f"{self.releases:,}")
        # Build the BM25 postings and the dense matrix now rather than in the first user's answer (7.9 s at 50,000
        # chunks for BM25); a question asked meanwhile waits for them. Later writes only re-read what changed.
        for name, refresh in (("lexical", self.runtime.lexical.refresh), ("dense", self.runtime.dense.refresh)):
            try:
                self._phase(f"{name} index built", refresh)
            except Exception:
                log.exception("building the %s index failed; the first search retries", name)
        if self.index_bundled:
            self._index_bundled(files)

    def _load_llm(self) -> Any:
        llm = self.runtime.llm
        # The local model loads its weights on first use; do it now, not in the first user's answer.
        getattr(llm, "loaded", None)
        return llm

    def _estimate(self, files: list[Path]) -> int:
        estimate = getattr(self.runtime, "estimate_releases", None)
        try:
            return int(estimate(files)) if estimate else len(files)
        except Exception:
            log.exception("estimating the bundled corpus's size failed; counting files instead")
            return len(files)

    def _index_bundled(self, files: list[Path]) -> None:
        seed = self.settings.corpus / "seed"
        seeded = [p for p in files if seed in p.parents]
        rest = files[len(seeded) :]
        # The seed alone first: it is answerable seconds after start, before the big feeds are read.
        batches = ([seeded] if seeded else []) + [rest[i : i + BATCH_FILES] for i in range(0, len(rest), BATCH_FILES)]
        self.phase = "indexing the bundled corpus"
        started = time.perf_counter()
        try:
            for batch in batches:
                files_before, releases_before, chunks_before = self.files_done, self.releases_done, self.chunks_written

                def progress(p, files_before=files_before, releases_before=releases_before, chunks_before=chunks_before) -> None:
                    self.files_done = files_before + getattr(p, "files_done", 0)
                    self.releases_done = releases_before + getattr(p, "releases_done", 0)
                    self.chunks_written = chunks_before + getattr(p, "chunks", 0)

                try:
                    with self.write_lock:
                        summary = self.runtime.indexer.ingest(batch, progress=progress)
                    self.index_errors += len(getattr(summary, "errors", []) or [])
                except Exception:
                    self.index_errors += len(batch)
                    log.exception("indexing %s … failed", batch[0])
                self.files_done = files_before + len(batch)
                self.releases_total = max(self.releases_total, self.releases_done)
                self._count()
                if batch is seeded:
                    log.info("seed indexed in %s: the demo question is answerable", seconds(time.perf_counter() - started))
        finally:
            self.indexing = False
            # Done is done: an overestimate (a broken file, an empty feed item) must not leave the bar short.
            self.releases_total = self.releases_done = max(self.releases_total, self.releases_done)
        self.phase = "ready"
        log.info(
            "bundled corpus indexed in %s: %s releases, %s chunks in the index (%s chunks written, %d files failed)",
            seconds(time.perf_counter() - started), f"{self.releases:,}", f"{self.chunks:,}", f"{self.chunks_written:,}",
            self.index_errors,
        )

    def _count(self) -> None:
        try:
            self.releases = self.runtime.store.count_releases()
            self.chunks = self.runtime.store.count_chunks()
        except Exception:
            log.exception("counting the index failed")

    def status(self) -> dict:
        total = self.releases_total
        return {
            "ready": self.ready.is_set() and self.error is None,
            "error": self.error,
            "phase": self.phase,
            "load_seconds": self.load_seconds,
            "indexing": {
                "active": self.indexing,
                "done": self.files_done,
                "total": self.files_total,
                "releases_done": min(self.releases_done, total) if total else self.releases_done,
                "releases_total": total,
                "percent": round(100 * min(self.releases_done, total) / total, 1) if total else (0.0 if self.indexing else 100.0),
                "chunks_written": self.chunks_written,
                "releases": self.releases,
                "chunks": self.chunks,
                "errors": self.index_errors,
            },
        }
