"""Deterministic answer metrics: pure functions over an answer, its citations and retrieved releases.

Conventions
- Normalization is SQuAD's (lower case, drop punctuation, drop the articles a/an/the, collapse spaces),
  with Unicode punctuation (curly quotes, dashes) dropped as well as ASCII.
- `exact_match` is strict SQuAD: the whole normalized answer equals a normalized alias. Our answers are
  sentences, so `answer_contains` is the practical counterpart: some alias occurs in the normalized
  answer as a whole-token span ("40" does not match "400").
- A fact counts as recalled when its normalized form occurs in the normalized answer as a whole-token span.
- A cited quote matches a gold evidence quote when, whitespace collapsed and case folded, one contains the
  other, or when their token overlap (Dice: 2·|common tokens| / (|quote| + |evidence|) over normalized
  tokens) is at least QUOTE_OVERLAP. `quote_match` is the share of gold evidence quotes matched by some
  cited quote.
- A release matches a gold source by URL (release id or url equals `source_url`) or by path: the
  release's origin ends with "/" + `source`. A feed item's origin is "feed#item-N", so a feed path alone
  never identifies an item: only its URL does.
- A metric that does not apply to a question is None and is left out of the averages.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from eval.gold import GoldQuestion, GoldSource

QUOTE_OVERLAP = 0.5
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if not _is_punct(ch))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def _contains_span(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    return any(haystack[i : i + n] == list(needle) for i in range(len(haystack) - n + 1))


def exact_match(answer: str, aliases: Iterable[str]) -> float:
    """1.0 when the normalized answer equals some normalized alias (strict SQuAD EM)."""
    norm = normalize_answer(answer)
    return float(any(norm == normalize_answer(a) for a in aliases if normalize_answer(a)))


def answer_contains(answer: str, aliases: Iterable[str]) -> float:
    """1.0 when some alias occurs in the answer as a whole-token span, after normalization."""
    toks = tokens(answer)
    return float(any(_contains_span(toks, tokens(a)) for a in aliases))


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = tokens(prediction), tokens(reference)
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


def fact_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of the gold facts present in the answer; None when the question lists none."""
    if not facts:
        return None
    toks = tokens(answer)
    return sum(_contains_span(toks, tokens(f)) for f in facts) / len(facts)


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


def _matching_sources(release, sources: Sequence[GoldSource]) -> list[int]:
    return [i for i, s in enumerate(sources) if release_matches(release.release_id, release.url, release.origin, s)]


def _distinct(releases: Iterable) -> list:
    seen, out = set(), []
    for r in releases:
        if r.release_id not in seen:
            seen.add(r.release_id)
            out.append(r)
    return out


def citation_precision(citations: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """Share of distinct cited releases that are gold sources; None when nothing is cited or no source is known."""
    cited = _distinct(citations)
    if not cited or not sources:
        return None
    return sum(bool(_matching_sources(c, sources)) for c in cited) / len(cited)


def citation_recall(citations: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """Share of gold sources cited at least once; None when the question names no source."""
    if not sources:
        return None
    hit = {i for c in _distinct(citations) for i in _matching_sources(c, sources)}
    return len(hit) / len(sources)


def recall_at_k(related: Sequence, sources: Sequence[GoldSource], k: int = 5) -> float | None:
    """Share of gold sources among the top-k retrieved releases."""
    if not sources:
        return None
    hit = {i for r in _distinct(related)[:k] for i in _matching_sources(r, sources)}
    return len(hit) / len(sources)


def reciprocal_rank(related: Sequence, sources: Sequence[GoldSource]) -> float | None:
    """1/rank of the first retrieved release that is a gold source (0 when none is retrieved)."""
    if not sources:
        return None
    for rank, r in enumerate(_distinct(related), start=1):
        if _matching_sources(r, sources):
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


# Per question and overall ------------------------------------------------------------------------

ANSWER_METRICS = ("fact_recall", "exact_match", "answer_contains", "f1")
SOURCE_METRICS = ("citation_precision", "citation_recall", "quote_match", "retrieval_recall_at_5", "mrr")
QUESTION_METRICS = (*ANSWER_METRICS, *SOURCE_METRICS, "abstention_correct")
# A question passes a metric at this value or above (graded metrics get a partial bar: MRR 0.2 = top 5).
PASS_AT = {"f1": 0.5, "mrr": 0.2}
SUMMARY_METRICS = (
    *ANSWER_METRICS,
    *SOURCE_METRICS,
    "abstention_accuracy",
    "false_abstention_rate",
    "latency_p50_s",
    "latency_p95_s",
)
RETRIEVAL_K = 5


@dataclass
class QuestionResult:
    """One gold question as the chain answered it, scored."""

    id: str
    question: str
    answerable: bool
    tags: list[str] = field(default_factory=list)
    answer: str = ""
    abstained: bool | None = None  # None when the chain raised
    standalone_question: str = ""
    citations: list[dict] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # top-k retrieved release ids
    metrics: dict[str, float | None] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    passed: bool = False
    reason: str = ""  # why it failed, for JUnit and the Markdown report
    error: str | None = None
    latency_s: float | None = None


def score_question(gold: GoldQuestion, answer=None, *, error: str | None = None, latency_s: float | None = None) -> QuestionResult:
    """Score one answer (a service.records.Answer) against its gold record.

    An abstention on an answerable question is a miss (answer metrics 0); on an unanswerable one it is the
    right behaviour, and only abstention is scored there. A question whose chain raised scores the worst
    value of every metric that applies to it.
    """
    result = QuestionResult(id=gold.id, question=gold.question, answerable=gold.answerable, tags=list(gold.tags))
    m: dict[str, float | None] = dict.fromkeys(QUESTION_METRICS)
    if error is not None or answer is None:
        result.error = error or "no answer"
        m["abstention_correct"] = 0.0
        if gold.answerable:
            m.update({k: 0.0 for k in ANSWER_METRICS if k != "fact_recall"})
            m["fact_recall"] = 0.0 if gold.facts else None
            for k in SOURCE_METRICS:
                applies = bool(gold.evidence) if k == "quote_match" else bool(gold.sources)
                m[k] = 0.0 if applies else None
        result.metrics = m
        result.reason = f"error: {result.error}"
        _set_checks(result)
        return result

    result.latency_s = latency_s
    result.answer = answer.answer
    result.abstained = answer.abstained
    result.standalone_question = answer.standalone_question
    result.related = [r.release_id for r in _distinct(answer.related)[:RETRIEVAL_K]]
    result.citations = [
        {
            "n": c.n,
            "release_id": c.release_id,
            "title": c.title,
            "url": c.url,
            "origin": c.origin,
            "quote": c.quote,
            "gold_source": any(release_matches(c.release_id, c.url, c.origin, s) for s in gold.sources),
        }
        for c in answer.citations
    ]
    m["abstention_correct"] = float(answer.abstained != gold.answerable)
    if gold.answerable:
        text = "" if answer.abstained else answer.answer
        aliases = gold.answers
        m["exact_match"] = exact_match(text, aliases) if aliases else None
        m["answer_contains"] = answer_contains(text, aliases) if aliases else None
        m["f1"] = f1(text, aliases) if aliases else None
        m["fact_recall"] = fact_recall(text, gold.facts)
        m["citation_precision"] = citation_precision(answer.citations, gold.sources)
        m["citation_recall"] = citation_recall(answer.citations, gold.sources)
        m["quote_match"] = quote_match([c.quote for c in answer.citations], gold.evidence)
        m["retrieval_recall_at_5"] = recall_at_k(answer.related, gold.sources, RETRIEVAL_K)
        m["mrr"] = reciprocal_rank(answer.related, gold.sources)
    result.metrics = m
    _set_checks(result)
    if not gold.answerable:
        result.passed = bool(answer.abstained)
        result.reason = "" if result.passed else "did not abstain on an unanswerable question"
    elif answer.abstained:
        result.reason = "abstained on an answerable question"
    else:
        toks = tokens(answer.answer)
        missing = [f for f in gold.facts if not _contains_span(toks, tokens(f))]
        if missing:
            result.reason = "missing fact(s): " + "; ".join(missing)
        elif not gold.facts and m["answer_contains"] == 0.0:
            result.reason = "no gold answer in the answer"
        result.passed = not result.reason
    return result


def _set_checks(result: QuestionResult) -> None:
    result.checks = {k: v >= PASS_AT.get(k, 1.0) for k, v in result.metrics.items() if v is not None}


def summarize(results: Sequence[QuestionResult]) -> dict[str, float | int | None]:
    """The top-level numbers of a report over some questions (all, or one tag)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    out: dict[str, float | int | None] = {
        "question_count": len(results),
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "errors": sum(r.error is not None for r in results),
    }
    for k in (*ANSWER_METRICS, *SOURCE_METRICS):
        out[k] = mean(r.metrics.get(k) for r in answerable)
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
