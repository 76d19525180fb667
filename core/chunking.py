"""Sentence spans and sentence-aligned chunks that fit the embedding model's window."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from core.records import Chunk, Release

# Room for the [CLS] and [SEP] tokens the tokenizer adds around every chunk.
SPECIAL_TOKENS = 2

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A sentence can only end at terminal punctuation (optionally closed by quotes/brackets) before whitespace;
# a paragraph without one is a single sentence and skips pysbd, which is the slow part of ingest.
_POSSIBLE_END = re.compile(r"[.!?…][\"'”’)\]]*\s")
# Abbreviations that precede a name or number and so never end a sentence (pysbd splits "King Jr. Day").
_NEVER_FINAL = re.compile(
    r"(?:^|[\s(\"“])(?:Mr|Mrs|Ms|Mx|Dr|Gov|Sen|Sens|Rep|Reps|Gen|Lt|Col|Capt|Cmdr|Adm|Maj|Sgt|Prof|Rev|Hon|Amb|"
    r"Pres|Sec|Jr|Sr|St|Mt|Ft|No|Nos|Vol|Art|Sec|Fig|vs|Messrs|Excellency)\.$"
)
_CLAUSE_BREAK = re.compile(r"[;,:—–](?=\s)|\s[—–]\s")


# pysbd compiles a few thousand distinct regexes (several per known abbreviation), more than the 512 that `re`
# caches, so it recompiled them for every paragraph: half of its time, and chunking was a fifth of ingest.
REGEX_CACHE_SIZE = 8192


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    if getattr(re, "_MAXCACHE", REGEX_CACHE_SIZE) < REGEX_CACHE_SIZE:
        re._MAXCACHE = REGEX_CACHE_SIZE

    return pysbd.Segmenter(language="en", clean=False)


def _pysbd_sentences(para: str) -> list[str]:
    """pysbd's sentences without its Segmenter.segment(), which then searches the text for each sentence with a
    freshly compiled regex (a quarter of ingest's chunking time); _align maps them back instead. Same spans on all
    3,577 bundled releases."""
    segmenter = _segmenter()
    return segmenter.processor(para).process()


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _align(para: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Map pysbd's pieces back onto the paragraph by walking non-space characters (pysbd may alter spaces)."""
    spans, pos = [], 0
    n = len(para)
    for piece in pieces:
        chars = [c for c in piece if not c.isspace()]
        if not chars:
            continue
        while pos < n and para[pos].isspace():
            pos += 1
        start, i = pos, 0
        while pos < n and i < len(chars):
            if para[pos].isspace():
                pos += 1
            elif para[pos] == chars[i]:
                pos += 1
                i += 1
            else:
                break
        if i < len(chars):  # pysbd changed the text: keep the rest of the paragraph as one sentence
            spans.append((start, n))
            return spans
        spans.append((start, pos))
    if pos < n and para[pos:].strip():
        spans.append(_strip(para, pos, n))
    return spans


def _merge_false_breaks(para: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            ps, pe = merged[-1]
            first = para[s]
            if _NEVER_FINAL.search(para[ps:pe]) or first.islower() or (first.isdigit() and para[pe - 1] != "."):
                merged[-1] = (ps, e)
                continue
        merged.append((s, e))
    return merged


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) into text; paragraph breaks always end a sentence."""
    out: list[tuple[int, int]] = []
    for ps, pe in _paragraphs(text):
        para = text[ps:pe]
        if not _POSSIBLE_END.search(para):
            out.append((ps, pe))
            continue
        spans = _merge_false_breaks(para, _align(para, _pysbd_sentences(para)))
        out.extend((ps + s, ps + e) for s, e in spans)
    return out


def _split_long(text: str, start: int, end: int, count: Callable[[str], int], budget: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at clause boundaries, and only failing that at word boundaries."""
    if count(text[start:end]) <= budget:
        return [(start, end)]
    cuts = [start + m.end() for m in _CLAUSE_BREAK.finditer(text[start:end])]
    if not cuts:
        cuts = [start + m.start() for m in re.finditer(r"\s+", text[start:end])]
        if not cuts:  # one enormous token run: cut characters
            step = max(1, (end - start) // 2)
            cuts = [start + step]
    pieces, pos = [], start
    for c in cuts:
        s, e = _strip(text, pos, c)
        if e > s:
            pieces.append((s, e))
        pos = c
    s, e = _strip(text, pos, end)
    if e > s:
        pieces.append((s, e))
    out: list[tuple[int, int]] = []
    for s, e in _pack(text, pieces, count, budget, split=False):
        out.extend(_split_long(text, s, e, count, budget) if count(text[s:e]) > budget else [(s, e)])
    return out


def _pack(text: str, spans: list[tuple[int, int]], count: Callable[[str], int], budget: int, split: bool = True):
    """Greedily join consecutive spans while the joined text fits the budget."""
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    cur_tokens = 0
    for s, e in spans:
        n = count(text[s:e])
        if n > budget and split:
            if cur:
                out.append(cur)
                cur, cur_tokens = None, 0
            out.extend(_split_long(text, s, e, count, budget))
            continue
        # Token counts of joined text are at most the sum (+1 for safety at the seam).
        if cur and cur_tokens + n + 1 <= budget:
            cur, cur_tokens = (cur[0], e), cur_tokens + n + 1
        else:
            if cur:
                out.append(cur)
            cur, cur_tokens = (s, e), n
    if cur:
        out.append(cur)
    return out


def chunk_release(release: Release, count_tokens: Callable[[str], int], max_tokens: int = 256) -> list[Chunk]:
    """Whole sentences packed into chunks of at most max_tokens model tokens, special tokens included."""
    text = release.text
    budget = max_tokens - SPECIAL_TOKENS
    spans = _pack(text, split_sentences(text), count_tokens, budget)
    return [Chunk(release.id, i, text[s:e], s, e) for i, (s, e) in enumerate(spans)]
