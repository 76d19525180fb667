"""Answerability: features of the reader's best choice from which one calibrated P(the answer is right) is fitted.

Relevance alone cannot tell an unanswerable question (its closest sentence is on topic but lacks the fact), so
these describe the choice: how sure the span model is, by how much it beats the runner-up, whether the type fits,
whether the question's rarest word is in the release at all, and whether the question turns a word the chosen
sentence does not (a negation, a superlative: service.reader.contrast).
"""

from __future__ import annotations

import numpy as np

from service.reader.contrast import contrast_features
from service.reader.lexicon import fold
from service.reader.names import mentioned
from service.reader.sentences import SENTENCE_FEATURES

# No feature counts the pool's sentences or candidates: a small corpus gives small pools, and a count fitted on
# five full releases extrapolates badly to one short release.
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
    "open_question",  # what/why/how/other: the answer is a phrase, not a typed entity
    "chosen_names_missing_in_window",
    "chosen_names_missing_in_release",
    "chosen_release_lacks_a_name",  # the chosen release mentions none of the ways to say one thing the question names
    "pool_lacks_a_name",  # … and no release read does: the question is about something the releases never name
    "chosen_word_match",  # MiniLM: the question words' mean best match in the chosen sentence (service.reader.dense)
    "chosen_weakest_word",  # … the least matched word's: a changed word of an otherwise answerable question
    "chosen_negation_mismatch",  # service.reader.contrast: the question negates, the chosen sentence does not
    "chosen_graded_missing",  # … the question's "least", "earlier" are not in the chosen sentence
    # The chosen release has a publication date: a press release, not other text (an encyclopedia paragraph, a
    # plain file). How often a question has no answer differs by kind of text, and one shared model without this
    # set one compromise for both (out of fold: right answer or abstention 0.457 → 0.549 on undated paragraphs).
    "chosen_release_dated",
)

_WINDOW = SENTENCE_FEATURES.index("window_coverage")
_RELEASE = SENTENCE_FEATURES.index("release_coverage")
_RAREST_WINDOW = SENTENCE_FEATURES.index("rarest_in_window")
_RAREST_RELEASE = SENTENCE_FEATURES.index("rarest_in_release")
_NAMES_WINDOW = SENTENCE_FEATURES.index("names_missing_in_window")
_NAMES_RELEASE = SENTENCE_FEATURES.index("names_missing_in_release")


def lacks_a_name(names, releases) -> bool:
    """Whether one of the names (service.reader.names) is mentioned in none of the releases."""
    return any(not any(mentioned(name, r.stems, r.acronyms) for r in releases) for name in names)


def answerable_features(reading) -> np.ndarray:
    from service.reader.spans import SPAN_FEATURES

    logits = np.sort(reading.sentence_logits)[::-1]
    values = dict.fromkeys(ANSWERABLE_FEATURES, 0.0)
    values["best_sentence_logit"] = logits[0] if len(logits) else -10.0
    values["sentence_margin"] = logits[0] - logits[1] if len(logits) > 1 else 0.0
    values["open_question"] = float(reading.question.wh in ("what", "why", "how", "other"))
    if reading.pool:  # with no choice, the best-retrieved release says which kind of text was asked about
        values["chosen_release_dated"] = float(bool(reading.pool[0].release.published))
    if not reading.choices:
        values["chosen_sentence_logit"] = -10.0
        return np.array([values[f] for f in ANSWERABLE_FEATURES], dtype=np.float32)
    best = reading.choices[0]
    key = fold(best.text).lower()
    j = int(np.argmax(reading.span_probabilities))
    span_row = reading.span_rows[j]
    chosen_reading = reading.readings[reading.span_index[j][0]]
    sentence_row = reading.sentence_rows[chosen_reading.pool_index]
    chosen_release = reading.pool[chosen_reading.pool_index].release
    values.update(
        best_span_probability=best.probability,
        runner_up_probability=next(
            (c.probability for c in reading.choices[1:] if fold(c.text).lower() not in key and key not in fold(c.text).lower()), 0.0
        ),
        chosen_sentence_logit=best.sentence_logit,
        chosen_type_log_odds=span_row[SPAN_FEATURES.index("type_log_odds")],
        chosen_window_coverage=sentence_row[_WINDOW],
        chosen_release_coverage=sentence_row[_RELEASE],
        chosen_rarest_in_window=sentence_row[_RAREST_WINDOW],
        chosen_rarest_in_release=sentence_row[_RAREST_RELEASE],
        chosen_dense=span_row[SPAN_FEATURES.index("sentence_dense")],
        chosen_in_question_share=span_row[SPAN_FEATURES.index("in_question_share")],
        chosen_names_missing_in_window=sentence_row[_NAMES_WINDOW],
        chosen_names_missing_in_release=sentence_row[_NAMES_RELEASE],
        chosen_release_lacks_a_name=float(lacks_a_name(reading.question.names, [chosen_release])),
        pool_lacks_a_name=float(lacks_a_name(reading.question.names, {id(s.release): s.release for s in reading.pool}.values())),
        chosen_word_match=chosen_reading.word_match,
        chosen_weakest_word=chosen_reading.weakest_word,
        chosen_release_dated=float(bool(chosen_release.published)),
    )
    values["chosen_negation_mismatch"], values["chosen_graded_missing"] = contrast_features(reading.question.contrasts, chosen_reading.doc)
    return np.array([values[f] for f in ANSWERABLE_FEATURES], dtype=np.float32)
