from pathlib import Path

import pytest

from core.chunking import chunk_release, split_sentences
from core.records import Release
from pressqa.settings import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"


def corpus_texts(n: int = 12) -> list[str]:
    """The seed body and a few White House bodies (front matter cut off by hand: chunking needs no loader)."""
    seed = (CORPUS / "seed/china-central-asia-foreign-ministers-meeting.txt").read_text().split("\n\n", 1)[1]
    files = sorted(CORPUS.glob("whitehouse/**/*.md"))[:: max(1, 1552 // n)][:n]
    return [seed] + [f.read_text().split("---", 2)[-1].strip() for f in files]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Gov. Newsom met Sen. Smith on Monday. They talked.", ["Gov. Newsom met Sen. Smith on Monday.", "They talked."]),
        ("Martin Luther King Jr. Day is observed. The U.S. Government agreed.",
         ["Martin Luther King Jr. Day is observed.", "The U.S. Government agreed."]),
        ("It costs $20.5 million. Done!", ["It costs $20.5 million.", "Done!"]),
        ("First paragraph without a stop\n\nSecond one.", ["First paragraph without a stop", "Second one."]),
        ("  Spaces  around.   Here too.  ", ["Spaces  around.", "Here too."]),
    ],
)
def test_split_sentences(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_spans_have_no_edge_whitespace_and_respect_paragraphs():
    for text in corpus_texts():
        spans = split_sentences(text)
        assert spans == sorted(spans)
        for s, e in spans:
            assert e > s and not text[s].isspace() and not text[e - 1].isspace()
            assert "\n\n" not in text[s:e]


def test_chunks_round_trip_fit_the_window_and_keep_sentences(embedder):
    for i, text in enumerate(corpus_texts()):
        release = Release(title=f"r{i}", text=text, origin=f"r{i}")
        chunks = chunk_release(release, embedder.count_tokens, max_tokens=256)
        assert chunks and [c.index for c in chunks] == list(range(len(chunks)))
        boundaries = {s for s, _ in split_sentences(text)} | {e for _, e in split_sentences(text)}
        for c in chunks:
            assert text[c.start : c.end] == c.text
            assert len(embedder.tokenizer(c.text)["input_ids"]) <= 256  # special tokens included
            if embedder.count_tokens(c.text) < 200:  # only over-long sentences may be cut
                assert c.start in boundaries and c.end in boundaries


def test_over_long_sentence_splits_at_clauses_then_hard(embedder):
    clause = "the delegation discussed energy, trade and security cooperation in the region"
    text = "; ".join([clause] * 40) + "."
    chunks = chunk_release(Release(title="t", text=text, origin="t"), embedder.count_tokens, max_tokens=64)
    assert len(chunks) > 1
    assert all(c.text.endswith((";", ".")) for c in chunks)  # cut at the semicolons
    assert all(embedder.count_tokens(c.text) <= 62 for c in chunks)
    word = "x" * 3000  # no clause, no space: cut hard
    chunks = chunk_release(Release(title="t", text=word, origin="t"), embedder.count_tokens, max_tokens=64)
    assert "".join(c.text for c in chunks) == word
    assert all(embedder.count_tokens(c.text) <= 62 for c in chunks)


def test_pysbd_shortcut_gives_the_segmenters_sentences(monkeypatch):
    """_pysbd_sentences skips Segmenter.segment()'s slow span search; the spans must stay what segment() gives."""
    import core.chunking as chunking

    texts = corpus_texts(12)
    fast = [split_sentences(t) for t in texts]
    monkeypatch.setattr(chunking, "_pysbd_sentences", lambda para: chunking._segmenter().segment(para))
    assert [split_sentences(t) for t in texts] == fast
    assert sum(map(len, fast)) > 100
