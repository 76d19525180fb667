"""An OpenAI-compatible model chooses the answer among the reader's sentences; pressqa keeps only what they support.

With `PRESSQA_LLM_BACKEND=openai` the chain hands the reader's Reading to `LlmChooser.choose`:

1. The model is shown the question and the reader's best N distinct sentences, numbered: first the sentences of
   the reader's ranked choices in that order, then, while fewer than N, the next ones by the sentence model's score.
2. It answers JSON, `{"answer": "...", "sentences": [ids]}` or `{"answer": null, ...}`, asked for with
   `response_format={"type": "json_object"}`. A server that rejects that field is asked again without it, once, and
   this chooser stops sending it; without it the first JSON object in the reply text is read.
3. The answer is kept only when a sentence it cites supports it, tried in this order:
   - **span**: its words, folded (case, accents, typographic quotes and dashes), are consecutive words of the
     sentence. The answer shown is then the sentence's own text at those offsets.
   - **verified**: every name and number it states stands in that one sentence, and most of its words do
     (service/verify.py). It is shown as the model wrote it, with no offsets: a Candidate whose start == end.
   Both need a cited sentence that supports the answer on its own, because the answer cites exactly one sentence.
   An answer of stop words only, or one that has no word of its own beyond the question's, is not an answer.
4. The kept answer becomes the Reading's first choice; the reader's confidence is kept. `answered` becomes True when
   the answer is a span, even where the reader abstained: the model then found a sentence that states the answer
   word for word, the strongest evidence pressqa has. A verified paraphrase keeps the reader's `answered`, so it can
   change which answer is given but never turn an abstention into an answer.

A null answer, an unsupported or malformed one, a timeout or any error gives back the reader's Reading unchanged
(the reason logged at debug). So a stronger model changes which answer is chosen, and never what the releases say.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.reader import Choice, Reading
from service.reader.candidates import Candidate
from service.reader.lexicon import STOPWORDS, content_stems, fold
from service.reader.pool import PoolSentence

log = logging.getLogger(__name__)

# The label of a candidate the model chose that the reader had not listed.
LLM_LABEL = "LLM"
# HTTP statuses with which a server refuses a request field it does not support.
_REJECTED_FIELD = frozenset({400, 415, 422, 501})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LEADING_ARTICLES = ("the", "a", "an")


@dataclass
class Consultation:
    """What one `consult` did, for tests and debugging; `reading` is what `choose` returns."""

    reading: Reading
    outcome: str  # "span", "verified", "null" (the model found no answer) or "fallback"
    reason: str
    sentences: list[PoolSentence] = field(default_factory=list)  # as presented, [1] first
    reply: str | None = None  # the model's text
    parsed: dict[str, Any] | None = None
    json_mode: bool | None = None  # whether the request that was answered asked for response_format


class LlmChooser:
    """Shared by every request; the only state is whether the server accepts `response_format`."""

    def __init__(
        self, llm, candidates: int = 10, max_tokens: int | None = 128, json_mode: bool = True, prompts: Path | None = None
    ) -> None:
        if candidates < 1:
            raise ValueError(f"candidates must be at least 1, got {candidates}")
        self.llm = llm
        self.candidates = candidates
        self.max_tokens = max_tokens
        self.json_mode = json_mode  # False once the server has refused response_format
        self.prompts = prompts  # folder of choose.system.txt + choose.user.txt; default: prompts/

    def choose(self, question: str, reading: Reading) -> Reading:
        return self.consult(question, reading).reading

    def consult(self, question: str, reading: Reading) -> Consultation:
        sentences = presented(reading, self.candidates)
        if not sentences:
            return _fallback(reading, "the reader has no sentence to choose from", sentences)
        from service.prompts import load_prompt

        messages = load_prompt("choose", self.prompts).format_messages(question=question, sentences=numbered(sentences))
        try:
            reply, json_mode = self._ask(messages)
        except Exception as exc:  # a timeout, an unreachable server, an HTTP error: the reader's answer stands
            return _fallback(reading, f"the model failed: {exc!r}", sentences)
        text = _text(reply)
        parsed = parse_reply(text)
        found = Consultation(reading, "fallback", "", sentences, text, parsed, json_mode)
        if parsed is None:
            return _fell_back(found, f"no JSON object with an answer in the reply {text[:200]!r}")
        answer, ids = parsed["answer"], parsed["sentences"]
        if answer is None:
            found.outcome, found.reason = "null", "the model says no sentence states it"
            log.debug("chooser: %s; the reader's decision stands", found.reason)
            return found
        cited = _cited(ids, sentences)
        if not cited:
            return _fell_back(found, f"the answer {answer!r} cites no presented sentence (cited {ids!r})")
        if not (set(content_stems(answer)) - set(content_stems(question))):
            return _fell_back(found, f"the answer {answer!r} has no word of its own beyond the question's")
        for sentence in cited:
            span = find_span(answer, sentence.text)
            if span is not None:
                found.reading = _with_choice(reading, sentence, span, answer=None)
                found.outcome, found.reason = "span", f"{answer!r} is a span of sentence {sentences.index(sentence) + 1}"
                return found
        from service.verify import verify

        unsupported: list[str] = []
        for sentence in cited:
            verdict = verify(answer, [sentence.text])
            if verdict.supported:
                found.reading = _with_choice(reading, sentence, None, answer=" ".join(answer.split()))
                found.outcome = "verified"
                found.reason = f"{answer!r} is supported by sentence {sentences.index(sentence) + 1}"
                return found
            unsupported.extend(verdict.unsupported or [f"support {verdict.support:.2f}"])
        return _fell_back(found, f"no cited sentence supports {answer!r} (unsupported: {', '.join(dict.fromkeys(unsupported))})")

    def _ask(self, messages) -> tuple[Any, bool]:
        """The model's reply, and whether it was asked for with response_format."""
        options: dict[str, Any] = {"max_tokens": self.max_tokens} if self.max_tokens else {}
        json_mode = self.json_mode
        if not json_mode:
            return self.llm.invoke(messages, **options), False
        try:
            return self.llm.invoke(messages, response_format={"type": "json_object"}, **options), True
        except Exception as exc:
            if not _refused_field(exc):
                raise
            first = exc
        # Once, without the field; only when that works is the server taken not to support it.
        reply = self.llm.invoke(messages, **options)
        self.json_mode = False
        log.info("the LLM server refused response_format (%s); asking for plain JSON from now on", first)
        return reply, False


# ---- what the model sees ----------------------------------------------------------------------------------------


def _key(sentence: PoolSentence) -> tuple[str, int, int]:
    return (sentence.release.release_id, sentence.start, sentence.end)


def presented(reading: Reading, limit: int) -> list[PoolSentence]:
    """The reader's best `limit` distinct sentences: its choices' sentences in order, then by sentence score."""
    chosen: list[PoolSentence] = []
    seen_keys: set[tuple[str, int, int]] = set()
    seen_texts: set[str] = set()

    def add(sentence: PoolSentence) -> None:
        text = " ".join(fold(sentence.text).lower().split())
        if _key(sentence) in seen_keys or text in seen_texts or not text:
            return
        seen_keys.add(_key(sentence))
        seen_texts.add(text)
        chosen.append(sentence)

    for choice in reading.choices:
        if len(chosen) >= limit:
            return chosen
        add(choice.sentence)
    if len(reading.pool) and len(reading.sentence_logits) == len(reading.pool):
        for i in sorted(range(len(reading.pool)), key=lambda i: -float(reading.sentence_logits[i])):
            if len(chosen) >= limit:
                break
            add(reading.pool[i])
    return chosen


def numbered(sentences: list[PoolSentence]) -> str:
    lines = []
    for n, sentence in enumerate(sentences, 1):
        release = sentence.release
        source = f'"{release.title}"' + (f", {release.published}" if release.published else "") if release.title else ""
        lines.append(f"[{n}] {' '.join(sentence.text.split())}" + (f" (from {source})" if source else ""))
    return "\n".join(lines)


# ---- what the model says ----------------------------------------------------------------------------------------


def _text(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, (str, dict)))
    return str(content or "")


def parse_reply(text: str) -> dict[str, Any] | None:
    """`{"answer": str | None, "sentences": [int]}` from the first JSON object with an "answer", else None."""
    decoder = json.JSONDecoder()
    for start in [m.start() for m in re.finditer(r"\{", text)]:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict) and "answer" in value:
            return _normalized(value)
    return None


def _normalized(value: dict[str, Any]) -> dict[str, Any] | None:
    answer = value.get("answer")
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        answer = str(answer)
    if answer is not None and not isinstance(answer, str):
        return None
    if answer is not None:
        answer = answer.strip()
        if not answer or answer.lower() in ("null", "none", "n/a", "unknown"):
            answer = None
    raw = value.get("sentences", [])
    raw = raw if isinstance(raw, list) else [raw]
    ids: list[int] = []
    for item in raw:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, str) and re.fullmatch(r"\s*\[?\s*(\d+)\s*\]?\s*", item):
            ids.append(int(re.sub(r"\D", "", item)))
    return {"answer": answer, "sentences": ids}


def _cited(ids: list[int], sentences: list[PoolSentence]) -> list[PoolSentence]:
    return [sentences[i - 1] for i in dict.fromkeys(ids) if 1 <= i <= len(sentences)]


# ---- verification -----------------------------------------------------------------------------------------------


def _folded_words(text: str) -> list[tuple[str, int, int]]:
    """Words of `text` folded (fold, lower case, accents dropped), each with its offsets in `text` itself."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        f = unicodedata.normalize("NFKD", fold(ch).lower())
        for c in f:
            if not unicodedata.combining(c):
                chars.append(c)
                origin.append(i)
    flat = "".join(chars)
    return [(m.group(0), origin[m.start()], origin[m.end() - 1] + 1) for m in _WORD.finditer(flat)]


def find_span(answer: str, sentence: str) -> tuple[int, int] | None:
    """Offsets in `sentence` of the answer's words as consecutive words of it (a leading article may differ)."""
    wanted = [w for w, _, _ in _folded_words(answer)]
    if wanted and wanted[0] in _LEADING_ARTICLES and len(wanted) > 1:
        attempts = [wanted, wanted[1:]]
    else:
        attempts = [wanted]
    if not wanted or all(w in STOPWORDS for w in wanted):
        return None
    words = _folded_words(sentence)
    seq = [w for w, _, _ in words]
    for target in attempts:
        n = len(target)
        for i in range(len(seq) - n + 1):
            if seq[i : i + n] == target:
                return words[i][1], words[i + n - 1][2]
    return None


def _with_choice(reading: Reading, sentence: PoolSentence, span: tuple[int, int] | None, answer: str | None) -> Reading:
    """A copy of the Reading whose first choice is the model's answer; the reader's own choices follow."""
    logit = next((c.sentence_logit for c in reading.choices if _key(c.sentence) == _key(sentence)), None)
    if logit is None:
        index = next((i for i, s in enumerate(reading.pool) if _key(s) == _key(sentence)), None)
        logit = float(reading.sentence_logits[index]) if index is not None and index < len(reading.sentence_logits) else 0.0
    rest = list(reading.choices)
    if span is not None:
        start, end = span
        # The reader's candidates carry offsets in the folded sentence: equal to ours where folding keeps lengths.
        same = next(
            (c for c in rest if _key(c.sentence) == _key(sentence) and (c.candidate.start, c.candidate.end) == span
             and len(fold(sentence.text)) == len(sentence.text)),
            None,
        )  # fmt: skip
        if same is not None:
            rest.remove(same)
            first = same
        else:
            # Not a candidate the reader listed: no parse indices, and the span model never scored it.
            candidate = Candidate(sentence.text[start:end], start, end, -1, -1, LLM_LABEL, -1)
            first = Choice(sentence, candidate, 0.0, logit)
        answered = True
    else:
        # No span of the sentence: start == end marks a candidate whose text is the model's, not the sentence's.
        candidate = Candidate(answer or "", 0, 0, -1, -1, LLM_LABEL, -1)
        first = Choice(sentence, candidate, 0.0, logit)
        answered = reading.answered
    return dataclasses.replace(reading, choices=[first, *rest], answered=answered)


def _fallback(reading: Reading, reason: str, sentences: list[PoolSentence]) -> Consultation:
    return _fell_back(Consultation(reading, "fallback", "", sentences), reason)


def _fell_back(found: Consultation, reason: str) -> Consultation:
    found.outcome, found.reason = "fallback", reason
    log.debug("chooser: %s; keeping the reader's answer", reason)
    return found


def _refused_field(exc: BaseException) -> bool:
    """Whether a failure is the server refusing the request as sent (HTTP 400/415/422/501), not a transport error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(current, "status_code", None)
        if isinstance(status, int):
            return status in _REJECTED_FIELD
        current = current.__cause__ or current.__context__
    return False
