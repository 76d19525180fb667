"""Ingest as a list of steps: load → chunk → embed → store (the commands over it live in pressqa.cli)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from core.chunking import chunk_release
from core.records import Chunk, Release

# Chunks embedded per encode call: large enough to sort by length and keep both cores busy.
GROUP_CHUNKS = 512
UTF8_NAMES = {"utf-8", "utf-8-sig", "ascii"}


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0  # chunks written in this run
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    errors: list[dict] = field(default_factory=list)  # {"path", "error"}
    # Files read in an encoding other than UTF-8 (a legacy one found by charset-normalizer, or declared).
    encodings: list[dict] = field(default_factory=list)  # {"path", "encoding"}
    # Same text and metadata as a stored release under another file name: left unchanged, and the title the
    # new name would give is not applied (a title taken from a file name is a label, not content).
    titles_kept: list[dict] = field(default_factory=list)  # {"id", "path", "title", "name_title"}

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass
class IngestProgress:
    """Passed to the progress callback after each file read and each group stored; counts what is really done.

    A feed is one file but thousands of releases, so progress is counted in releases: `releases_done` are
    written (this run) or found unchanged or skipped, out of `releases_loaded` read so far.
    """

    files_done: int = 0
    files_total: int = 0
    releases_loaded: int = 0
    releases_written: int = 0
    releases_passed: int = 0  # unchanged, duplicate ids, no text: done without a write
    chunks: int = 0  # chunks written in this run

    @property
    def releases_done(self) -> int:
        return self.releases_written + self.releases_passed


@dataclass
class _Group:
    releases: list[Release] = field(default_factory=list)
    chunks: list[list[Chunk]] = field(default_factory=list)
    files_done: int = 0  # files fully loaded once this group is stored

    @property
    def n_chunks(self) -> int:
        return sum(len(c) for c in self.chunks)


_DONE = object()


class Indexer:
    """Writes releases into the store; unchanged ones cost one metadata read and no write."""

    def __init__(self, store, embedder, max_tokens: int = 256) -> None:
        self.store = store
        self.embedder = embedder
        self.max_tokens = max_tokens
        self._lock = threading.Lock()  # one ingest at a time per process

    def ingest(self, paths: Iterable[str | Path], progress: Callable[[IngestProgress], None] | None = None) -> IngestSummary:
        """Index files and folders; a file that fails to load is reported and writes nothing."""
        from ingest.loaders import iter_release_files

        files = list(iter_release_files([Path(p) for p in paths]))
        return self._run(self._load_files(files), len(files), progress)

    @staticmethod
    def estimate_releases(paths: Iterable[str | Path]) -> int:
        """Releases the files will give (feed items counted), for a progress bar's total before any is read."""
        from ingest.loaders import estimate_releases, iter_release_files

        return sum(estimate_releases(path) for path in iter_release_files([Path(p) for p in paths]))

    def ingest_releases(
        self, releases: Iterable[Release], progress: Callable[[IngestProgress], None] | None = None
    ) -> IngestSummary:
        """Index already loaded releases (uploads, tests)."""
        return self._run(iter([(None, list(releases), None)]), 1, progress)

    def _load_files(self, files: Sequence[Path]) -> Iterator[tuple[str, list[Release] | None, tuple[str, str] | None]]:
        from ingest.loaders import BrokenFile, PartialFile, UnsupportedFile, load_file

        for path in files:
            try:
                yield str(path), load_file(path), None
            except PartialFile as e:  # a feed cut off: its complete items are kept, the break is reported
                yield str(path), e.releases, ("error", str(e))
            except UnsupportedFile as e:
                yield str(path), None, ("skipped", str(e) or "unsupported file")
            except BrokenFile as e:
                yield str(path), None, ("error", str(e) or "broken file")
            except Exception as e:  # a loader bug must not stop the other files
                yield str(path), None, ("error", f"{type(e).__name__}: {e}")

    def _run(self, loaded: Iterator, files_total: int, progress) -> IngestSummary:
        with self._lock:
            self.store.repair()
            summary = IngestSummary()
            state = IngestProgress(files_total=files_total)
            groups: queue.Queue = queue.Queue(maxsize=2)
            # Loading and chunking (pure Python) run in a thread while torch embeds the previous group.
            producer = threading.Thread(
                target=self._produce, args=(loaded, groups, summary, state, progress), daemon=True
            )
            producer.start()
            while True:
                item = groups.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    producer.join()
                    raise item
                self._store_group(item, summary)
                state.releases_written += len(item.releases)
                state.chunks = summary.chunks
                state.files_done = max(state.files_done, item.files_done)
                if progress:
                    progress(state)
            producer.join()
            state.files_done = files_total
            if progress:
                progress(state)
            return summary

    def _produce(self, loaded: Iterator, groups: queue.Queue, summary: IngestSummary, state: IngestProgress, progress) -> None:
        try:
            group = _Group()
            pending: set[str] = set()
            seen: dict[str, str] = {}
            files_done = 0
            for path, releases, problem in loaded:
                files_done += 1
                if problem:
                    kind, reason = problem
                    if kind == "skipped":
                        summary.skipped.append({"path": path, "reason": reason})
                    else:
                        summary.errors.append({"path": path, "error": reason})
                if not releases:
                    if progress:
                        progress(state)
                    continue
                encoding = releases[0].encoding
                if path and encoding and encoding not in UTF8_NAMES:
                    summary.encodings.append({"path": path, "encoding": encoding})
                state.releases_loaded += len(releases)
                kept = self._first_of_each_id(releases, seen, summary)
                fresh = self._changed(kept, summary, pending)
                state.releases_passed += len(releases) - len(fresh)
                for release in fresh:
                    if release.id in pending:  # the same id twice: store the first before the second
                        groups.put(group)
                        group, pending = _Group(), set()
                    chunks = chunk_release(release, self.embedder.count_tokens, self.max_tokens)
                    if not chunks:
                        summary.skipped.append({"path": release.origin, "reason": "no text"})
                        state.releases_passed += 1
                        continue
                    group.releases.append(release)
                    group.chunks.append(chunks)
                    pending.add(release.id)
                    if group.n_chunks >= GROUP_CHUNKS:
                        group.files_done = files_done - 1
                        groups.put(group)
                        group, pending = _Group(), set()
                group.files_done = files_done
                if progress:
                    progress(state)  # releases read (and unchanged ones) show before the slow write
            if group.releases:
                groups.put(group)
            groups.put(_DONE)
        except BaseException as e:  # hand the failure to the writing thread
            groups.put(e)

    @staticmethod
    def _first_of_each_id(releases: list[Release], seen: dict[str, str], summary: IngestSummary) -> list[Release]:
        """Two releases with one id (one URL published twice) in a run: the first wins, the other is reported.

        Without this both would be written in turn, and every re-run would "update" the id back and forth.
        """
        kept = []
        for release in releases:
            first = seen.setdefault(release.id, release.origin)
            if first == release.origin:
                kept.append(release)
            else:
                summary.skipped.append({"path": release.origin, "reason": f"same id ({release.id}) as {first}"})
        return kept

    def _changed(self, releases: list[Release], summary: IngestSummary, pending: set[str]) -> list[Release]:
        """Drop releases whose stored content_hash is the same; count them as unchanged.

        A release keyed on its text (no URL) whose title only comes from its file name is the same release
        under another name: when nothing but that title differs from the stored one, it is unchanged too, keeps
        its stored title, and the title it would have had is reported in `titles_kept`.
        """
        if not releases:
            return []
        ids = list(dict.fromkeys(r.id for r in releases))
        stored: dict[str, dict] = {}
        for s in range(0, len(ids), 1000):
            got = self.store.releases.get(ids=ids[s : s + 1000], include=["metadatas"])
            stored.update(dict(zip(got["ids"], got["metadatas"])))
        fresh = []
        for r in releases:
            meta = stored.get(r.id)
            if meta is None or r.id in pending:
                fresh.append(r)
            elif meta.get("content_hash", "") == r.content_hash:
                summary.unchanged += 1
            elif _only_name_title_differs(r, meta):
                summary.unchanged += 1
                summary.titles_kept.append({"id": r.id, "path": r.origin, "title": meta.get("title", ""), "name_title": r.title})
            else:
                fresh.append(r)
        return fresh

    def _store_group(self, group: _Group, summary: IngestSummary) -> None:
        texts = [c.text for chunks in group.chunks for c in chunks]
        embeddings = self.embedder.encode(texts)
        items, pos = [], 0
        known = set(self.store.releases.get(ids=[r.id for r in group.releases], include=[])["ids"])
        for release, chunks in zip(group.releases, group.chunks):
            items.append((release, chunks, embeddings[pos : pos + len(chunks)]))
            pos += len(chunks)
            if release.id in known:
                summary.updated += 1
            else:
                summary.added += 1
        self.store.upsert_many(items)
        summary.chunks += len(texts)


def _only_name_title_differs(release: Release, stored_meta: dict) -> bool:
    """The release's title is the one its file name gives, and with the stored title it hashes as stored."""
    from ingest.loaders.metadata import title_from_name

    stored_title = stored_meta.get("title", "")
    if release.title == stored_title or release.title != title_from_name(release.origin or ""):
        return False
    return replace(release, title=stored_title).content_hash == stored_meta.get("content_hash", "")
