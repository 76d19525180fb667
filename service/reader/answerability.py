"""Answerability: features of the reader's best choice from which one calibrated P(the answer is right) is fitted.

Relevance alone cannot tell an unanswerable question (its closest sentence is on topic but lacks the fact), so
these describe the choice: how sure the span model is, by how much it beats the runner-up, whether the type fits,
and whether the question's rarest word is in the release at all.
"""

from __future__ import annotations

import math

import numpy as np

from service.reader.lexicon import fold
from service.reader.sentences import SENTENCE_FEATURES

ANSWERABLE_FEATURES = (
    "best_span_probability",
    "runner_up_probability",  # the best candidate with other words
    "best_sentence_logit",
    "sentence_margin",  # the best sentence's lead over the second
    "chosen_sentence_logit",
    "chosen_type_log_odds",
    "chosen_window_coverage",
    "chosen_release_coverage",
    "chosen_rarest_in_window",
    "chosen_rarest_in_release",
    "chosen_dense",
    "chosen_in_question_share",
    "log_candidates",
    "open_question",  # what/why/how/other: the answer is a phrase, not a typed entity
    "chosen_names_missing_in_window",
    "chosen_names_missing_in_release",
    "chosen_any_name_missing_in_release",
)

_WINDOW = SENTENCE_FEATURES.index("window_coverage")
_RELEASE = SENTENCE_FEATURES.index("release_coverage")
_RAREST_WINDOW = SENTENCE_FEATURES.index("rarest_in_window")
_RAREST_RELEASE = SENTENCE_FEATURES.index("rarest_in_release")
_NAMES_WINDOW = SENTENCE_FEATURES.index("names_missing_in_window")
_NAMES_RELEASE = SENTENCE_FEATURES.index("names_missing_in_release")


def answerable_features(reading) -> np.ndarray:
    from service.reader.spans import SPAN_FEATURES

    row = np.zeros(len(ANSWERABLE_FEATURES), dtype=np.float32)
    logits = np.sort(reading.sentence_logits)[::-1]
    row[2] = logits[0] if len(logits) else -10.0
    row[3] = logits[0] - logits[1] if len(logits) > 1 else 0.0
    row[13] = float(reading.question.wh in ("what", "why", "how", "other"))
    if not reading.choices:
        row[4] = -10.0
        return row
    best = reading.choices[0]
    row[0] = best.probability
    key = fold(best.text).lower()
    row[1] = next((c.probability for c in reading.choices[1:] if fold(c.text).lower() not in key and key not in fold(c.text).lower()), 0.0)
    row[4] = best.sentence_logit
    j = int(np.argmax(reading.span_probabilities))
    span_row = reading.span_rows[j]
    row[5] = span_row[SPAN_FEATURES.index("type_log_odds")]
    pool_index = reading.readings[reading.span_index[j][0]].pool_index
    sentence_row = reading.sentence_rows[pool_index]
    row[6] = sentence_row[_WINDOW]
    row[7] = sentence_row[_RELEASE]
    row[8] = sentence_row[_RAREST_WINDOW]
    row[9] = sentence_row[_RAREST_RELEASE]
    row[10] = span_row[SPAN_FEATURES.index("sentence_dense")]
    row[11] = span_row[SPAN_FEATURES.index("in_question_share")]
    row[12] = math.log1p(len(reading.choices))
    row[14] = sentence_row[_NAMES_WINDOW]
    row[15] = sentence_row[_NAMES_RELEASE]
    row[16] = float(sentence_row[_NAMES_RELEASE] > 0)
    return row
