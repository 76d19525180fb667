"""Sentence features: how well each pool sentence, its neighbours, its title and its release match the question.

Cheap (sets of stems, no model), so every sentence of the pool is scored; the fitted sentence model turns them
into one score, and only the best few go on to spaCy and the span model.
"""

from __future__ import annotations

import math
import re

import numpy as np

from service.reader.analysis import QuestionAnalysis
from service.reader.lexicon import MONTHS, content_stems, stem
from service.reader.names import name_in, name_words
from service.reader.pool import PoolSentence

SENTENCE_FEATURES = (
    "sentence_coverage",  # idf-weighted share of the question's terms in the sentence
    "window_coverage",  # … in the sentence and its two neighbours
    "title_coverage",
    "release_coverage",
    "bm25",  # BM25 of the sentence in the pool, relative to the pool's best
    "matched_share",  # unweighted share of question terms in the sentence
    "rarest_in_sentence",  # the question's rarest term (the name it asks about) is in the sentence
    "rarest_in_window",
    "rarest_in_release",
    "focus_in_window",
    "log_position",
    "is_first",
    "release_rank",
    "release_score",
    "log_length",
    "novelty",  # share of the sentence's words the question does not have: a restatement answers nothing
    "has_number",
    "inner_capitals",  # capitalized words after the first: names, places, organisations
    "names_missing_in_window",  # share of the question's proper nouns absent from the sentence and its neighbours
    "names_missing_in_release",  # … absent from the whole release: it is about something else
    "type_hint",  # the sentence has what the wh-word asks for, cheaply: capitals for who/where, a date for when, a number for how many
    "detail_coverage",  # idf-weighted share of the question's terms its release's title lacks (what it asks beyond the topic) in the sentence
    "detail_window_coverage",  # … in the sentence and its two neighbours
)

_INNER_CAPITAL = re.compile(r"(?<=[\s,;(])[A-Z][a-z]+")
_NUMBER = re.compile(r"\d")
_DATE_HINT = re.compile(r"\b(?:%s)\b|\b(?:1[89]|20)\d\d\b" % "|".join(m.capitalize() for m in MONTHS))


def _type_hint(wh: str, text: str, capitals: int) -> float:
    if wh in ("who", "where", "which"):
        return min(1.0, capitals / 3)
    if wh == "when":
        return float(bool(_DATE_HINT.search(text)))
    if wh.startswith("how_"):
        return float(bool(_NUMBER.search(text)))
    return 0.0


def pool_idf(pool: list[PoolSentence], terms: tuple[str, ...]) -> dict[str, float]:
    n = len(pool)
    df = {t: 0 for t in terms}
    for s in pool:
        for t in terms:
            if t in s.stems:
                df[t] += 1
    return {t: math.log((n + 1) / (df[t] + 0.5)) for t in terms}


def sentence_features(question: QuestionAnalysis, pool: list[PoolSentence], idf: dict[str, float] | None = None) -> np.ndarray:
    """One row of SENTENCE_FEATURES per pool sentence (`idf`: pool_idf(pool, question.terms), when already computed)."""
    rows = np.zeros((len(pool), len(SENTENCE_FEATURES)), dtype=np.float32)
    if not pool:
        return rows
    terms = question.terms
    idf = idf if idf is not None else pool_idf(pool, terms)
    total = sum(idf.values()) or 1.0
    rarest = max(terms, key=lambda t: idf[t]) if terms else None
    focus = stem(question.focus) if question.focus else None
    q_stems = set(terms) | ({focus} if focus else set())
    names = name_words(question.names)  # word by word: how much of what the question names a sentence shows
    n_names = max(1, len(names))
    release_stems: dict[str, frozenset[str]] = {}
    title_stems: dict[str, frozenset[str]] = {}
    for s in pool:
        rid = s.release.release_id
        if rid not in release_stems:
            release_stems[rid] = s.release.stems
            title_stems[rid] = frozenset(content_stems(s.release.title))
    names_missing = {rid: sum(not name_in(n, stems) for n in names) / n_names for rid, stems in release_stems.items()}
    lengths = np.array([max(1, len(s.stems)) for s in pool], dtype=np.float32)
    avg = float(lengths.mean())
    bm25 = np.zeros(len(pool), dtype=np.float32)
    for i, s in enumerate(pool):
        norm = 1.2 * (0.25 + 0.75 * lengths[i] / avg)
        bm25[i] = sum(idf[t] * 2.2 / (1 + norm) for t in terms if t in s.stems)
    best_bm25 = float(bm25.max()) or 1.0
    # A release's title says what all its sentences are about; the question's other terms tell its sentences apart.
    details = {rid: [t for t in terms if t not in stems] for rid, stems in title_stems.items()}
    detail_total = {rid: sum(idf[t] for t in ts) or 1.0 for rid, ts in details.items()}
    for i, s in enumerate(pool):
        rid = s.release.release_id
        text = s.text
        capitals = len(_INNER_CAPITAL.findall(text))
        rows[i] = (
            sum(idf[t] for t in terms if t in s.stems) / total,
            sum(idf[t] for t in terms if t in s.window_stems) / total,
            sum(idf[t] for t in terms if t in title_stems[rid]) / total,
            sum(idf[t] for t in terms if t in release_stems[rid]) / total,
            bm25[i] / best_bm25,
            sum(t in s.stems for t in terms) / max(1, len(terms)),
            float(rarest is not None and rarest in s.stems),
            float(rarest is not None and rarest in s.window_stems),
            float(rarest is not None and rarest in release_stems[rid]),
            float(focus is not None and focus in s.window_stems),
            math.log1p(s.index),
            float(s.index == 0),
            float(s.release.rank),
            s.release.score,
            math.log(lengths[i]),
            len(s.stems - q_stems) / max(1, len(s.stems)),
            float(bool(_NUMBER.search(text))),
            min(10, capitals) / 10,
            sum(not name_in(n, s.window_stems) for n in names) / n_names,
            names_missing[rid],
            _type_hint(question.wh, text, capitals),
            sum(idf[t] for t in details[rid] if t in s.stems) / detail_total[rid],
            sum(idf[t] for t in details[rid] if t in s.window_stems) / detail_total[rid],
        )
    return rows
