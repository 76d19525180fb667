"""The sentence encoder's variants side by side on the same corpus chunks: speed and cosine to fp32."""

from __future__ import annotations

import time

import numpy as np


def compare_encoders(texts: list[str], cache_dir=None) -> dict:
    """fp32 and bf16 (torch) and int8 (ONNX Runtime) on the same texts, each after one warm-up call."""
    from core.cpu import cpu_has_bf16, cpu_has_vnni
    from core.embeddings import Embedder

    embedder = Embedder(dtype="int8" if cpu_has_vnni() else "fp32", cache_dir=cache_dir)
    variants = ["fp32"] + (["bf16"] if cpu_has_bf16() else []) + (["int8"] if embedder.dtype == "int8" else [])
    out: dict = {"texts": len(texts), "mean_chars": round(sum(map(len, texts)) / max(1, len(texts)))}
    reference = None
    for dtype in variants:
        embedder._encode(texts[:4], dtype)
        t0 = time.perf_counter()
        vectors = embedder._encode(texts, dtype)
        seconds = time.perf_counter() - t0
        if reference is None:
            reference = vectors
        cosines = np.sum(reference * vectors, axis=1)
        out[dtype] = {
            "chunks_per_s": round(len(texts) / seconds, 1),
            "min_cosine_to_fp32": round(float(cosines.min()), 5),
            "mean_cosine_to_fp32": round(float(cosines.mean()), 5),
        }
    for dtype in variants[1:]:
        out[dtype]["speedup_vs_fp32"] = round(out[dtype]["chunks_per_s"] / out["fp32"]["chunks_per_s"], 2)
    return out
