"""Releases and their chunks in Chroma (on disk or a Chroma server), written in a crash-safe order."""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlparse

import numpy as np

from core.records import Chunk, ChunkHit, Release, ReleaseMeta

PAGE = 2000
_REVISION_ID = "revision"


def chunk_metadata(chunk: Chunk, release: Release) -> dict[str, Any]:
    """Chroma metadata of a chunk: its offsets plus the release fields retrieval filters and cites by."""
    meta: dict[str, Any] = {
        "release_id": release.id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": release.title,
        "origin": release.origin,
        "content_hash": release.content_hash,
    }
    meta.update(_optional_fields(release))
    return meta


def chunk_hit(chunk_id: str, text: str, meta: dict[str, Any], score: float = 0.0) -> ChunkHit:
    """Read back what chunk_metadata wrote."""
    return ChunkHit(
        chunk_id=chunk_id,
        release_id=meta["release_id"],
        index=int(meta["index"]),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=float(score),
        title=meta.get("title", ""),
        published=meta.get("published"),
        source=meta.get("source"),
        url=meta.get("url"),
        origin=meta.get("origin"),
    )


def release_metadata(release: Release, chunk_count: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": release.title,
        "origin": release.origin,
        "content_hash": release.content_hash,
        "chunk_count": chunk_count,
    }
    meta.update(_optional_fields(release))
    if release.place:
        meta["place"] = release.place
    if release.encoding:
        meta["encoding"] = release.encoding
    return meta


def release_meta(release_id: str, meta: dict[str, Any]) -> ReleaseMeta:
    return ReleaseMeta(
        id=release_id,
        title=meta.get("title", ""),
        published=meta.get("published"),
        source=meta.get("source"),
        url=meta.get("url"),
        place=meta.get("place"),
        origin=meta.get("origin", ""),
        content_hash=meta.get("content_hash", ""),
        chunk_count=int(meta.get("chunk_count", 0)),
        encoding=meta.get("encoding"),
    )


def _optional_fields(release: Release) -> dict[str, Any]:
    # Chroma metadata cannot hold None: absent fields are left out.
    out: dict[str, Any] = {}
    if release.published:
        out["published"] = release.published.isoformat()
        out["published_ord"] = release.published.toordinal()
    if release.source:
        out["source"] = release.source
    if release.url:
        out["url"] = release.url
    return out


def date_filter(since: date | None = None, until: date | None = None, source: str | None = None) -> dict | None:
    """A Chroma `where` for a published-date range and a source."""
    conds: list[dict] = []
    if since:
        conds.append({"published_ord": {"$gte": since.toordinal()}})
    if until:
        conds.append({"published_ord": {"$lte": until.toordinal()}})
    if source:
        conds.append({"source": source})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


class ReleaseStore:
    """Two collections: chunks (our embeddings, cosine) and releases (text + metadata; the commit marker)."""

    def __init__(self, client, prefix: str = "pressqa") -> None:
        self.client = client
        space = {"hnsw:space": "cosine"}
        self.chunks = client.get_or_create_collection(f"{prefix}_chunks", metadata=space, embedding_function=None)
        self.releases = client.get_or_create_collection(f"{prefix}_releases", metadata=space, embedding_function=None)
        # The revision lives in Chroma so every process on the same store sees every write.
        self.meta = client.get_or_create_collection(f"{prefix}_meta", embedding_function=None)
        try:
            self.max_batch = max(1, min(int(client.get_max_batch_size()), 4000))
        except Exception:
            self.max_batch = 1000
        self._write_lock = threading.Lock()
        # Writes made through this object: an in-memory copy of the chunks (core.mirror) re-checks at once after one.
        self.local_writes = 0

    # --- reads -----------------------------------------------------------------------------------

    def release_meta(self, release_id: str) -> ReleaseMeta | None:
        got = self.releases.get(ids=[release_id], include=["metadatas"])
        return release_meta(got["ids"][0], got["metadatas"][0]) if got["ids"] else None

    def release_text(self, release_id: str) -> str | None:
        got = self.releases.get(ids=[release_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def _all_release_metas(self, where: dict | None = None) -> list[ReleaseMeta]:
        out: list[ReleaseMeta] = []
        offset = 0
        while True:
            got = self.releases.get(where=where, include=["metadatas"], limit=PAGE, offset=offset)
            out.extend(release_meta(i, m) for i, m in zip(got["ids"], got["metadatas"]))
            if len(got["ids"]) < PAGE:
                return out
            offset += PAGE

    def list_releases(
        self, since: date | None = None, until: date | None = None, offset: int = 0, limit: int | None = None
    ) -> list[ReleaseMeta]:
        """Newest first; undated releases last."""
        metas = self._all_release_metas(date_filter(since, until))
        metas.sort(key=lambda m: (m.published or "", m.title), reverse=True)
        metas.sort(key=lambda m: m.published is None)
        return metas[offset : None if limit is None else offset + limit]

    def count_releases(self) -> int:
        return self.releases.count()

    def count_chunks(self) -> int:
        return self.chunks.count()

    def newest_published(self) -> date | None:
        dates = [m.published for m in self._all_release_metas() if m.published]
        return date.fromisoformat(max(dates)) if dates else None

    def committed(self, release_ids: Sequence[str]) -> set[str]:
        """The ids among these that have a release record; chunks of the others are a crashed write's leftovers."""
        ids = list(dict.fromkeys(release_ids))
        return set(self.releases.get(ids=ids, include=[])["ids"]) if ids else set()

    def get_chunks(self, ids: Sequence[str]) -> list[ChunkHit]:
        """Chunks by id, in the order asked; unknown ids are left out."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {i: chunk_hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    def chunks_of(self, release_id: str) -> list[ChunkHit]:
        got = self.chunks.get(where={"release_id": release_id}, include=["documents", "metadatas"])
        hits = [chunk_hit(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(hits, key=lambda h: h.index)

    def iter_chunks(self, page: int = PAGE) -> Iterator[ChunkHit]:
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=offset)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]):
                yield chunk_hit(i, d, m)
            if len(got["ids"]) < page:
                return
            offset += page

    def release_versions(self) -> dict[str, str]:
        """Content hash of every committed release: what a reader must re-read is what changed here."""
        return {m.id: m.content_hash for m in self._all_release_metas()}

    def chunks_by_release(self, versions: dict[str, str], ids_per_call: int = 200) -> dict[str, list[ChunkHit]]:
        """Chunks of these releases that belong to the given version (a half-written update's are left out)."""
        return {
            rid: [hit for hit, _ in rows]
            for rid, rows in self._chunks_by_release(versions, ["documents", "metadatas"], ids_per_call).items()
        }

    def chunk_vectors_by_release(
        self, versions: dict[str, str], ids_per_call: int = 200
    ) -> dict[str, list[tuple[ChunkHit, np.ndarray]]]:
        """The same chunks with their stored embeddings and without their text (hit.text is empty)."""
        return self._chunks_by_release(versions, ["embeddings", "metadatas"], ids_per_call)

    def _chunks_by_release(
        self, versions: dict[str, str], include: list[str], ids_per_call: int
    ) -> dict[str, list[tuple[ChunkHit, np.ndarray | None]]]:
        out: dict[str, list[tuple[ChunkHit, np.ndarray | None]]] = {rid: [] for rid in versions}
        ids = list(versions)
        for i in range(0, len(ids), ids_per_call):
            got = self.chunks.get(where={"release_id": {"$in": ids[i : i + ids_per_call]}}, include=include)
            docs = got["documents"] if "documents" in include else None
            vectors = got["embeddings"] if "embeddings" in include else None
            for n, (cid, meta) in enumerate(zip(got["ids"], got["metadatas"])):
                if meta.get("content_hash") == versions.get(meta["release_id"]):
                    hit = chunk_hit(cid, docs[n] if docs is not None else "", meta)
                    vector = np.asarray(vectors[n], dtype=np.float32) if vectors is not None else None
                    out[meta["release_id"]].append((hit, vector))
        return out

    def revision(self) -> str:
        """Changes on every write, in any process sharing this store."""
        got = self.meta.get(ids=[_REVISION_ID], include=["documents"])
        return got["documents"][0] if got["ids"] else ""

    # --- writes ----------------------------------------------------------------------------------

    def _bump_revision(self) -> None:
        self.meta.upsert(ids=[_REVISION_ID], documents=[uuid.uuid4().hex], embeddings=[[1.0]])
        self.local_writes += 1  # after the new revision is readable, so a reader that sees the count sees it too

    def upsert(self, release: Release, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Replace a release: old chunks out, new chunks in, release record last (the commit marker)."""
        self.upsert_many([(release, chunks, embeddings)])

    def upsert_many(self, items: Sequence[tuple[Release, Sequence[Chunk], np.ndarray]]) -> None:
        """Several releases with batched Chroma calls, in the same crash-safe order."""
        items = [it for it in items if it[1]]
        if not items:
            return
        with self._write_lock:
            # Record out first: a crash before the new record is in must leave the release absent, not
            # listed with its chunks gone (chunks without a record are invisible and repair() drops them).
            self.releases.delete(ids=list(dict.fromkeys(r.id for r, _, _ in items)))
            for release, _, _ in items:
                self.chunks.delete(where={"release_id": release.id})
            ids, docs, metas, embs = [], [], [], []
            for release, chunks, emb in items:
                if len(chunks) != len(emb):
                    raise ValueError(f"{release.id}: {len(chunks)} chunks but {len(emb)} embeddings")
                ids += [c.id for c in chunks]
                docs += [c.text for c in chunks]
                metas += [chunk_metadata(c, release) for c in chunks]
                embs.append(np.asarray(emb, dtype=np.float32))
            all_embs = np.concatenate(embs)
            for s in range(0, len(ids), self.max_batch):
                e = s + self.max_batch
                self.chunks.add(ids=ids[s:e], documents=docs[s:e], metadatas=metas[s:e], embeddings=all_embs[s:e])
            rel_embs = []
            for _, _, emb in items:
                mean = np.asarray(emb, dtype=np.float32).mean(axis=0)
                rel_embs.append(mean / (np.linalg.norm(mean) or 1.0))
            for s in range(0, len(items), self.max_batch):
                part = items[s : s + self.max_batch]
                self.releases.upsert(
                    ids=[r.id for r, _, _ in part],
                    documents=[r.text for r, _, _ in part],
                    metadatas=[release_metadata(r, len(c)) for r, c, _ in part],
                    embeddings=np.stack(rel_embs[s : s + self.max_batch]),
                )
            self._bump_revision()

    def delete(self, release_id: str) -> bool:
        """Remove a release and all its chunks; False when it was not there."""
        with self._write_lock:
            known = bool(self.releases.get(ids=[release_id], include=[])["ids"])
            # Record first: a crash in between leaves orphan chunks, which repair() removes.
            self.releases.delete(ids=[release_id])
            self.chunks.delete(where={"release_id": release_id})
            self._bump_revision()
        return known

    def repair(self) -> int:
        """Remove half-written releases (chunks without a matching release record); returns how many."""
        with self._write_lock:
            counts: Counter[str] = Counter()
            hashes: dict[str, set[str]] = defaultdict(set)
            offset = 0
            while True:
                got = self.chunks.get(include=["metadatas"], limit=PAGE, offset=offset)
                for m in got["metadatas"]:
                    counts[m["release_id"]] += 1
                    hashes[m["release_id"]].add(m.get("content_hash", ""))
                if len(got["ids"]) < PAGE:
                    break
                offset += PAGE
            records = {m.id: m for m in self._all_release_metas()}
            bad = set()
            for rid in counts.keys() | records.keys():
                rec = records.get(rid)
                if rec is None or counts[rid] != rec.chunk_count or hashes[rid] != {rec.content_hash}:
                    bad.add(rid)
            for rid in bad:
                self.releases.delete(ids=[rid])
                self.chunks.delete(where={"release_id": rid})
            if bad:
                self._bump_revision()
            return len(bad)


def make_store(settings) -> ReleaseStore:
    """On-disk Chroma in the data dir, or a Chroma server when settings.chroma_url is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        client = chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
        hold = None
    else:
        from core.store_lock import hold_data_dir

        # Before opening: a second process on an embedded store would never see this one's dense writes.
        hold = hold_data_dir(settings.data)
        path = settings.data / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    store = ReleaseStore(client, prefix=settings.collection_prefix)
    store.data_dir_hold = hold  # the lock lives as long as the store
    return store
