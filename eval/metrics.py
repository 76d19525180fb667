"""Deterministic answer metrics for gold-facts questions: pure functions over an answer, its citations and
retrieved releases, and the per-question and per-set scoring built on them.

Conventions
- Normalisation and release matching: eval/matching.py (SQuAD normalisation plus number canonicalisation).
- `exact_match` and `f1` score the answer itself against the gold `answers` (SQuAD EM and token F1, best
  alias): the chain's `short_answer` when it gives one, else the whole answer text. `answer_contains` is
  the lenient counterpart: some alias occurs in the answer text as a whole-token span ("40" ≠ "400").
- A fact counts as recalled when its normalised form occurs in the answer text as a whole-token span.
  `lenient_fact_recall` is that share; `strict_fact_recall` counts it only when the answer also has
  provenance (eval/strict.py: a citation of a gold release quoting its evidence), KILT-style.
- `passed` is the strict pass (eval/strict.py); `lenient_passed` needs only the facts.
- `quote_match` (kept for continuity): share of gold evidence quotes some cited quote overlaps, by
  containment or Dice token overlap >= QUOTE_OVERLAP; looser than the strict pass's token alignment.
- An unanswerable question passes only by abstaining. Answering it is a failure, and its citations all
  count as wrong in `citation_precision`.
- A metric that does not apply to a question is None and is left out of the averages.
- Latency: a question that errored or timed out counts as the timeout (the runner records it so).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from eval.gold import GoldQuestion, GoldSource
from eval.matching import (
    contains_span,
    distinct_releases,
    matching_sources,
    normalize_answer,
    release_matches,
    strip_citation_markers,
    tokens,
    word_count,
)
from eval.strict import judge

__all__ = ["normalize_answer", "release_matches", "tokens"]  # re-exported: bench and tests use them from here

QUOTE_OVERLAP = 0.5


def exact_match(answer: str, aliases: Iterable[str]) -> float:
    """1.0 when the normalized answer equals some normalized alias (strict SQuAD EM)."""
    norm = normalize_answer(strip_citation_markers(answer))
    return float(any(norm == normalize_answer(a) for a in aliases if normalize_answer(a)))


def answer_contains(answer: str, aliases: Iterable[str]) -> float:
    """1.0 when some alias occurs in the answer as a whole-token span, after normalization."""
    toks = tokens(answer)
    return float(any(contains_span(toks, tokens(a)) for a in aliases))


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = tokens(strip_citation_markers(prediction)), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def f1(answer: str, aliases: Iterable[str]) -> float:
    """SQuAD token F1 against the best alias."""
    return max((token_f1(answer, a) for a in aliases), default=0.0)


def missing_facts(answer: str, facts: Sequence[str]) -> list[str]:
    toks = tokens(answer)
    return [f for f in facts if not contains_span(toks, tokens(f))]


def fact_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of the gold facts present in the answer; None when the question lists none."""
    if not facts:
        return None
    return 1 - len(missing_facts(answer, facts)) / len(facts)


def _collapse(text: str) -> str:
    return " ".join(text.split()).casefold()


def quote_overlaps(quote: str, evidence: str) -> bool:
    """Containment either way (whitespace collapsed), else Dice token overlap >= QUOTE_OVERLAP."""
    q, e = _collapse(quote), _collapse(evidence)
    if not q or not e:
        return False
    if q in e or e in q:
        return True
    qt, et = tokens(quote), tokens(evidence)
    if not qt or not et:
        return False
    common = sum((Counter(qt) & Counter(et)).values())
    return 2 * common / (len(qt) + len(et)) >= QUOTE_OVERLAP


def quote_match(quotes: Sequence[str], evidence: Sequence[str]) -> float | None:
    """Share of gold evidence quotes that some cited quote overlaps; None when there is no evidence."""
    if not evidence:
        return None
    return sum(any(quote_overlaps(q, e) for q in quotes) for e in evidence) / len(evidence)


def citation_precision(citations: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """Share of distinct cited releases that are gold sources; None when nothing is cited.

    With no gold source (an unanswerable question) every cited release is wrong.
    """
    cited = distinct_releases(citations)
    if not cited:
        return None
    return sum(bool(matching_sources(c, sources)) for c in cited) / len(cited)


def citation_recall(citations: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """Share of gold sources cited at least once; None when the question names no source."""
    if not sources:
        return None
    hit = {i for c in distinct_releases(citations) for i in matching_sources(c, sources)}
    return len(hit) / len(sources)


def recall_at_k(related: Sequence, sources: Sequence[GoldSource], k: int = 5) -> float | None:
    """Share of gold sources among the top-k retrieved releases."""
    if not sources:
        return None
    hit = {i for r in distinct_releases(related)[:k] for i in matching_sources(r, sources)}
    return len(hit) / len(sources)


def reciprocal_rank(related: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """1/rank of the first retrieved release that is a gold source (0 when none is retrieved)."""
    if not sources:
        return None
    for rank, r in enumerate(distinct_releases(related), start=1):
        if matching_sources(r, sources):
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    """Average of the values that apply (not None); None when none does."""
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


# Per question and per set ------------------------------------------------------------------------

ANSWER_METRICS = ("strict_fact_recall", "lenient_fact_recall", "exact_match", "f1", "answer_contains")
SOURCE_METRICS = ("provenance", "citation_recall", "quote_match", "retrieval_recall_at_5", "mrr")
QUESTION_METRICS = (*ANSWER_METRICS, "citation_precision", *SOURCE_METRICS, "abstention_correct")
# A question passes a metric at this value or above (graded metrics get a partial bar: MRR 0.2 = top 5).
PASS_AT = {"f1": 0.5, "mrr": 0.2}
SUMMARY_METRICS = (
    "pass_rate",
    "lenient_pass_rate",
    *ANSWER_METRICS,
    "answer_words_median",
    "answer_words_p90",
    "citation_precision",
    *SOURCE_METRICS,
    "hasans_pass_rate",
    "abstention_accuracy",
    "false_abstention_rate",
    "latency_p50_s",
    "latency_p95_s",
)
COUNTS = ("question_count", "hasans_count", "noans_count", "passed", "lenient_passed", "failed", "errors", "timeouts")
RETRIEVAL_K = 5


@dataclass
class QuestionResult:
    """One question as the chain answered it, scored (gold-facts and SQuAD questions alike)."""

    id: str
    question: str
    answerable: bool
    tags: list[str] = field(default_factory=list)
    answer: str = ""
    short_answer: str | None = None
    abstained: bool | None = None  # None when the chain raised
    confidence: float | None = None  # the reader's P(answer is right), which the threshold compared (None: no reader's)
    standalone_question: str = ""
    citations: list[dict] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # top-k retrieved release ids
    metrics: dict[str, float | None] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    answer_words: int | None = None
    passed: bool = False  # the strict pass
    lenient_passed: bool = False
    reason: str = ""  # why it failed (strictly), for JUnit, the Markdown report and the baseline diff
    error: str | None = None
    timed_out: bool = False
    latency_s: float | None = None


def scored_text(answer) -> str:
    """What EM/F1 and answer precision score: the short answer when the chain gives one, else the answer text."""
    return answer.short_answer if answer.short_answer is not None else answer.answer


def citation_records(answer, sources: Sequence[GoldSource]) -> list[dict]:
    return [
        {
            "n": c.n,
            "release_id": c.release_id,
            "title": c.title,
            "url": c.url,
            "origin": c.origin,
            "quote": c.quote,
            "gold_source": any(release_matches(c.release_id, c.url, c.origin, s) for s in sources),
        }
        for c in answer.citations
    ]


def failed_result(result: QuestionResult, gold: GoldQuestion, error: str, timed_out: bool) -> QuestionResult:
    """A question whose chain raised or timed out: the worst value of every metric that applies."""
    result.error, result.timed_out = error, timed_out
    m: dict[str, float | None] = dict.fromkeys(QUESTION_METRICS)
    m["abstention_correct"] = 0.0
    if gold.answerable:
        m.update({k: 0.0 for k in ANSWER_METRICS})
        if not gold.facts:
            m["strict_fact_recall"] = m["lenient_fact_recall"] = None
        if not gold.answers:
            m["exact_match"] = m["f1"] = m["answer_contains"] = None
        for k in SOURCE_METRICS:
            applies = bool(gold.evidence) if k == "quote_match" else bool(gold.sources)
            m[k] = 0.0 if applies else None
    result.metrics = m
    result.reason = ("timeout: " if timed_out else "error: ") + error
    _set_checks(result)
    return result


def score_question(
    gold: GoldQuestion, answer=None, *, error: str | None = None, latency_s: float | None = None, timed_out: bool = False
) -> QuestionResult:
    """Score one answer (a service.records.Answer) against its gold record.

    An abstention on an answerable question is a miss (answer metrics 0); on an unanswerable one it is the
    right behaviour. Answering an unanswerable question fails, and its citations lower citation precision.
    """
    result = QuestionResult(id=gold.id, question=gold.question, answerable=gold.answerable, tags=list(gold.tags))
    result.latency_s = latency_s
    if error is not None or answer is None:
        return failed_result(result, gold, error or "no answer", timed_out)

    result.answer = answer.answer
    result.short_answer = answer.short_answer
    result.abstained = answer.abstained
    result.confidence = answer.confidence
    result.standalone_question = answer.standalone_question
    result.related = [r.release_id for r in distinct_releases(answer.related)[:RETRIEVAL_K]]
    result.citations = citation_records(answer, gold.sources)
    if not answer.abstained:
        result.answer_words = word_count(answer.answer)
    m: dict[str, float | None] = dict.fromkeys(QUESTION_METRICS)
    m["abstention_correct"] = float(answer.abstained != gold.answerable)
    cited = [] if answer.abstained else answer.citations
    m["citation_precision"] = citation_precision(cited, gold.sources)

    if not gold.answerable:
        result.passed = result.lenient_passed = bool(answer.abstained)
        result.reason = "" if result.passed else "answered an unanswerable question"
        result.metrics = m
        _set_checks(result)
        return result

    text = "" if answer.abstained else answer.answer
    short = "" if answer.abstained else scored_text(answer)
    aliases = gold.answers
    missing = missing_facts(text, gold.facts)
    no_alias = not gold.facts and bool(aliases) and answer_contains(text, aliases) == 0.0
    m["exact_match"] = exact_match(short, aliases) if aliases else None
    m["f1"] = f1(short, aliases) if aliases else None
    m["answer_contains"] = answer_contains(text, aliases) if aliases else None
    m["lenient_fact_recall"] = fact_recall(text, gold.facts)
    m["citation_recall"] = citation_recall(cited, gold.sources)
    m["quote_match"] = quote_match([c.quote for c in cited], gold.evidence)
    m["retrieval_recall_at_5"] = recall_at_k(answer.related, gold.sources, RETRIEVAL_K)
    m["mrr"] = reciprocal_rank(answer.related, gold.sources)

    if answer.abstained:
        m["provenance"] = 0.0 if gold.sources else None
        m["strict_fact_recall"] = 0.0 if gold.facts else None
        result.reason = "abstained on an answerable question"
    else:
        verdict = judge(gold, text, short, cited, missing, no_alias)
        m["provenance"] = float(verdict.provenance) if gold.sources else None
        lenient = m["lenient_fact_recall"]
        m["strict_fact_recall"] = None if lenient is None else (lenient if verdict.provenance else 0.0)
        result.lenient_passed = not missing and not no_alias
        result.passed = not verdict.failures
        result.reason = "; ".join(verdict.failures)
    result.metrics = m
    _set_checks(result)
    return result


def _set_checks(result: QuestionResult) -> None:
    result.checks = {k: v >= PASS_AT.get(k, 1.0) for k, v in result.metrics.items() if v is not None}


def summarize(results: Sequence[QuestionResult]) -> dict[str, float | int | None]:
    """The top-level numbers of a report over some questions (a set, or one tag of it)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    out: dict[str, float | int | None] = {
        "question_count": len(results),
        "hasans_count": len(answerable),
        "noans_count": len(unanswerable),
        "passed": sum(r.passed for r in results),
        "lenient_passed": sum(r.lenient_passed for r in results),
        "failed": sum(not r.passed for r in results),
        "errors": sum(r.error is not None for r in results),
        "timeouts": sum(r.timed_out for r in results),
    }
    n = len(results)
    out["pass_rate"] = out["passed"] / n if n else None
    out["lenient_pass_rate"] = out["lenient_passed"] / n if n else None
    for k in (*ANSWER_METRICS, *SOURCE_METRICS):
        out[k] = mean(r.metrics.get(k) for r in answerable)
    out["citation_precision"] = mean(r.metrics.get("citation_precision") for r in results)
    words = [r.answer_words for r in results if r.answer_words is not None]
    out["answer_words_median"] = percentile(words, 50)
    out["answer_words_p90"] = percentile(words, 90)
    out["hasans_pass_rate"] = mean(float(r.passed) for r in answerable)
    out["abstention_accuracy"] = mean(r.metrics.get("abstention_correct") for r in unanswerable)
    # An errored answerable question gave no answer: it counts as an abstention here.
    out["false_abstention_rate"] = mean(float(r.abstained is not False) for r in answerable)
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    out["latency_p50_s"] = percentile(latencies, 50)
    out["latency_p95_s"] = percentile(latencies, 95)
    return out


def summarize_by_tag(results: Sequence[QuestionResult]) -> dict[str, dict]:
    tags = sorted({t for r in results for t in r.tags})
    return {t: summarize([r for r in results if t in r.tags]) for t in tags}
