"""Matching primitives shared by the scorers: answer normalisation, whole-token spans, gold-source matching.

- Normalisation is SQuAD's (lower case, drop punctuation, drop the articles a/an/the, collapse spaces),
  with Unicode punctuation (curly quotes, dashes) dropped as well as ASCII, after number canonicalisation
  (eval/numbers.py: "thirteen" = "13", "201st" ≠ "201").
- A release matches a gold source by URL (release id or url equals `source_url`) or by path: the
  release's origin ends with "/" + `source`. A feed item's origin is "feed#item-N", so a feed path alone
  never identifies an item: only its URL does.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence

from eval.gold import GoldSource
from eval.numbers import canonicalize_numbers

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# The chain's citation markers ("[1]", "[2][3]") are references, not answer words.
CITATION_MARKER = re.compile(r"\[\d+\]")


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalization plus number canonicalisation: lower case, digits, no punctuation or articles."""
    text = canonicalize_numbers(text.lower())
    text = "".join(ch for ch in text if not _is_punct(ch))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def strip_citation_markers(text: str) -> str:
    return CITATION_MARKER.sub(" ", text)


def word_count(text: str) -> int:
    """Words of an answer as a reader sees them: whitespace-separated, citation markers and lone punctuation left out."""
    return sum(any(ch.isalnum() for ch in w) for w in strip_citation_markers(text).split())


def contains_span(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """Whether `needle` occurs in `haystack` as a contiguous run of whole tokens."""
    n = len(needle)
    if n == 0:
        return False
    needle = list(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _norm_url(url: str | None) -> str:
    return (url or "").strip().rstrip("/")


def release_matches(release_id: str, url: str | None, origin: str | None, source: GoldSource) -> bool:
    """Whether a cited or retrieved release is the gold source: same URL, or origin ends with its path."""
    if source.url:
        want = _norm_url(source.url)
        if want in (_norm_url(url), _norm_url(release_id)):
            return True
    if source.path and origin:
        o = origin.replace("\\", "/")
        p = source.path.replace("\\", "/").lstrip("/")
        return o == p or o.endswith("/" + p)
    return False


def matching_sources(release, sources: Sequence[GoldSource]) -> list[int]:
    """Indexes of the gold sources a release (a Citation or RelatedRelease) is."""
    return [i for i, s in enumerate(sources) if release_matches(release.release_id, release.url, release.origin, s)]


def distinct_releases(releases: Iterable) -> list:
    seen, out = set(), []
    for r in releases:
        if r.release_id not in seen:
            seen.add(r.release_id)
            out.append(r)
    return out
