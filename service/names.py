"""Capitalized names and numbers as written in a text: what a follow-up swaps and what a draft must not invent.

Used for claims (service/verify.py) and for elliptical follow-ups (service/condense.py), never to choose an
answer: the reader's candidates come from spaCy (service/reader/candidates.py).
"""

from __future__ import annotations

import re

from service.reader.lexicon import STOPWORDS

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-\.]*[A-Za-z]|[A-Za-z]|\$?\d[\d,\.]*\d|\$?\d")
_CAP_SEQ = re.compile(
    r"(?:[A-Z][\w’'\-\.]*|\d[\d,\.]*)(?:\s+(?:of|the|de|al|bin)?\s*(?:[A-Z][\w’'\-\.]*|\d[\d,\.]*))*"
)
_LEADING = STOPWORDS | {"in", "at", "on", "according"}


def tokens(text: str) -> list[str]:
    return WORD_RE.findall(text)


def entities(text: str) -> list[str]:
    """Capitalized sequences and numbers, minus a sentence's leading capitalized function word."""
    found = []
    for match in _CAP_SEQ.finditer(text):
        value = match.group(0).strip(" ,.")
        if match.start() == 0 or text[: match.start()].rstrip().endswith(("?", ".", "!", '"')):
            first, _, rest = value.partition(" ")
            if first.lower() in _LEADING:
                value = rest
        if value and value.lower() not in STOPWORDS:
            found.append(value)
    return found
