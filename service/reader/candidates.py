"""Answer candidates inside a sentence: spaCy's named entities, noun chunks and the phrases noun chunks head."""

from __future__ import annotations

from dataclasses import dataclass

# A noun chunk's whole subtree ("the decision to rescind the permit for the pipeline") is a candidate when short.
MAX_SUBTREE_TOKENS = 14


@dataclass(frozen=True)
class Candidate:
    text: str
    start: int  # character offsets inside the sentence
    end: int
    token_start: int
    token_end: int  # exclusive
    label: str  # spaCy entity label, or NP (noun chunk) / PHRASE (a noun chunk's subtree)
    root: int  # token index of the span's syntactic head


def _trim(doc, start: int, end: int) -> tuple[int, int]:
    """Drop punctuation, a leading article or possessive determiner ("its 40 years"), and a trailing 's."""
    while start < end and (doc[start].is_punct or doc[start].lower_ in ("the", "a", "an") or doc[start].tag_ == "PRP$"):
        start += 1
    while end > start and (doc[end - 1].is_punct or doc[end - 1].tag_ == "POS"):
        end -= 1
    return start, end


def candidates(doc) -> list[Candidate]:
    found: dict[tuple[int, int], Candidate] = {}

    def add(start: int, end: int, label: str, root: int) -> None:
        start, end = _trim(doc, start, end)
        if end <= start or (start, end) in found:
            return
        span = doc[start:end]
        found[(start, end)] = Candidate(span.text, span.start_char, span.end_char, start, end, label, root)

    for ent in doc.ents:
        add(ent.start, ent.end, ent.label_, ent.root.i)
    for chunk in doc.noun_chunks:
        add(chunk.start, chunk.end, "NP", chunk.root.i)
        subtree = list(chunk.root.subtree)
        lo, hi = subtree[0].i, subtree[-1].i + 1
        if (lo, hi) != (chunk.start, chunk.end) and hi - lo <= MAX_SUBTREE_TOKENS:
            add(lo, hi, "PHRASE", chunk.root.i)
    return sorted(found.values(), key=lambda c: (c.token_start, c.token_end))
