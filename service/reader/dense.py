"""Dense sentence features: MiniLM's view of how close a sentence is to the question, whole and word by word.

Computed only for the sentence model's shortlist (the encoder is the reader's dearest step), from the same encoder
pass whose token vectors the span features reuse. Word-overlap features cannot see a paraphrase ("is not known to
be" for "is unproven"); the sentence cosine sees the gist, and the word-by-word match (each question word's
closest word of the sentence, in context, ColBERT's late interaction) sees which words are answered.
"""

from __future__ import annotations

import numpy as np

from service.reader.lexicon import STOPWORDS

DENSE_FEATURES = (
    "dense",  # MiniLM cosine of question and sentence
    "dense_gap",  # … minus the shortlist's best
    "word_match",  # mean over the question's content words of their best cosine with a word of the sentence
    "word_match_gap",  # … minus the shortlist's best
    "weakest_word",  # the least matched question word's best cosine: one word the sentence does not answer
)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def question_word_vectors(text: str, token_states: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Unit contextual vectors of the question's content tokens (all its real tokens when it has none)."""
    offsets, hidden = token_states
    real = offsets[:, 1] > offsets[:, 0]
    content = np.array(
        [bool(r) and text[a:b].isalnum() and text[a:b].lower() not in STOPWORDS for r, (a, b) in zip(real, offsets)],
        dtype=bool,
    )
    keep = content if content.any() else real
    return _unit(hidden[keep]) if keep.any() else np.zeros((0, hidden.shape[1]), dtype=np.float32)


def word_matches(question_words: np.ndarray, token_states: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each question word's best cosine with a word of the sentence (special tokens are no words)."""
    offsets, hidden = token_states
    real = offsets[:, 1] > offsets[:, 0]
    if not len(question_words) or not real.any():
        return np.zeros(0)
    return (question_words @ _unit(hidden[real]).T).max(axis=1)


def match_summary(question_words: np.ndarray, token_states: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """(word match, weakest word): the question words' mean best match in the sentence, and the least matched one's.
    An unanswerable question is often an answerable one with one word changed: that word matches nothing."""
    matches = word_matches(question_words, token_states)
    return (float(matches.mean()), float(matches.min())) if len(matches) else (0.0, 0.0)


def dense_features(question_vector: np.ndarray, question_words: np.ndarray, vectors: np.ndarray, token_states) -> np.ndarray:
    """One row of DENSE_FEATURES per shortlisted sentence (`vectors`, `token_states`: Embedder.encode_tokens)."""
    if not len(vectors):
        return np.zeros((0, len(DENSE_FEATURES)), dtype=np.float32)
    dense = vectors @ question_vector
    match, weakest = np.array([match_summary(question_words, s) for s in token_states]).T
    return np.column_stack([dense, dense - dense.max(), match, match - match.max(), weakest]).astype(np.float32)
