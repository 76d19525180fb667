import numpy as np
import pytest

from ingest.embeddings import MIN_BF16_COSINE, Embedder, cpu_has_bf16
from test_chunking import corpus_texts
from ingest.chunking import split_sentences


def test_normalized_float32(embedder):
    v = embedder.encode(["The Secretary met the Foreign Minister.", "Short."])
    assert v.dtype == np.float32 and v.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    q = embedder.encode_query("The Secretary met the Foreign Minister.")
    assert float(q @ v[0]) > 0.99


def test_bf16_only_when_faithful(embedder):
    if not cpu_has_bf16():
        assert embedder.dtype == "fp32"
        pytest.skip("CPU has no native bf16")
    sentences = [t[s:e] for t in corpus_texts(6) for s, e in split_sentences(t)][:80]
    ref = embedder._encode(sentences, "fp32")
    got = embedder._encode(sentences, "bf16")
    cos = np.sum(ref * got, axis=1)
    assert embedder.dtype == ("bf16" if cos.min() >= MIN_BF16_COSINE else "fp32")
    assert cos.min() >= MIN_BF16_COSINE


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        Embedder(model_path=tmp_path / "nothing")
