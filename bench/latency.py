"""Query latency (retrieval only and full answer), and growing an index to a target size with synthetic chunks."""

from __future__ import annotations

import random
import time
from datetime import date

import numpy as np

from bench.workload import Query
from eval.metrics import percentile
from core.chunking import split_sentences
from core.records import Chunk, Release

SYNTHETIC_CHUNKS_PER_RELEASE = 5
SYNTHETIC_SOURCES = ("Synthetic Ministry", "Synthetic Office", "Synthetic Agency")


def _summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }


def retrieval_latency(retriever, queries: list[Query], repeats: int = 3) -> dict:
    """HybridRetriever.search per query (embed query + dense + BM25 + fusion), after a warm-up pass."""
    for q in queries[:3]:
        retriever.search(q.text)
    times = []
    for _ in range(repeats):
        for q in queries:
            t0 = time.perf_counter()
            retriever.search(q.text)
            times.append(time.perf_counter() - t0)
    return _summary(times)


def answer_latency(chain, queries: list[Query]) -> dict:
    """chain.ask per gold question (with its history), the local LLM phrasing the answer."""
    chain.ask(queries[0].gold.question)  # warm-up: first generation allocates the model's caches
    times, abstained = [], 0
    for q in queries:
        t0 = time.perf_counter()
        answer = chain.ask(q.gold.question, history=list(q.gold.history) or None)
        times.append(time.perf_counter() - t0)
        abstained += answer.abstained
    return {**_summary(times), "abstained": abstained}


def sentence_pool(releases: list[Release], limit: int = 20000) -> list[str]:
    """Real corpus sentences to recombine into synthetic chunks (realistic words for BM25)."""
    pool: list[str] = []
    for r in releases:
        pool.extend(r.text[s:e] for s, e in split_sentences(r.text) if 40 <= e - s <= 400)
        if len(pool) >= limit:
            break
    return pool


def grow(store, target_chunks: int, pool: list[str], seed: int = 7, batch_releases: int = 400) -> dict:
    """Add synthetic releases (5 chunks of 2–5 shuffled real sentences, random unit embeddings) until the store
    holds target_chunks chunks; written through ReleaseStore.upsert_many like a real ingest."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    have = store.count_chunks()
    need = max(0, target_chunks - have)
    n_releases = -(-need // SYNTHETIC_CHUNKS_PER_RELEASE)
    dim = 384
    t0 = time.perf_counter()
    written = 0
    for start in range(0, n_releases, batch_releases):
        items = []
        for i in range(start, min(n_releases, start + batch_releases)):
            pieces = [" ".join(rng.sample(pool, rng.randint(2, 5))) for _ in range(SYNTHETIC_CHUNKS_PER_RELEASE)]
            text = "\n\n".join(pieces)
            day = date(2020, 1, 1).toordinal() + rng.randrange(6 * 365)
            release = Release(
                title=f"Synthetic release {i}: " + pieces[0][:60],
                text=text,
                origin=f"synthetic/{i}.txt",
                published=date.fromordinal(day),
                source=rng.choice(SYNTHETIC_SOURCES),
                url=f"https://synthetic.invalid/release/{i}",
            )
            chunks, pos = [], 0
            for j, p in enumerate(pieces):
                chunks.append(Chunk(release.id, j, p, pos, pos + len(p)))
                pos += len(p) + 2
            emb = nrng.standard_normal((len(chunks), dim)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            items.append((release, chunks, emb))
            written += len(chunks)
        store.upsert_many(items)
    return {
        "synthetic_releases": n_releases,
        "synthetic_chunks": written,
        "write_s": round(time.perf_counter() - t0, 1),
        "chunks_total": store.count_chunks(),
    }
