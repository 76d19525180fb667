"""SQuAD 2.0 files as an eval set: each paragraph a release, each question asked through the same chain, scored
with SQuAD 2.0's official EM/F1 (eval/squad_official.py) plus provenance.

- Each paragraph becomes a release titled "ARTICLE (n)" (the article's title, n its 1-based paragraph
  number within the article), with id "squad:<file stem>:<article n>:<n>", indexed into a temporary data
  dir by the runner, never the user's index.
- The prediction is "" when the chain abstains (SQuAD 2.0's no-answer prediction), else the chain's
  `short_answer`, else its answer text, citation markers removed.
- `provenance` (answerable questions): some cited paragraph contains a gold answer (whole normalised
  tokens). An abstention or an answer without such a citation scores 0.
- A question passes when it is unanswerable and the chain abstains, or answerable with F1 >= PASS_F1 and
  provenance. That pass is what the per-question baseline tracks.
- The fixed sample (`fixed_sample`) is stratified and seeded: half unanswerable, the questions of each
  stratum ordered by the SHA-256 of SAMPLE_SEED + id. It depends only on the file, never on Python's
  random module or dict order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eval.gold import GoldQuestion
from eval.metrics import QuestionResult, mean, percentile
from eval.matching import strip_citation_markers, word_count
from eval.squad_official import exact_and_f1, get_tokens

PASS_F1 = 0.5
SAMPLE_SEED = "pressqa-squad-sample-v1"
SQUAD_SUMMARY_METRICS = (
    "pass_rate",
    "exact",
    "f1",
    "HasAns_exact",
    "HasAns_f1",
    "NoAns_exact",
    "provenance",
    "answer_words_median",
    "answer_words_p90",
    "abstention_accuracy",
    "false_abstention_rate",
    "latency_p50_s",
    "latency_p95_s",
)


class SquadError(ValueError):
    """A file that is not SQuAD 2.0 JSON."""


@dataclass(frozen=True)
class SquadParagraph:
    release_id: str
    origin: str
    title: str
    context: str


@dataclass
class SquadQuestion:
    id: str
    question: str
    answers: list[str]  # empty: unanswerable
    paragraph: str  # release id of the question's own paragraph
    tags: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def as_gold(self) -> GoldQuestion:
        """The question in the runner's common form (id, text, answerability, tags)."""
        return GoldQuestion(id=self.id, question=self.question, answers=list(self.answers),
                            answerable=self.answerable, tags=list(self.tags))


@dataclass
class SquadFile:
    path: Path
    paragraphs: list[SquadParagraph]
    questions: list[SquadQuestion]

    @property
    def contexts(self) -> dict[str, str]:
        return {p.release_id: p.context for p in self.paragraphs}


def load_squad(path: Path) -> SquadFile:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SquadError(f"{path}: not a SQuAD 2.0 JSON file: {exc}") from exc
    paragraphs, questions, seen = [], [], set()
    try:
        for a, article in enumerate(articles, start=1):
            title = str(article.get("title") or f"Article {a}").replace("_", " ")
            for n, paragraph in enumerate(article["paragraphs"], start=1):
                release_id = f"squad:{path.stem}:{a}:{n}"
                origin = f"{path.name}#article-{a}-paragraph-{n}"
                paragraphs.append(SquadParagraph(release_id, origin, f"{title} ({n})", paragraph["context"]))
                for qa in paragraph["qas"]:
                    if qa["id"] in seen:
                        raise SquadError(f"{path}: duplicate question id {qa['id']}")
                    seen.add(qa["id"])
                    impossible = bool(qa.get("is_impossible", False))
                    answers = [] if impossible else [x["text"] for x in qa.get("answers", [])]
                    tags = ["unanswerable" if not answers else "answerable"]
                    questions.append(SquadQuestion(qa["id"], qa["question"], answers, release_id, tags))
    except (KeyError, TypeError, AttributeError) as exc:
        raise SquadError(f"{path}: not a SQuAD 2.0 JSON file: missing or malformed {exc}") from exc
    if not questions:
        raise SquadError(f"{path}: no questions")
    return SquadFile(path, paragraphs, questions)


def squad_releases(squad: SquadFile) -> list:
    """The paragraphs as releases for the indexer."""
    from core.records import Release

    return [
        Release(title=p.title, text=p.context, origin=p.origin, source="SQuAD 2.0", id=p.release_id)
        for p in squad.paragraphs
    ]


def _sample_key(question_id: str) -> str:
    return hashlib.sha256((SAMPLE_SEED + question_id).encode("utf-8")).hexdigest()


def fixed_sample(questions: Sequence[SquadQuestion], size: int) -> list[SquadQuestion]:
    """A deterministic, stratified sample of `size` questions (half unanswerable), in file order."""
    if size >= len(questions):
        return list(questions)
    unanswerable = sorted((q for q in questions if not q.answerable), key=lambda q: _sample_key(q.id))
    answerable = sorted((q for q in questions if q.answerable), key=lambda q: _sample_key(q.id))
    n_unans = min(size // 2, len(unanswerable))
    n_ans = min(size - n_unans, len(answerable))
    n_unans = size - n_ans  # a short stratum is filled from the other
    chosen = {q.id for q in unanswerable[:n_unans]} | {q.id for q in answerable[:n_ans]}
    return [q for q in questions if q.id in chosen]


def _contains(context: str, answer: str) -> bool:
    ctx, ans = get_tokens(context), get_tokens(answer)
    n = len(ans)
    return n > 0 and any(ctx[i : i + n] == ans for i in range(len(ctx) - n + 1))


def score_squad_question(q: SquadQuestion, contexts: dict[str, str], answer=None, *, error: str | None = None,
                         latency_s: float | None = None, timed_out: bool = False) -> QuestionResult:
    result = QuestionResult(id=q.id, question=q.question, answerable=q.answerable, tags=list(q.tags), latency_s=latency_s)
    if error is not None or answer is None:
        result.error, result.timed_out = error or "no answer", timed_out
        result.reason = ("timeout: " if timed_out else "error: ") + result.error
        # No prediction at all scores 0 everywhere, as a missing prediction does in the official script.
        result.metrics = {"exact": 0.0, "f1": 0.0, "provenance": 0.0 if q.answerable else None,
                          "abstention_correct": 0.0}
        return result
    result.answer, result.short_answer, result.abstained = answer.answer, answer.short_answer, answer.abstained
    result.confidence = answer.confidence
    result.standalone_question = answer.standalone_question
    result.related = [r.release_id for r in answer.related[:5]]
    result.citations = [
        {"n": c.n, "release_id": c.release_id, "title": c.title, "quote": c.quote,
         "gold_source": c.release_id == q.paragraph} for c in answer.citations
    ]
    if answer.abstained:
        prediction = ""
    else:
        result.answer_words = word_count(answer.answer)
        raw = answer.short_answer if answer.short_answer is not None else answer.answer
        prediction = " ".join(strip_citation_markers(raw).split())
    exact, f1 = exact_and_f1(q.answers, prediction)
    provenance = None
    if q.answerable:
        provenance = float(not answer.abstained and any(
            _contains(contexts.get(c.release_id, ""), a) for c in answer.citations for a in q.answers))
    result.metrics = {"exact": float(exact), "f1": f1, "provenance": provenance,
                      "abstention_correct": float(answer.abstained != q.answerable)}
    if not q.answerable:
        result.passed = result.lenient_passed = bool(answer.abstained)
        result.reason = "" if result.passed else "answered an unanswerable question"
    elif answer.abstained:
        result.reason = "abstained on an answerable question"
    else:
        problems = []
        if f1 < PASS_F1:
            problems.append(f"F1 {f1:.2f} < {PASS_F1} against the gold answers")
        if not provenance:
            problems.append("no cited paragraph contains a gold answer")
        result.passed = not problems
        result.lenient_passed = f1 >= PASS_F1
        result.reason = "; ".join(problems)
    return result


def summarize_squad(results: Sequence[QuestionResult]) -> dict:
    """SQuAD 2.0's official figures (as fractions) plus provenance, pass rate, abstention, length and latency."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    n = len(results)
    words = [r.answer_words for r in results if r.answer_words is not None]
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    passed = sum(r.passed for r in results)
    return {
        "question_count": n,
        "hasans_count": len(answerable),
        "noans_count": len(unanswerable),
        "passed": passed,
        "lenient_passed": sum(r.lenient_passed for r in results),
        "failed": n - passed,
        "errors": sum(r.error is not None for r in results),
        "timeouts": sum(r.timed_out for r in results),
        "pass_rate": passed / n if n else None,
        "exact": mean(r.metrics["exact"] for r in results),
        "f1": mean(r.metrics["f1"] for r in results),
        "HasAns_exact": mean(r.metrics["exact"] for r in answerable),
        "HasAns_f1": mean(r.metrics["f1"] for r in answerable),
        "NoAns_exact": mean(r.metrics["exact"] for r in unanswerable),
        "provenance": mean(r.metrics["provenance"] for r in answerable),
        "answer_words_median": percentile(words, 50),
        "answer_words_p90": percentile(words, 90),
        "abstention_accuracy": mean(r.metrics["abstention_correct"] for r in unanswerable),
        "false_abstention_rate": mean(float(r.abstained is not False) for r in answerable),
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
    }
