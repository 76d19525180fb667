"""The shortlist re-ranker's MiniLM features (service/reader/dense.py) and how the reader uses them, on made-up text."""

from __future__ import annotations

import numpy as np
import pytest

from service.reader import RERANK_FEATURES, SHORTLIST, Reader, spread
from service.reader.dense import DENSE_FEATURES, dense_features, match_summary, question_word_vectors
from service.reader.lexicon import fold
from service.reader.model import ReaderParams, fit_ranker
from service.reader.pointer import load_pointer


def _states(vectors: list[list[float]]):
    """Token states as Embedder.encode_tokens gives them: a special token at (0, 0), then one per word."""
    hidden = np.array([[9.0, 9.0, 9.0]] + vectors, dtype=np.float32)
    offsets = np.array([[0, 0]] + [[2 * i, 2 * i + 1] for i in range(len(vectors))], dtype=np.int64)
    return offsets, hidden


def test_word_match_is_each_question_words_best_match_averaged():
    question_words = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    answers_both = _states([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # scale does not count: cosines
    answers_one = _states([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # (mean match, weakest word): the word the sentence does not answer is what an unanswerable question changed
    assert match_summary(question_words, answers_both) == pytest.approx((1.0, 1.0))
    assert match_summary(question_words, answers_one) == pytest.approx((0.5, 0.0))
    # the special token (offset (0, 0)) is no word of the sentence, however close
    assert match_summary(np.array([[1.0, 1.0, 1.0]]) / np.sqrt(3), _states([[0.0, 0.0, 1.0]]))[0] == pytest.approx(1 / np.sqrt(3))


def test_dense_rows_are_relative_to_the_shortlists_best():
    rows = dense_features(np.array([1.0, 0.0, 0.0]), np.array([[1.0, 0.0, 0.0]]),
                          np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]]),
                          [_states([[1.0, 0.0, 0.0]]), _states([[0.0, 1.0, 0.0]])])
    assert rows.shape == (2, len(DENSE_FEATURES))
    assert rows[:, 0].tolist() == pytest.approx([1.0, 0.6])
    assert rows[:, 1].tolist() == pytest.approx([0.0, -0.4])
    assert rows[:, 2].tolist() == pytest.approx([1.0, 0.0])
    assert rows[:, 3].tolist() == pytest.approx([0.0, -1.0])
    assert rows[:, 4].tolist() == pytest.approx([1.0, 0.0])


def test_a_questions_words_are_its_content_words(embedder):
    question = fold("Who chaired the meeting in Ghent?")
    _, states = embedder.encode_tokens([question])
    words = question_word_vectors(question, states[0])
    # "chaired" may be split into word pieces; "who", "the", "in" and "?" are no content words
    offsets = states[0][0]
    pieces = [question[a:b].lower() for a, b in offsets if b > a]
    assert len(words) == sum(p.isalnum() and p not in ("who", "the", "in") for p in pieces)
    assert np.allclose(np.linalg.norm(words, axis=1), 1.0)


def test_sentences_outside_the_shortlist_rank_below_it():
    scores = spread(5, [3, 1], np.array([0.5, -2.0]))
    assert scores[3] == 0.5 and scores[1] == -2.0
    assert all(scores[i] < -2.0 for i in (0, 2, 4))


def test_the_reranker_orders_the_shortlist_and_the_reading_reuses_its_encoding(embedder, tmp_path):
    from test_reader import HARBOUR, ORCHARD, _pool

    # A re-ranker that has learned only "the sentence closest to the question in MiniLM's view is the evidence".
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(600, len(RERANK_FEATURES)))
    dense = RERANK_FEATURES.index("dense")
    labels = np.zeros(600, dtype=int)
    owners = np.repeat(np.arange(60), 10)
    for q in range(60):
        labels[q * 10 + int(np.argmax(rows[q * 10 : q * 10 + 10, dense]))] = 1
    params = ReaderParams.load()
    with_rerank = ReaderParams(params.sentence, params.span, params.answerable, params.type_table, params.threshold,
                               params.meta, fit_ranker(rows, labels, owners, RERANK_FEATURES))
    with_rerank.save(tmp_path / "reader.json")
    loaded = ReaderParams.load(tmp_path / "reader.json")
    assert loaded.rerank.logit(rows[:5]).tolist() == with_rerank.rerank.logit(rows[:5]).tolist()

    calls = []

    def counting_encode_tokens(texts):
        calls.append(list(texts))
        return embedder.encode_tokens(texts)

    reader = Reader(loaded, embedder.encode, encode_tokens=counting_encode_tokens, pointer=load_pointer())
    question = "Which tonnage of fruit did the growers harvest?"
    pool = _pool(HARBOUR, ORCHARD)
    vector = embedder.encode_query(question)
    reading = reader.featurize(reader.analyze(question), pool, vector)
    # one run for the question's words and one for the shortlist (the whole of this small pool): the close reading
    # takes its token vectors from the shortlist's run
    assert len(pool) < SHORTLIST
    assert [len(c) for c in calls] == [1, len(pool)]
    best = int(np.argmax(reading.sentence_logits))
    cosines = embedder.encode([fold(s.text) for s in pool]) @ vector
    assert best == int(np.argmax(cosines))
    assert "12,400 tonnes" in pool[best].text


def test_a_changed_word_is_the_weakest_match(embedder):
    sentence = "Members of the Quellport cooperative picked 12,400 tonnes of apples this season."
    _, states = embedder.encode_tokens([sentence])

    def weakest(question):
        _, q_states = embedder.encode_tokens([question])
        return match_summary(question_word_vectors(question, q_states[0]), states[0])[1]

    asked = weakest("How many tonnes of apples did the members pick?")
    changed = weakest("How many tonnes of submarines did the members pick?")
    assert asked > changed + 0.1
