"""Verification: every name, number and date a draft answer states must stand in the quote it cites."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from service.names import entities, tokens
from service.reader.lexicon import STOPWORDS, stem

_NUMBER = re.compile(r"\d[\d,\.]*")
_WORD_NUMBERS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
}  # fmt: skip
# Capitalized words that state no fact of their own.
_NEUTRAL = frozenset("the a an he she they it this that these those in on at according yes no i we".split())


def _fold(text: str) -> str:
    """Case-, accent- and quote-insensitive form for containment checks."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-").replace("—", "-")
    return re.sub(r"\s+", " ", text).lower()


def _numbers(text: str) -> set[str]:
    found = {m.group(0).rstrip(".,").replace(",", "") for m in _NUMBER.finditer(text)}
    for word in tokens(text):
        if word.lower() in _WORD_NUMBERS:
            found.add(_WORD_NUMBERS[word.lower()])
    return {n for n in found if n}


@dataclass(frozen=True)
class Verdict:
    supported: bool
    unsupported: tuple[str, ...]  # the claims (names, numbers) not found in the evidence
    support: float  # share of the draft's content words found in the evidence


def verify(draft: str, quotes: list[str], question: str = "") -> Verdict:
    """Check a draft against its quotes; the question's own words may be echoed but never add facts."""
    context = _fold(" ".join(quotes) + " " + question)
    unsupported: list[str] = []

    for name in entities(draft):
        words = [w for w in tokens(name) if w.lower() not in _NEUTRAL]
        for word in words:
            folded = _fold(word.rstrip("'’").removesuffix("'s").removesuffix("’s"))
            if folded and not folded[0].isdigit() and folded not in context:
                unsupported.append(name)
                break

    evidence_numbers = _numbers(" ".join(quotes))
    question_numbers = _numbers(question)
    for number in _numbers(draft):
        if number not in evidence_numbers and number not in question_numbers:
            unsupported.append(number)

    content = [stem(t) for t in tokens(draft) if t.lower() not in STOPWORDS]
    context_stems = {stem(t) for t in tokens(context)}
    support = sum(1 for t in content if t in context_stems) / len(content) if content else 0.0
    # A draft that mostly talks about things outside the evidence is not an answer from it.
    supported = not unsupported and support >= 0.7 and bool(content)
    return Verdict(supported, tuple(dict.fromkeys(unsupported)), support)
