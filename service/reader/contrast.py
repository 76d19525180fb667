"""What a question asserts that its chosen sentence may contradict: a negation, a comparative or superlative.

An unanswerable question is often an answerable one with one word turned: "not" inserted, "most" made "least",
"earlier" made "later" (SQuAD 2.0's negations and antonyms). The rest of the question still matches the sentence
closely, so relevance cannot see it; these say whether the turned word has a counterpart in the sentence. Both
come from spaCy's parse (its `neg` dependency, its comparative and superlative tags), not from word lists.
"""

from __future__ import annotations

from dataclasses import dataclass

# Penn tags of comparative and superlative adjectives and adverbs: "more", "least", "earlier", "largest".
_GRADED_TAGS = ("JJR", "JJS", "RBR", "RBS")


@dataclass(frozen=True)
class Contrasts:
    negated: bool = False  # the question has a negation ("not", "never", "n't")
    graded: tuple[str, ...] = ()  # its comparative and superlative words, lower-cased


def _negated(doc) -> bool:
    return any(t.dep_ == "neg" for t in doc)


def question_contrasts(doc) -> Contrasts:
    """`doc` is spaCy's parse of the question."""
    return Contrasts(_negated(doc), tuple(dict.fromkeys(t.lower_ for t in doc if t.tag_ in _GRADED_TAGS)))


def contrast_features(contrasts: Contrasts, sentence_doc) -> tuple[float, float]:
    """(the question is negated and the sentence is not, the share of the question's comparative and superlative
    words the sentence lacks), for the sentence an answer was chosen from."""
    negation_mismatch = float(contrasts.negated and not _negated(sentence_doc))
    words = {t.lower_ for t in sentence_doc}  # as written: the pipeline runs without its lemmatizer
    graded_missing = sum(g not in words for g in contrasts.graded) / len(contrasts.graded) if contrasts.graded else 0.0
    return negation_mismatch, graded_missing
