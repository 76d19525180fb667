"""The reader: from a question and the sentences of the best releases to a short answer with its sentence, or none.

A line of steps, each its own module: analyze the question (analysis) → score every pool sentence (sentences,
fitted sentence model) → re-rank its shortlist with MiniLM's view as well (dense, fitted re-ranker) → parse the best few with spaCy and list candidates (candidates) → score each candidate
(spans, fitted span model) → one calibrated probability that the best candidate is right (answerability) →
answer when it clears the threshold chosen by cross-validation, else abstain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from service.reader.analysis import QuestionAnalysis, analyze
from service.reader.answerability import ANSWERABLE_FEATURES, answerable_features
from service.reader.candidates import Candidate, candidates
from service.reader.dense import DENSE_FEATURES, dense_features, match_summary, question_word_vectors
from service.reader.lexicon import fold
from service.reader.model import ReaderParams
from service.reader.nlp import parse
from service.reader.pool import PoolSentence
from service.reader.sentences import SENTENCE_FEATURES, pool_idf, sentence_features
from service.reader.spans import SentenceReading, context_similarities, span_features
from service.reader.truecase import truecase

# Sentences the sentence model passes to the re-ranker (with the best few of every release): out of fold, the
# evidence sentence is among its best 40 for every training question whose pool has it.
SHORTLIST = 40
# Sentences read closely (parsed, candidates scored): the right one is in the sentence models' top few.
READ_SENTENCES = 14
# … and the best few of every retrieved release, so that a release the sentence model ranks low is still read:
# a vague question ("who represented X?") can have its answer in the fourth release retrieved.
READ_PER_RELEASE = 2


@dataclass
class Choice:
    """One candidate answer with its sentence, as the reader ranks them."""

    sentence: PoolSentence
    candidate: Candidate
    probability: float  # the span model's
    sentence_logit: float

    @property
    def text(self) -> str:
        return self.candidate.text


@dataclass
class Reading:
    """Everything the reader worked out for one question; `decide` turns it into an answer or an abstention."""

    question: QuestionAnalysis
    pool: list[PoolSentence]
    sentence_rows: np.ndarray
    sentence_logits: np.ndarray
    readings: list[SentenceReading]
    span_rows: np.ndarray
    span_index: list[tuple[int, Candidate]]
    span_probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    choices: list[Choice] = field(default_factory=list)
    answerable_row: np.ndarray | None = None
    confidence: float = 0.0
    answered: bool = False

    @property
    def best(self) -> Choice | None:
        return self.choices[0] if self.choices else None

    def items(self) -> list[Choice]:
        """For a question asking for several things ("which ministers"): every likely item of the best sentence."""
        best = self.best
        if best is None:
            return []
        if not self.question.focus_plural:
            return [best]
        same = [
            c for c in self.choices
            if c.sentence is best.sentence and c.candidate.label == best.candidate.label and c.probability >= 0.5
            and not _overlaps(c.candidate, best.candidate)
        ]
        chosen = [best]
        for c in same:
            if not any(_overlaps(c.candidate, o.candidate) for o in chosen):
                chosen.append(c)
        return sorted(chosen, key=lambda c: c.candidate.start)


def spread(n: int, shortlist: list[int], scores: np.ndarray) -> np.ndarray:
    """Scores for the whole pool: the re-ranker's for the shortlist, and below its worst for every other sentence."""
    out = np.full(n, (float(scores.min()) if len(scores) else 0.0) - 1.0)
    out[shortlist] = scores
    return out


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.start < b.end and b.start < a.end


# What the re-ranker reads of each shortlisted sentence.
RERANK_FEATURES = SENTENCE_FEATURES + DENSE_FEATURES


class Reader:
    """Fitted once (eval/fit_reader.py); holds no per-question state, safe to share between threads."""

    def __init__(
        self,
        params: ReaderParams,
        encode,
        encode_tokens,
        read_sentences: int = READ_SENTENCES,
        read_per_release: int = READ_PER_RELEASE,
        parse=parse,
        pointer=None,
    ) -> None:
        self.params = params
        self.encode = encode  # texts -> unit vectors (the MiniLM embedder)
        # texts -> (unit vectors, per text (char offsets, token vectors)): Embedder.encode_tokens. Required: the span
        # model was fitted on each candidate's neighbourhood, and a stand-in would shift its scores unseen.
        self.encode_tokens = encode_tokens
        self.parse = parse  # texts -> spaCy docs (service.reader.nlp.parse; the fit passes one that remembers)
        # service.reader.pointer.Pointer (or anything with its score()): required when the span model reads its features.
        self.pointer = pointer
        if pointer is None and self.params.needs_pointer:
            raise ValueError("these reader parameters need the pointer model (service/reader/params/pointer-int8.onnx)")
        self.read_sentences = read_sentences
        self.read_per_release = read_per_release
        self._label_vectors: dict[str, np.ndarray] | None = None

    def analyze(self, question: str, pool: list[PoolSentence] | None = None) -> QuestionAnalysis:
        """With the pool, a question typed without capitals is parsed as its releases spell its words (truecase)."""
        typed = fold(question)
        if pool:
            typed = truecase(typed, {id(s.release): s.release.text for s in pool}.values())
        return analyze(question, self.parse([typed])[0])

    def read(self, question: QuestionAnalysis, pool: list[PoolSentence], question_vector: np.ndarray) -> Reading:
        reading = self.featurize(question, pool, question_vector)
        return self.decide(reading)

    # ---- steps ----------------------------------------------------------------------------------------------------

    def featurize(
        self, question: QuestionAnalysis, pool: list[PoolSentence], question_vector: np.ndarray, sentence_logits=None
    ) -> Reading:
        """`sentence_logits` replaces the sentence models' final scores (fitting passes out-of-fold ones)."""
        # The terms' rarity in the pool weighs both the sentence and the span features: computed once.
        idf = pool_idf(pool, question.terms)
        rows = sentence_features(question, pool, idf)
        encoded: dict[int, tuple[np.ndarray, object]] = {}
        words = self.question_words(question) if len(pool) else None
        if sentence_logits is not None:
            logits = np.asarray(sentence_logits, dtype=np.float64)
        else:
            logits = self.params.sentence.logit(rows) if len(pool) else np.zeros(0)
            if self.params.rerank is not None and len(pool):
                shortlist, rerank_rows, encoded = self.shortlist_rows(pool, rows, logits, question_vector, words)
                logits = spread(len(pool), shortlist, self.params.rerank.logit(rerank_rows))
        order = self._sentences_to_read(pool, logits, self.read_sentences)
        # The encoder ran on the shortlist already; only sentences outside it (old parameters) are encoded here.
        missing = [i for i in order if i not in encoded]
        if missing:
            vectors, token_states = self.encode_tokens([fold(pool[i].text) for i in missing])
            encoded.update((i, (v, t)) for i, v, t in zip(missing, vectors, token_states))
        texts = [fold(pool[i].text) for i in order]
        docs = self.parse(texts) if texts else []
        pointed = self.pointer.score(question.folded, texts) if self.pointer is not None and texts else [None] * len(texts)
        readings = []
        for rank, (i, doc) in enumerate(zip(order, docs)):
            vector, token_states = encoded[i]
            d = float(vector @ question_vector)
            cands = candidates(doc)
            context = context_similarities(doc, cands, token_states, question_vector, d)
            readings.append(SentenceReading(int(i), float(logits[i]), d, rank, doc, cands, context,
                                            *match_summary(words, token_states), pointer=pointed[rank]))
        span_rows, span_index = span_features(
            question, readings, self.params.type_table, self._focus_similarity(question), idf
        )
        return Reading(question, pool, rows, logits, readings, span_rows, span_index)

    def shortlist_rows(
        self, pool: list[PoolSentence], rows: np.ndarray, logits: np.ndarray, question_vector: np.ndarray,
        question_words: np.ndarray,
    ) -> tuple[list[int], np.ndarray, dict[int, tuple[np.ndarray, object]]]:
        """The sentence model's shortlist, its rows of RERANK_FEATURES (the cheap features and MiniLM's), and the
        encoder's output for each shortlisted sentence (vector, token states), which the close reading reuses."""
        shortlist = self._sentences_to_read(pool, logits, SHORTLIST)
        vectors, token_states = self.encode_tokens([fold(pool[i].text) for i in shortlist])
        dense = dense_features(question_vector, question_words, vectors, token_states)
        encoded = {i: (v, t) for i, v, t in zip(shortlist, vectors, token_states)}
        return shortlist, np.hstack([rows[shortlist], dense]).astype(np.float32), encoded

    def decide(self, reading: Reading, span_probabilities: np.ndarray | None = None) -> Reading:
        """`span_probabilities` replaces the span model's (fitting passes out-of-fold scores)."""
        if span_probabilities is not None:
            probabilities = span_probabilities
        else:
            probabilities = self.params.span.probability(reading.span_rows) if len(reading.span_rows) else np.zeros(0)
        reading.span_probabilities = probabilities
        order = np.argsort(-probabilities, kind="stable")
        reading.choices = [
            Choice(
                reading.pool[reading.readings[r_i].pool_index],
                cand,
                float(probabilities[j]),
                reading.readings[r_i].logit,
            )
            for j in order
            for r_i, cand in [reading.span_index[j]]
        ]
        reading.answerable_row = answerable_features(reading)
        reading.confidence = float(self.params.answerable.probability(reading.answerable_row[None, :])[0])
        reading.answered = bool(reading.choices) and reading.confidence >= self.params.threshold
        return reading

    def question_words(self, question: QuestionAnalysis) -> np.ndarray:
        """The question's content words as MiniLM's contextual vectors (service.reader.dense)."""
        _, states = self.encode_tokens([question.folded])
        return question_word_vectors(question.folded, states[0])

    def _sentences_to_read(self, pool: list[PoolSentence], logits: np.ndarray, best: int) -> list[int]:
        """The `best` of the pool plus the best `read_per_release` of each release, best first."""
        ranked = [int(i) for i in np.argsort(-logits, kind="stable")]
        chosen = set(ranked[:best])
        taken: dict[str, int] = {}
        for i in ranked:
            rid = pool[i].release.release_id
            if taken.get(rid, 0) < self.read_per_release:
                taken[rid] = taken.get(rid, 0) + 1
                chosen.add(i)
        return [i for i in ranked if i in chosen]

    def _focus_similarity(self, question: QuestionAnalysis) -> dict[str, float]:
        """MiniLM cosine between the noun asked about and spaCy's own description of each entity label."""
        if not question.focus:
            return {}
        if self._label_vectors is None:
            import spacy

            labels = [l for l in self.params.meta.get("labels", []) if spacy.explain(l)]
            vectors = self.encode([spacy.explain(l) for l in labels]) if labels else np.zeros((0, 1))
            self._label_vectors = dict(zip(labels, vectors))
        if not self._label_vectors:
            return {}
        focus_vector = self.encode([question.focus])[0]
        return {label: float(v @ focus_vector) for label, v in self._label_vectors.items()}


__all__ = ["ANSWERABLE_FEATURES", "Choice", "Reader", "Reading", "READ_SENTENCES", "RERANK_FEATURES", "SHORTLIST", "spread"]
