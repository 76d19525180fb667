"""The two ingest pipelines side by side on the same loaded releases: pressqa's Indexer and the LangChain tutorial.

Each runs in its own fresh process (see run_isolated) so that neither inherits the other's warm state and
each reports its own peak memory.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from pathlib import Path

from bench.workload import Query, Retrieved, mean_recall
from core.records import Release

TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
# Chunks fetched per tutorial query; enough to find 5 distinct releases (chunks of one release cluster).
TUTORIAL_FETCH = 40


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_isolated(fn, *args):
    """fn(*args) in a fresh spawned interpreter; its dict result comes back."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pressqa_ingest(releases: list[Release], data: str, queries: list[Query], chroma_url: str | None = None) -> dict:
    """Indexer.ingest_releases into a fresh store, then recall@5 of the hybrid retriever."""
    _offline()
    from core.embeddings import make_embedder
    from ingest.pipeline import Indexer
    from core.store import make_store
    from pressqa.settings import Settings

    settings = Settings(data=Path(data), chroma_url=chroma_url, llm_backend="none")
    t0 = time.perf_counter()
    store = make_store(settings)
    embedder = make_embedder(settings)
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = Indexer(store, embedder, max_tokens=settings.chunk_max_tokens).ingest_releases(releases)
    ingest_s = time.perf_counter() - t0

    recall, index_build_s = pressqa_recall(settings, store, embedder, queries)
    return {
        "pipeline": "pressqa",
        "releases": len(releases),
        "chunks": summary.chunks,
        "errors": len(summary.errors),
        "model_load_s": round(load_s, 2),
        "ingest_s": round(ingest_s, 2),
        "chunks_per_s": round(summary.chunks / ingest_s, 1),
        "index_build_s": round(index_build_s, 2),
        "embedding_dtype": embedder.dtype,
        "min_cosine_to_fp32": embedder.cosine_to_fp32,
        "recall_at_5": recall,
        "peak_rss_mb": peak_rss_mb(),
    }


def pressqa_recall(settings, store, embedder, queries: list[Query]) -> tuple[float, float]:
    """Mean recall@5 of the hybrid retriever's release ranking, and the seconds its BM25 postings and dense matrix took to build."""
    from core.dense_index import DenseIndex
    from core.lexical import LexicalIndex
    from service.retrieval import HybridRetriever

    retriever = HybridRetriever(
        store=store,
        embedder=embedder,
        lexical=LexicalIndex(store),
        dense=DenseIndex(store),
        dense_candidates=settings.dense_candidates,
        lexical_candidates=settings.lexical_candidates,
        k=settings.retrieve_k,
    )
    t0 = time.perf_counter()
    retriever.search("warm up the in-memory indexes")
    index_build_s = time.perf_counter() - t0
    ranked = {
        q.id: [Retrieved(r.release_id, r.best.url, r.best.origin) for r in retriever.rank_releases(q.text)]
        for q in queries
    }
    return round(mean_recall(ranked, queries), 4), index_build_s


def tutorial_recall(vectorstore, queries: list[Query]) -> float:
    """Mean recall@5 of the tutorial's similarity_search, reduced to distinct releases in rank order."""
    ranked = {}
    for q in queries:
        seen, out = set(), []
        for doc in vectorstore.similarity_search(q.text, k=TUTORIAL_FETCH):
            rid = doc.metadata["release_id"]
            if rid not in seen:
                seen.add(rid)
                out.append(Retrieved(rid, doc.metadata.get("url"), doc.metadata.get("origin")))
        ranked[q.id] = out
    return round(mean_recall(ranked, queries), 4)


def tutorial_store(data: str):
    """The tutorial's Chroma vector store in `data`, with its embeddings (for querying an existing index)."""
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from core.embeddings import default_model_path

    embeddings = HuggingFaceEmbeddings(model_name=str(default_model_path()), model_kwargs={"device": "cpu"})
    return Chroma(
        embedding_function=embeddings,
        persist_directory=data,
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True, persist_directory=data),
    )


def tutorial_ingest(releases: list[Release], data: str, queries: list[Query]) -> dict:
    """The LangChain RAG tutorial: RecursiveCharacterTextSplitter(1000, 200) → HuggingFaceEmbeddings → Chroma.from_documents."""
    _offline()
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from core.embeddings import default_model_path

    docs = [
        Document(
            page_content=r.text,
            metadata={k: v for k, v in {"release_id": r.id, "url": r.url, "origin": r.origin, "title": r.title}.items() if v},
        )
        for r in releases
    ]
    t0 = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(model_name=str(default_model_path()), model_kwargs={"device": "cpu"})
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(
        chunk_size=TUTORIAL_CHUNK_SIZE, chunk_overlap=TUTORIAL_CHUNK_OVERLAP
    ).split_documents(docs)
    split_s = time.perf_counter() - t0
    vectorstore = Chroma.from_documents(
        documents=splits,
        embedding=embeddings,
        persist_directory=data,
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True, persist_directory=data),
    )
    ingest_s = time.perf_counter() - t0

    return {
        "pipeline": "langchain-tutorial",
        "releases": len(releases),
        "chunks": len(splits),
        "errors": 0,
        "model_load_s": round(load_s, 2),
        "split_s": round(split_s, 2),
        "ingest_s": round(ingest_s, 2),
        "chunks_per_s": round(len(splits) / ingest_s, 1),
        "recall_at_5": tutorial_recall(vectorstore, queries),
        "peak_rss_mb": peak_rss_mb(),
    }
