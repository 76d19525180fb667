"""The evidence-first answer chain: condense → retrieve → select evidence → phrase → verify → cite, or abstain."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from core.chunking import split_sentences
from service.condense import condense
from service.dates import find_date_range, parse_date
from service.evidence import STRONG_DENSE, STRONG_LEXICAL, Evidence, SentenceCandidate, release_coverage, score_sentences
from service.question import AnswerType, QuestionProfile, profile, stem, tokens
from service.records import Answer, Citation, Message, RelatedRelease
from service.retrieval import Filters, HybridRetriever, RankedRelease
from service.verify import verify

# Releases whose sentences are read for evidence; their full text, not only the retrieved chunks,
# since the answering sentence is often a neighbour of the best-matching one.
EVIDENCE_RELEASES = 5
# Abstention: below these, the best sentence does not answer the question.
MIN_SCORE = 0.42
MIN_COVERAGE = 0.6
MIN_DENSE = 0.25
SECOND_EVIDENCE_RATIO = 0.8

_MONTH = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December)$")
_TRANSCRIPT_QUESTION = re.compile(r"\s*(?:QUESTION|Q)\s*[:.]")


@dataclass
class Draft:
    """What the chain decided before phrasing: the evidence, or why it abstains."""

    question: str
    standalone: str
    profile: QuestionProfile
    filters: Filters
    ranked: list[RankedRelease]
    evidence: list[Evidence]
    abstain_reason: str | None
    timings: dict[str, float]


class AnswerChain:
    """Built once per process from a Runtime; `ask` and `stream` are safe to call from several threads."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.retriever = HybridRetriever(
            store=runtime.store,
            embedder=runtime.embedder,
            lexical=runtime.lexical,
            dense_candidates=settings.dense_candidates,
            lexical_candidates=settings.lexical_candidates,
            k=settings.retrieve_k,
        )
        # Release texts split into sentences, valid for one store revision (an update changes the offsets).
        self._texts: dict[str, tuple[str, list[tuple[int, int]]]] = {}
        self._texts_revision: str | None = None

    # ---- public API -------------------------------------------------------------------------------------------

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
    ) -> Iterator[str | Answer]:
        """Yield the answer text in pieces, then the complete Answer (its text is the pieces joined).

        The draft is verified before any of it is shown: a tiny model's unsupported words never reach the user.
        """
        started = time.perf_counter()
        draft = self.prepare(question, history, Filters(parse_date(since), parse_date(until), source))
        if draft.abstain_reason:
            answer = self._abstention(draft)
        else:
            t0 = time.perf_counter()
            answer = self._phrase(draft)
            draft.timings["generate_s"] = round(time.perf_counter() - t0, 3)
        answer.timings = {**draft.timings, "total_s": round(time.perf_counter() - started, 3)}
        for piece in re.findall(r"\S+\s*", answer.answer):
            yield piece
        yield answer

    # ---- steps ------------------------------------------------------------------------------------------------

    def prepare(self, question: str, history: list[Message] | None, filters: Filters) -> Draft:
        """Everything up to the choice of evidence; no generation."""
        timings: dict[str, float] = {}
        revision = self.runtime.store.revision()
        if revision != self._texts_revision:
            self._texts, self._texts_revision = {}, revision
        t0 = time.perf_counter()
        condensed = condense(question, history, embed=self.runtime.embedder.encode, rewrite=self._rewrite if history else None)
        timings["condense_s"] = round(time.perf_counter() - t0, 3)

        standalone = condensed.standalone
        prof = profile(standalone)
        window = find_date_range(standalone, newest=self.runtime.store.newest_published)
        if window:
            filters = filters.narrowed(window.since, window.until)

        t0 = time.perf_counter()
        # One embedding of the standalone question serves retrieval (when it searches with it) and evidence.
        question_vector = self.runtime.embedder.encode_query(standalone)
        retrieval_vector = question_vector if condensed.retrieval_query == standalone else None
        ranked = self.retriever.rank_releases(condensed.retrieval_query, filters, query_embedding=retrieval_vector)
        timings["retrieve_s"] = round(time.perf_counter() - t0, 3)
        draft = Draft(question, standalone, prof, filters, ranked, [], None, timings)
        if not ranked:
            draft.abstain_reason = "no release matches" + (f" in {window.text}" if window else "")
            if window:  # still show the user what exists outside the window
                draft.ranked = self.retriever.rank_releases(condensed.retrieval_query, Filters(source=filters.source))
            return draft

        t0 = time.perf_counter()
        # Follow-ups ("that meeting") score against the context of the earlier question too.
        scoring_profile = prof if not (history and not condensed.rewritten) else _with_context(prof, condensed.retrieval_query)
        draft.evidence = self._select(scoring_profile, question_vector, ranked[:EVIDENCE_RELEASES])
        timings["evidence_s"] = round(time.perf_counter() - t0, 3)
        draft.abstain_reason = self._abstain_reason(prof, draft.evidence)
        return draft

    def _release_text(self, release_id: str) -> tuple[str, list[tuple[int, int]]]:
        cached = self._texts.get(release_id)
        if cached is None:
            text = self.runtime.store.release_text(release_id) or ""
            cached = (text, split_sentences(text))
            if len(self._texts) > 2000:
                self._texts = {}
            self._texts[release_id] = cached
        return cached

    def _select(self, prof: QuestionProfile, question_vector, releases: list[RankedRelease]) -> list[Evidence]:
        candidates: list[SentenceCandidate] = []
        coverage: dict[str, float] = {}
        top = releases[0].score if releases else 1.0
        for rank, release in enumerate(releases):
            text, sentences = self._release_text(release.release_id)
            hit = release.best
            coverage[release.release_id] = release_coverage(prof, hit.title, text)
            for start, end in sentences:
                sentence = text[start:end]
                if sentence.rstrip().endswith("?") or _TRANSCRIPT_QUESTION.match(sentence):
                    continue  # a question asked in a release or a briefing is never the evidence of an answer
                candidates.append(
                    SentenceCandidate(
                        release_id=release.release_id,
                        title=hit.title,
                        published=hit.published,
                        url=hit.url,
                        origin=hit.origin,
                        text=sentence,
                        start=start,
                        end=end,
                        release_rank=rank,
                        release_score=release.score / top,
                    )
                )
        if not candidates:
            return []
        return score_sentences(prof, candidates, question_vector, self.runtime.embedder.encode, coverage)

    def _abstain_reason(self, prof: QuestionProfile, evidence: list[Evidence]) -> str | None:
        if not evidence:
            return "no sentence of the closest releases answers it"
        best = evidence[0]
        if prof.answer_type != AnswerType.OTHER and not best.typed_answers:
            return f"no {prof.answer_type.value} stated in the closest releases"
        if best.score < MIN_SCORE or best.dense < MIN_DENSE:
            return "no sentence of the closest releases answers it"
        if best.title_lexical == 0 and not (best.lexical >= STRONG_LEXICAL and best.dense >= STRONG_DENSE):
            # Names mentioned in passing in an unrelated release (a briefing transcript) are not an answer.
            return "no release is about it"
        text = best.candidate.title + " " + self._release_text(best.release_id)[0]
        if release_coverage(prof, "", text) < MIN_COVERAGE:
            # A question may span two releases ("Draghi's and Merkel's meetings"): their names together count.
            other = next((e for e in evidence[1:6] if e.release_id != best.release_id), None)
            if other is None or release_coverage(prof, "", text + " " + other.candidate.title + " " + self._release_text(other.release_id)[0]) < MIN_COVERAGE:
                return "the closest releases are about something else"
        return None

    def _chosen(self, draft: Draft) -> list[Evidence]:
        """The best evidence, plus another release's sentence when the question's names span two releases."""
        best = draft.evidence[0]
        chosen = [best]
        covered = _named_words(draft.profile, self._release_text(best.release_id)[0] + " " + best.candidate.title)
        for other in draft.evidence[1:]:
            if other.release_id == best.release_id or other.score < SECOND_EVIDENCE_RATIO * best.score:
                continue
            if not (other.typed_answers or draft.profile.answer_type == AnswerType.OTHER):
                continue
            adds = _named_words(draft.profile, self._release_text(other.release_id)[0] + " " + other.candidate.title) - covered
            if adds:
                chosen.append(other)
                break
        return chosen

    def _phrase(self, draft: Draft) -> Answer:
        chosen = self._chosen(draft)
        citations = [_citation(n, ev) for n, ev in enumerate(chosen, start=1)]
        clauses = [ev.clause for ev in chosen]
        fallback = " ".join(f"{_as_sentence(clause)} [{n}]" for n, clause in enumerate(clauses, start=1))
        text = fallback
        phrased = self._generate(draft.standalone, clauses)
        if phrased and self._keeps_facts(phrased, chosen, draft):
            markers = " ".join(f"[{n}]" for n in range(1, len(chosen) + 1))
            text = f"{phrased.rstrip()} {markers}"
        return Answer(
            answer=text,
            abstained=False,
            citations=citations,
            related=_related(draft.ranked),
            question=draft.question,
            standalone_question=draft.standalone,
        )

    def _keeps_facts(self, phrased: str, chosen: list[Evidence], draft: Draft) -> bool:
        """Keep the model's sentence only if the quotes support it and it drops none of the answer."""
        verdict = verify(phrased, [ev.candidate.text for ev in chosen], draft.standalone)
        if not verdict.supported:
            return False
        low = phrased.lower()
        for ev in chosen:
            if ev.typed_answers and not any(a.lower() in low for a in ev.typed_answers):
                return False
            # The clause's own informative words must survive the rephrasing.
            clause_words = {w.lower() for w in re.findall(r"[A-Za-z][\w’'-]+|\d[\d,.]*", ev.clause)}
            question_words = {w.lower() for w in re.findall(r"[A-Za-z][\w’'-]+|\d[\d,.]*", draft.standalone)}
            informative = {w for w in clause_words - question_words if len(w) > 3}
            if informative and sum(w in low for w in informative) / len(informative) < 0.8:
                return False
        return True

    def _generate(self, question: str, clauses: list[str]) -> str:
        from service.prompts import load_prompt

        if self.runtime.settings.llm_backend == "none":
            return ""
        prompt = load_prompt("answer")
        evidence = " ".join(clauses)
        messages = prompt.format_messages(question=question, evidence=evidence)
        result = self.runtime.llm.invoke(messages)
        text = str(result.content or "").strip()
        return text.split("\n")[0].strip()

    def _rewrite(self, conversation: str, question: str) -> str:
        from service.prompts import load_prompt

        if self.runtime.settings.llm_backend == "none":
            return ""
        messages = load_prompt("condense").format_messages(history=conversation, question=question)
        return str(self.runtime.llm.invoke(messages).content or "")

    def _abstention(self, draft: Draft) -> Answer:
        from service.prompts import load_text

        window = f" ({draft.abstain_reason})" if draft.abstain_reason else ""
        return Answer(
            answer=load_text("abstain").strip().format(scope=window),
            abstained=True,
            citations=[],
            related=_related(draft.ranked),
            question=draft.question,
            standalone_question=draft.standalone,
        )


def _named_words(prof: QuestionProfile, text: str) -> set[str]:
    """The question's named words (not dates) that occur in text."""
    present = {stem(w) for w in tokens(text)}
    words = {stem(w) for e in prof.entities for w in tokens(e) if w[0].isupper() and not _MONTH.match(w)}
    return {w for w in words if w in present}


def _with_context(prof: QuestionProfile, context: str) -> QuestionProfile:
    ctx = profile(context)
    return QuestionProfile(
        text=prof.text,
        answer_type=prof.answer_type,
        terms=tuple(dict.fromkeys(prof.terms + ctx.terms)),
        entities=tuple(dict.fromkeys(prof.entities + ctx.entities)),
        counted=prof.counted,
    )


def _as_sentence(clause: str) -> str:
    clause = clause.strip().rstrip(",;:")
    if clause and clause[0].islower():
        clause = clause[0].upper() + clause[1:]
    return clause if clause.endswith((".", "!", "?", '"', "”")) else clause + "."


def _citation(n: int, ev: Evidence) -> Citation:
    cand = ev.candidate
    return Citation(
        n=n,
        release_id=cand.release_id,
        title=cand.title,
        date=cand.published,
        url=cand.url,
        origin=cand.origin,
        quote=cand.text,
        start=cand.start,
        end=cand.end,
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
