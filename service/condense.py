"""Follow-up questions made standalone: "And Kyrgyzstan?" → the previous question about Kyrgyzstan."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from service.names import entities, tokens
from service.reader.lexicon import STOPWORDS
from service.records import Message

_ELLIPTICAL = re.compile(r"^\s*(?:and|what about|how about|and what about|same for|also)\s+(?:for\s+)?(.+?)\s*[?.!]*\s*$", re.I)


@dataclass(frozen=True)
class Condensed:
    standalone: str  # what the user effectively asks
    retrieval_query: str  # what retrieval searches with (may carry context from earlier turns)
    rewritten: bool


def _elliptical_subject(question: str) -> str | None:
    """"Kyrgyzstan" in "And Kyrgyzstan?": a short follow-up that only names a new subject."""
    match = _ELLIPTICAL.match(question)
    if match and len(tokens(match.group(1))) <= 6 and not re.match(r"(who|what|which|how|when|where|why)\b", match.group(1), re.I):
        return match.group(1).strip()
    return None


def last_standalone_question(history: list[Message], embed=None) -> str | None:
    """The question a new follow-up builds on, with earlier elliptical follow-ups already resolved.

    In "Who represented Turkmenistan …?" / "And Kyrgyzstan?" / "And Kazakhstan?" the base of the third turn is
    "Who represented Kyrgyzstan …?", not the bare "And Kyrgyzstan?": each elliptical user turn is resolved
    against the base before it, every other user turn starts a new base.
    """
    base: str | None = None
    for message in history:
        text = message.content.strip()
        if message.role != "user" or not text:
            continue
        subject = _elliptical_subject(text) if base else None
        resolved = substitute_entity(base, subject, embed) if subject else None
        base = resolved or text
    return base


def substitute_entity(previous: str, replacement: str, embed) -> str | None:
    """The previous question with its entity most like `replacement` swapped for it (Turkmenistan → Kyrgyzstan)."""
    candidates = [e for e in entities(previous) if e.lower() not in STOPWORDS]
    if not candidates:
        return None
    if embed is not None and len(candidates) > 1:
        vectors = embed([replacement] + candidates)
        sims = vectors[1:] @ vectors[0]
        target = candidates[int(np.argmax(sims))]
    else:
        target = candidates[0]
    return previous.replace(target, replacement, 1)


def condense(question: str, history: list[Message] | None, embed=None, rewrite=None) -> Condensed:
    """Rewrite a follow-up into a standalone question.

    `embed(texts) -> normalized vectors` picks which entity an elliptical follow-up replaces;
    `rewrite(history_text, question) -> str` (an LLM) may phrase other follow-ups, but its rewrite is kept only
    when it keeps the follow-up's own words and adds no name absent from the conversation.
    """
    question = question.strip()
    previous = last_standalone_question(history or [], embed)
    if not previous:
        return Condensed(question, question, False)

    subject = _elliptical_subject(question)
    if subject:
        swapped = substitute_entity(previous, subject, embed)
        if swapped:
            return Condensed(swapped, swapped, True)

    if rewrite is not None:
        conversation = "\n".join(f"{m.role}: {m.content}" for m in (history or [])[-4:])
        try:
            candidate = (rewrite(conversation, question) or "").strip().split("\n")[0].strip()
        except Exception:  # a failing rewrite must not fail the answer: fall back to the plain follow-up
            candidate = ""
        if candidate and _acceptable_rewrite(candidate, question, conversation):
            return Condensed(candidate, candidate + " " + previous, True)
    return Condensed(question, question + " " + previous, False)


def _acceptable_rewrite(candidate: str, question: str, conversation: str) -> bool:
    if not candidate.endswith("?") or len(candidate) > 400:
        return False
    own = {t.lower() for t in tokens(question) if t.lower() not in STOPWORDS}
    said = {t.lower() for t in tokens(candidate)}
    if own - said:
        return False
    known = {t.lower() for t in tokens(conversation + " " + question)}
    return all(t.lower() in known for e in entities(candidate) for t in tokens(e))
