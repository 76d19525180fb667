"""The answer chain: condense a follow-up → retrieve releases → read their sentences → answer with a cited span, or abstain.

The reader (service/reader) chooses the answer; an OpenAI-compatible model, when configured, may choose among the
reader's candidates (service/choose.py), and its choice is kept only when the cited sentences support it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from core.chunking import split_sentences
from service.condense import condense
from service.dates import find_date_range, parse_date
from service.reader import Reader, Reading
from service.reader.analysis import QuestionAnalysis
from service.reader.lexicon import fold
from service.reader.pool import PoolRelease, PoolSentence, build_pool
from service.records import Answer, ChainStatus, Citation, Message, RelatedRelease
from service.retrieval import Filters, HybridRetriever, RankedRelease

# Releases whose every sentence the reader scores: the answering sentence is often a neighbour of the
# best-matching chunk, and the right release is in the top 5 for 97% of held-out questions.
EVIDENCE_RELEASES = 5


@dataclass
class Gathered:
    """What the reader is given for one question: its analysis, the sentence pool and the question's embedding."""

    question: str
    standalone: str
    analysis: QuestionAnalysis
    filters: Filters
    ranked: list[RankedRelease]
    pool: list[PoolSentence]
    question_vector: np.ndarray | None
    abstain_reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


class AnswerChain:
    """Built once per process from its parts; `ask` and `stream` are safe to call from several threads."""

    def __init__(self, *, store, embedder, retriever: HybridRetriever, reader: Reader, chooser=None, rewrite=None) -> None:
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.reader = reader
        self.chooser = chooser  # service.choose.LlmChooser or None
        self.rewrite = rewrite  # (conversation, question) -> standalone question, an LLM's, or None
        # Release texts split into sentences, valid for one store revision (an update changes the offsets).
        self._texts: dict[str, tuple[str, list[tuple[int, int]]]] = {}
        self._texts_revision: str | None = None

    # ---- public API -----------------------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        history: list[Message] | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        source: str | None = None,
    ) -> Answer:
        answer = None
        for event in self.stream(question, history, since, until, source):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: list[Message] | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        source: str | None = None,
    ) -> Iterator[ChainStatus | str | Answer]:
        """Yield what the chain is doing (ChainStatus), then the answer text in pieces, then the complete Answer."""
        started = time.perf_counter()
        yield ChainStatus(stage="retrieve", message="searching the releases…")
        gathered = self.gather(question, history, Filters(parse_date(since), parse_date(until), source))
        if gathered.abstain_reason:
            answer = self._abstention(gathered, gathered.abstain_reason)
        else:
            releases = len({s.release.release_id for s in gathered.pool})
            yield ChainStatus(stage="read", message=f"reading {releases} release{'s' if releases != 1 else ''}…")
            t0 = time.perf_counter()
            reading = self.reader.read(gathered.analysis, gathered.pool, gathered.question_vector)
            gathered.timings["read_s"] = round(time.perf_counter() - t0, 3)
            if self.chooser is not None and reading.choices:
                yield ChainStatus(stage="choose", message="asking the language model to choose…")
                t0 = time.perf_counter()
                reading = self.chooser.choose(gathered.standalone, reading)
                gathered.timings["choose_s"] = round(time.perf_counter() - t0, 3)
            answer = self._answer(gathered, reading)
        answer.timings = {**gathered.timings, "total_s": round(time.perf_counter() - started, 3)}
        for piece in re.findall(r"\S+\s*", answer.answer):
            yield piece
        yield answer

    # ---- steps ----------------------------------------------------------------------------------------------------

    def gather(self, question: str, history: list[Message] | None, filters: Filters) -> Gathered:
        """Everything up to the reader: the standalone question, its date window, the releases and their sentences."""
        timings: dict[str, float] = {}
        revision = self.store.revision()
        if revision != self._texts_revision:
            self._texts, self._texts_revision = {}, revision
        t0 = time.perf_counter()
        condensed = condense(question, history, embed=self.embedder.encode, rewrite=self.rewrite if history else None)
        standalone = condensed.standalone
        timings["condense_s"] = round(time.perf_counter() - t0, 3)
        # Relative dates ("last week") need the newest release's date; only then is it looked up.
        window = find_date_range(standalone, newest=self.store.newest_published)
        if window:
            filters = filters.narrowed(window.since, window.until)

        t0 = time.perf_counter()
        # One embedding of the standalone question serves retrieval (when it searches with it) and the reader.
        question_vector = self.embedder.encode_query(standalone)
        retrieval_vector = question_vector if condensed.retrieval_query == standalone else None
        ranked = self.retriever.rank_releases(condensed.retrieval_query, filters, query_embedding=retrieval_vector)
        timings["retrieve_s"] = round(time.perf_counter() - t0, 3)
        pool = self.pool(ranked[:EVIDENCE_RELEASES]) if ranked else []
        t0 = time.perf_counter()
        # Parsed once the pool is known: a question typed without capitals is read as its releases spell its words.
        analysis = self.reader.analyze(standalone, pool)
        timings["analyze_s"] = round(time.perf_counter() - t0, 3)
        gathered = Gathered(question, standalone, analysis, filters, ranked, pool, question_vector, None, timings)
        if not ranked:
            gathered.abstain_reason = "no release matches" + (f" in {window.text}" if window else "")
            if window:  # still show the user what exists outside the window
                gathered.ranked = self.retriever.rank_releases(condensed.retrieval_query, Filters(source=filters.source))
            return gathered
        if not gathered.pool:
            gathered.abstain_reason = "the closest releases have no text to quote"
        return gathered

    def pool(self, ranked: list[RankedRelease]) -> list[PoolSentence]:
        top = ranked[0].score if ranked else 1.0
        releases, spans = [], []
        for rank, release in enumerate(ranked):
            text, sentences = self._release_text(release.release_id)
            hit = release.best
            releases.append(
                PoolRelease(release.release_id, hit.title, hit.published, hit.url, hit.origin, text, rank, release.score / top)
            )
            spans.append(sentences)
        return build_pool(releases, spans)

    def _release_text(self, release_id: str) -> tuple[str, list[tuple[int, int]]]:
        cached = self._texts.get(release_id)
        if cached is None:
            text = self.store.release_text(release_id) or ""
            cached = (text, split_sentences(text))
            if len(self._texts) > 2000:
                self._texts = {}
            self._texts[release_id] = cached
        return cached

    def _answer(self, gathered: Gathered, reading: Reading) -> Answer:
        if not reading.answered or reading.best is None:
            reason = "no sentence of the closest releases states it"
            if reading.best is not None:
                reason += f"; best guess {reading.best.text!r} at confidence {reading.confidence:.2f}"
            return self._abstention(gathered, reason, confidence=reading.confidence)
        items = reading.items()
        sentence = items[0].sentence
        citation = _citation(1, sentence)
        # Candidates were found in the folded sentence; folding keeps lengths except for rare NFKC forms.
        same_offsets = len(fold(sentence.text)) == len(sentence.text)
        # A chooser's answer that is no span of the sentence (service/choose.py: verified, not copied) is a Candidate
        # with start == end: its text is shown as is, with no answer_start/answer_end.
        same_offsets = same_offsets and all(c.candidate.end > c.candidate.start for c in items)
        texts = [sentence.text[c.candidate.start : c.candidate.end] if same_offsets else c.text for c in items]
        short = _join(texts)
        quote = " ".join(sentence.text.split())
        return Answer(
            answer=f"{short} [1]\n\n“{quote}” [1]",
            abstained=False,
            short_answer=short,
            confidence=round(reading.confidence, 4),
            answer_start=min(c.candidate.start for c in items) if same_offsets else None,
            answer_end=max(c.candidate.end for c in items) if same_offsets else None,
            citations=[citation],
            related=_related(gathered.ranked),
            question=gathered.question,
            standalone_question=gathered.standalone,
        )

    def _abstention(self, gathered: Gathered, reason: str, confidence: float | None = None) -> Answer:
        from service.prompts import load_text

        return Answer(
            answer=load_text("abstain").strip().format(scope=f" ({reason})"),
            abstained=True,
            confidence=None if confidence is None else round(confidence, 4),
            citations=[],
            related=_related(gathered.ranked),
            question=gathered.question,
            standalone_question=gathered.standalone,
        )


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _citation(n: int, sentence: PoolSentence) -> Citation:
    release = sentence.release
    return Citation(
        n=n,
        release_id=release.release_id,
        title=release.title,
        date=release.published,
        url=release.url,
        origin=release.origin,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
    )


def _related(ranked: list[RankedRelease], limit: int = 10) -> list[RelatedRelease]:
    return [
        RelatedRelease(
            release_id=r.release_id,
            title=r.best.title,
            date=r.best.published,
            url=r.best.url,
            origin=r.best.origin,
            score=round(r.score, 5),
        )
        for r in ranked[:limit]
    ]
