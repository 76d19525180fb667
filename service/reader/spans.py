"""Span features: how a candidate sits in its sentence relative to the question's words, and whether its type fits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from service.reader.analysis import QuestionAnalysis
from service.reader.candidates import Candidate
from service.reader.lexicon import content_stems, fold, stem
from service.reader.pointer import PointerScores

SPAN_FEATURES = (
    "sentence_logit",  # the sentence model's score of the candidate's sentence
    "sentence_dense",  # MiniLM cosine of question and sentence
    "sentence_rank",  # log(1 + rank of the sentence among those read)
    "type_log_odds",  # fitted: how often a candidate of this label answers a question of this wh-word
    "focus_label_similarity",  # MiniLM cosine of the asked-about noun and spaCy's description of the label
    "focus_near",  # the asked-about noun is in or right beside the candidate ("the city of Columbus")
    "in_question_share",  # share of the candidate's words the question already has
    "all_in_question",
    "token_distance",  # log distance in tokens to the nearest question word in the sentence
    "terms_near",  # share of the question's terms within six tokens of the candidate
    "tree_distance",  # log length of the dependency path to the nearest question word
    "log_length",
    "is_entity",
    "is_noun_chunk",
    "is_phrase",
    "is_proper",
    "relative_position",
    "same_label_count",
    "head_verb_in_question",  # the candidate is an argument of a verb the question uses
    "votes",  # log(1 + other sentences read that contain the same candidate)
    "is_subject",
    "is_object",
    "has_digit",
    "context_coverage",  # idf-weighted share of the question's terms within eight tokens of the candidate
    "question_word_adjacent",  # a question word stands right before or after the candidate
    "head_is_focus",  # the candidate's head noun is the noun the question asks about
    "context_dense",  # MiniLM cosine of the question and the candidate's neighbours (its contextual token vectors)
    "pointer_margin",  # the pointer model's score of exactly this span, less its best span in the sentence (<= 0)
    "pointer_over_null",  # … less its "the answer is not in this sentence"
)

# Tokens each side of a candidate that make its neighbourhood for context_dense.
CONTEXT_TOKENS = 6

_FAR = 40  # distance used when the sentence has none of the question's words


@dataclass
class SentenceReading:
    """A sentence the reader looked at closely, with its parse and its candidates."""

    pool_index: int
    logit: float
    dense: float
    rank: int
    doc: object
    candidates: list[Candidate]
    context_dense: list[float]  # per candidate: MiniLM cosine of the question and the candidate's neighbourhood
    word_match: float = 0.0  # service.reader.dense: the question words' mean best match in the sentence
    weakest_word: float = 0.0  # … and the least matched one's
    pointer: PointerScores | None = None  # service.reader.pointer: where the pointer model points in it


def context_similarities(doc, cands: list[Candidate], token_states, question_vector: np.ndarray, fallback: float) -> list[float]:
    """Cosine of the question and the mean contextual vector of the encoder tokens around each candidate (without it).

    `token_states` are the encoder's (character offsets, vectors) for the same text as `doc`; a word such as
    "ambassador" beside a name then counts for a question that says "represented", which no word overlap sees.
    """
    offsets, hidden = token_states
    real = offsets[:, 1] > offsets[:, 0]  # special tokens sit at (0, 0)
    out = []
    for cand in cands:
        lo = doc[max(0, cand.token_start - CONTEXT_TOKENS)].idx
        hi_token = doc[min(len(doc), cand.token_end + CONTEXT_TOKENS) - 1]
        hi = hi_token.idx + len(hi_token.text)
        inside = real & (offsets[:, 0] >= lo) & (offsets[:, 1] <= hi) & ~((offsets[:, 0] >= cand.start) & (offsets[:, 1] <= cand.end))
        if not inside.any():
            out.append(fallback)
            continue
        v = hidden[inside].mean(axis=0)
        out.append(float(v @ question_vector / max(float(np.linalg.norm(v)), 1e-12)))
    return out


def pointer_features(pointer: PointerScores | None, cand: Candidate) -> tuple[float, float]:
    """pointer_margin and pointer_over_null; a reader without the pointer model reads both as 0 (no preference)."""
    if pointer is None:
        return 0.0, 0.0
    score = pointer.span(cand.start, cand.end)
    return score - pointer.best, score - pointer.null


def _root_paths(doc) -> list[list[int]]:
    paths = []
    for tok in doc:
        path = [tok.i]
        node = tok
        while node.head.i != node.i and len(path) < 64:
            node = node.head
            path.append(node.i)
        paths.append(path[::-1])
    return paths


def _tree_distance(paths, a: int, b: int) -> int:
    pa, pb = paths[a], paths[b]
    common = 0
    for x, y in zip(pa, pb):
        if x != y:
            break
        common += 1
    if common == 0:  # different sentences inside one doc: no path
        return _FAR
    return len(pa) + len(pb) - 2 * common


def span_features(
    question: QuestionAnalysis,
    readings: list[SentenceReading],
    type_table: dict[str, dict[str, float]],
    focus_label_similarity: dict[str, float],
    idf: dict[str, float] | None = None,
) -> tuple[np.ndarray, list[tuple[int, Candidate]]]:
    """Rows of SPAN_FEATURES for every candidate of every reading, and (reading index, candidate) for each row."""
    terms = set(question.terms)
    focus = stem(question.focus) if question.focus else None
    question_stems = set(content_stems(question.folded))
    table = type_table.get(question.wh) or type_table.get("_all", {})
    idf = idf or {t: 1.0 for t in terms}
    total_idf = sum(idf.get(t, 0.0) for t in terms) or 1.0
    texts_per_reading = [{fold(c.text).lower() for c in r.candidates} for r in readings]
    rows, index = [], []
    for r_i, reading in enumerate(readings):
        doc = reading.doc
        stems = [stem(t.lower_) for t in doc]
        term_positions = [i for i, s in enumerate(stems) if s in terms]
        paths = _root_paths(doc)
        label_counts: dict[str, int] = {}
        for c in reading.candidates:
            label_counts[c.label] = label_counts.get(c.label, 0) + 1
        n_tokens = max(1, len(doc))
        pointer = reading.pointer
        for cand, cand_context_dense in zip(reading.candidates, reading.context_dense):
            inside = range(cand.token_start, cand.token_end)
            cand_stems = [stems[i] for i in inside if not doc[i].is_punct and not doc[i].is_stop]
            share = sum(s in question_stems for s in cand_stems) / len(cand_stems) if cand_stems else 1.0
            outside = [p for p in term_positions if p not in inside]
            if outside:
                token_distance = min(min(abs(p - cand.token_start), abs(p - (cand.token_end - 1))) for p in outside)
                tree_distance = min(_tree_distance(paths, cand.root, p) for p in outside)
            else:
                token_distance = tree_distance = _FAR
            near = {stems[p] for p in outside if cand.token_start - 6 <= p < cand.token_end + 6}
            context = {stems[p] for p in outside if cand.token_start - 8 <= p < cand.token_end + 8}
            adjacent = any(p in (cand.token_start - 1, cand.token_start - 2, cand.token_end, cand.token_end + 1) for p in outside)
            beside = range(max(0, cand.token_start - 3), min(len(doc), cand.token_end + 2))
            root = doc[cand.root]
            head = root.head
            verb_in_question = any(
                t.pos_ in ("VERB", "AUX") and stem(t.lower_) in terms for t in (head, head.head) if t.i != root.i
            )
            key = fold(cand.text).lower()
            votes = sum(key in other for j, other in enumerate(texts_per_reading) if j != r_i)
            rows.append(
                (
                    reading.logit,
                    reading.dense,
                    math.log1p(reading.rank),
                    table.get(cand.label, table.get("_other", 0.0)),
                    focus_label_similarity.get(cand.label, 0.0),
                    float(focus is not None and any(stems[i] == focus for i in beside)),
                    share,
                    float(share >= 0.999),
                    math.log1p(token_distance),
                    len(near) / max(1, len(terms)),
                    math.log1p(tree_distance),
                    math.log(cand.token_end - cand.token_start),
                    float(cand.label not in ("NP", "PHRASE")),
                    float(cand.label == "NP"),
                    float(cand.label == "PHRASE"),
                    float(any(doc[i].pos_ == "PROPN" for i in inside)),
                    cand.token_start / n_tokens,
                    math.log(label_counts[cand.label]),
                    float(verb_in_question),
                    math.log1p(votes),
                    float(root.dep_ in ("nsubj", "nsubjpass")),
                    float(root.dep_ in ("dobj", "pobj", "attr", "appos")),
                    float(any(ch.isdigit() for ch in cand.text)),
                    sum(idf.get(t, 0.0) for t in context) / total_idf,
                    float(adjacent),
                    float(focus is not None and stems[cand.root] == focus),
                    cand_context_dense,
                    *pointer_features(pointer, cand),
                )
            )
            index.append((r_i, cand))
    return np.array(rows, dtype=np.float32).reshape(len(rows), len(SPAN_FEATURES)), index
