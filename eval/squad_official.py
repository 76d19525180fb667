"""SQuAD 2.0's official answer scoring (evaluate-v2.0.py), written out here so figures compare with published ones.

Same logic as the official script: lower case, drop ASCII punctuation, drop the articles a/an/the, collapse
whitespace; EM and F1 per gold answer, the max over a question's gold answers; a question with no gold
answer (unanswerable) has the single gold answer "", which only the empty prediction (an abstention)
matches. One difference of presentation: figures are fractions (0..1) like every other pressqa metric,
where the official script prints percentages.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def get_tokens(text: str) -> list[str]:
    if not text:
        return []
    return normalize_answer(text).split()


def compute_exact(gold: str, prediction: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(prediction))


def compute_f1(gold: str, prediction: str) -> float:
    gold_tokens, pred_tokens = get_tokens(gold), get_tokens(prediction)
    if not gold_tokens or not pred_tokens:
        # One side empty: 1 when both are (a correct abstention), else 0.
        return float(gold_tokens == pred_tokens)
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_texts(answers: Iterable[str]) -> list[str]:
    """The gold answers that survive normalisation; [""] for an unanswerable question, as the official script."""
    texts = [a for a in answers if normalize_answer(a)]
    return texts or [""]


def exact_and_f1(answers: Sequence[str], prediction: str) -> tuple[int, float]:
    """(EM, F1) of one prediction: the max over the question's gold answers; "" is the no-answer prediction."""
    golds = gold_texts(answers)
    return max(compute_exact(g, prediction) for g in golds), max(compute_f1(g, prediction) for g in golds)
