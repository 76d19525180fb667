"""The question's negation and comparative or superlative words against a sentence, with the real spaCy model.

Made-up sentences only: an unanswerable question that turns one word of an answerable one.
"""

from __future__ import annotations

import pytest

from service.reader.contrast import Contrasts, contrast_features, question_contrasts
from service.reader.nlp import parse

SENTENCE = "The Quellport cooperative picked the most apples in 2023, twelve thousand tonnes."


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Which cooperative picked the most apples in 2023?", (0.0, 0.0)),
        ("Which cooperative did not pick the most apples in 2023?", (1.0, 0.0)),
        ("Which cooperative picked the fewest apples in 2023?", (0.0, 1.0)),
    ],
)
def test_a_turned_word_is_one_the_sentence_lacks(question, expected):
    question_doc, sentence_doc = parse([question, SENTENCE])
    assert contrast_features(question_contrasts(question_doc), sentence_doc) == expected


def test_a_negation_the_sentence_shares_is_no_mismatch():
    question_doc, sentence_doc = parse(["Which member never voted?", "Only Armistead never voted on the budget."])
    contrasts = question_contrasts(question_doc)
    assert contrasts.negated
    assert contrast_features(contrasts, sentence_doc)[0] == 0.0


def test_a_question_without_contrasts_scores_zero():
    (sentence_doc,) = parse([SENTENCE])
    assert contrast_features(Contrasts(), sentence_doc) == (0.0, 0.0)
