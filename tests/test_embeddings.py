import numpy as np
import pytest

from core.chunking import split_sentences
from core.cpu import cpu_has_bf16
from core.embeddings import MIN_BF16_COSINE, MIN_INT8_COSINE, Embedder
from test_chunking import corpus_texts


@pytest.fixture(scope="module")
def corpus_sentences():
    # Distinct sentences: the nearest-neighbour check below needs every text once.
    return list(dict.fromkeys(t[s:e] for t in corpus_texts(6) for s, e in split_sentences(t)))[:80]


def test_normalized_float32(embedder):
    v = embedder.encode(["The Secretary met the Foreign Minister.", "Short."])
    assert v.dtype == np.float32 and v.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    q = embedder.encode_query("The Secretary met the Foreign Minister.")
    assert float(q @ v[0]) > 0.99


def test_auto_is_int8_on_every_cpu(embedder):
    # One dtype everywhere: an index built on a VNNI machine and one built without it give the same answers.
    assert embedder.dtype == "int8" and embedder.cosine_to_fp32 >= MIN_INT8_COSINE


def test_bf16_only_when_faithful(corpus_sentences):
    if not cpu_has_bf16():
        pytest.skip("CPU has no native bf16")
    embedder = Embedder(dtype="bf16")
    cos = np.sum(embedder._encode(corpus_sentences, "fp32") * embedder.encode(corpus_sentences), axis=1)
    assert embedder.dtype == "bf16" and cos.min() >= MIN_BF16_COSINE


def test_int8_onnx_stays_close_to_fp32(tmp_path, corpus_sentences):
    """The exported int8 model is checked on real corpus sentences, and is exported once per weights."""
    embedder = Embedder(dtype="int8", cache_dir=tmp_path)
    assert embedder.dtype == "int8"
    exported = list((tmp_path / "minilm-onnx").rglob("*.onnx"))
    assert len(exported) == 1 and not list((tmp_path / "minilm-onnx").rglob(".tmp-*"))
    ref = embedder._encode(corpus_sentences, "fp32")
    got = embedder.encode(corpus_sentences)
    assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = np.sum(ref * got, axis=1)
    assert cos.min() >= MIN_INT8_COSINE and cos.mean() >= 0.99
    # Ranking holds: each sentence is still its own nearest neighbour among the fp32 embeddings.
    assert (np.argmax(got @ ref.T, axis=1) == np.arange(len(corpus_sentences))).all()
    # A query alone (the one-thread session) embeds like the same text in a batch.
    assert float(embedder.encode_query(corpus_sentences[3]) @ got[3]) > 0.9999
    mtime = exported[0].stat().st_mtime_ns
    again = Embedder(dtype="int8", cache_dir=tmp_path)
    assert exported[0].stat().st_mtime_ns == mtime and again.cosine_to_fp32 == embedder.cosine_to_fp32


def test_fp32_is_always_available():
    embedder = Embedder(dtype="fp32")
    assert embedder.dtype == "fp32" and embedder.cosine_to_fp32 is None


@pytest.mark.parametrize("dtype", ["fp32", "auto"])
def test_token_vectors_come_with_the_sentence_vector_and_its_offsets(dtype, embedder):
    # The reader pools a candidate's neighbours from these: the pass must give encode()'s vector, and one token
    # vector per tokenizer token with its character span in the text (special tokens at (0, 0)).
    encoder = Embedder(dtype="fp32") if dtype == "fp32" else embedder
    text = "Tomas Berg, the chef of the city canteen, attended."
    vectors, states = encoder.encode_tokens([text, "A second text."])
    assert np.allclose(vectors, encoder.encode([text, "A second text."]), atol=1e-4)
    offsets, hidden = states[0]
    assert hidden.shape == (len(offsets), encoder.dimension)
    words = {text[a:b] for a, b in offsets if b > a}
    assert {"chef", "canteen"} <= words
    assert tuple(offsets[0]) == (0, 0) and tuple(offsets[-1]) == (0, 0)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        Embedder(model_path=tmp_path / "nothing")
