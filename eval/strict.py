"""The strict pass (KILT-style): a right answer counts only when it is cited from the right sentence and says
only the answer.

An answerable question passes strictly when all of these hold (a lenient pass needs only the first):
1. **facts**: every gold fact occurs in the answer text (whole-token span, after normalisation);
2. **provenance**: some citation is a gold source release *and* that citation's quote aligns with the gold
   evidence quote of that release: token-aligned containment in either direction, the contained side at
   least MIN_ALIGNED_TOKENS tokens long or the whole evidence. A right name cited from a wrong release, or
   a gold release's id with another release's sentence as the quote, fails. (A record that names no
   source is judged on the other checks);
3. **no negation**: the answer text has no negation word (not, no, never, n't, …) that neither the
   question nor the evidence has. "It was not Parahat Durdyev" contains the fact and denies it;
4. **precision**: the scored answer (the chain's `short_answer` when it gives one, else the answer text)
   adds at most MAX_EXTRA_WORDS words beyond the question's words and the gold answers' and facts' words.
   Restating the question and naming the answer fit; pasting the source sentence with its six other names
   does not. With a short answer, the answer text may quote the whole sentence as context: the short
   answer is then what the chain claims, and it is what must be precise (and what EM/F1 score).

An unanswerable question passes only when the chain abstains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eval.gold import GoldQuestion
from eval.matching import contains_span, matching_sources, strip_citation_markers, tokens

MIN_ALIGNED_TOKENS = 5
MAX_EXTRA_WORDS = 10
# Normalised tokens (punctuation dropped, so "wasn't" is "wasnt").
NEGATIONS = frozenset(
    {"not", "no", "never", "neither", "nor", "none", "nobody", "nothing", "cannot", "without"}
    | {w + "nt" for w in ("is", "was", "were", "are", "do", "does", "did", "has", "have", "had", "ca", "could",
                          "would", "should", "wo", "must", "need")}
)


def quote_aligns(quote: str, evidence: str) -> bool:
    """Token-aligned containment either way; a quote inside the evidence must be >= MIN_ALIGNED_TOKENS tokens."""
    q, e = tokens(quote), tokens(evidence)
    if not q or not e:
        return False
    if contains_span(q, e):  # the quote holds the whole evidence
        return True
    return contains_span(e, q) and len(q) >= min(MIN_ALIGNED_TOKENS, len(e))


def supporting_citations(citations: Sequence, gold: GoldQuestion) -> list[int]:
    """Positions of the citations that are a gold source and quote that source's evidence.

    Evidence is aligned with sources (FORMAT.md); where a question has evidence but not one per source, any
    evidence quote may support any source. Without evidence, citing a gold source is all that can be checked.
    """
    aligned = len(gold.evidence) == len(gold.sources)
    out = []
    for pos, c in enumerate(citations):
        for i in matching_sources(c, gold.sources):
            if not gold.evidence:
                ok = True
            elif aligned:
                ok = quote_aligns(c.quote, gold.evidence[i])
            else:
                ok = any(quote_aligns(c.quote, e) for e in gold.evidence)
            if ok:
                out.append(pos)
                break
    return out


def negations_added(answer_text: str, gold: GoldQuestion) -> list[str]:
    """Negation words of the answer that neither the question nor the evidence contains."""
    allowed = set(tokens(gold.question)) | {t for e in gold.evidence for t in tokens(e)}
    return sorted({t for t in tokens(answer_text) if t in NEGATIONS and t not in allowed})


def extra_words(scored_answer: str, gold: GoldQuestion) -> list[str]:
    """Words of the scored answer that are neither the question's nor a gold answer's or fact's."""
    allowed = set(tokens(gold.question)) | {t for a in (*gold.answers, *gold.facts) for t in tokens(a)}
    allowed |= {t for m in gold.history for t in tokens(m.content)}  # a follow-up may restate earlier turns
    return [t for t in tokens(strip_citation_markers(scored_answer)) if t not in allowed]


@dataclass
class StrictVerdict:
    """Which strict checks an answered, answerable question failed; empty `failures` means it passed."""

    supporting: list[int] = field(default_factory=list)  # citation positions that carry provenance
    failures: list[str] = field(default_factory=list)

    @property
    def provenance(self) -> bool:
        return bool(self.supporting)


def judge(gold: GoldQuestion, answer_text: str, scored_answer: str, citations: Sequence, missing_facts: list[str],
          no_alias: bool) -> StrictVerdict:
    """The strict verdict of a non-abstaining answer to an answerable question."""
    verdict = StrictVerdict(supporting=supporting_citations(citations, gold))
    if missing_facts:
        verdict.failures.append("missing fact(s): " + "; ".join(missing_facts))
    elif no_alias:
        verdict.failures.append("no gold answer in the answer")
    if not verdict.provenance and gold.sources:  # a record naming no source cannot be checked for provenance
        if not citations:
            verdict.failures.append("no citation")
        elif not any(matching_sources(c, gold.sources) for c in citations):
            verdict.failures.append("no citation of a gold source release")
        else:
            verdict.failures.append("the gold release is cited but its quote is not the gold evidence")
    negated = negations_added(answer_text, gold)
    if negated:
        verdict.failures.append("negated answer (" + ", ".join(negated) + ")")
    extra = extra_words(scored_answer, gold)
    if len(extra) > MAX_EXTRA_WORDS:
        verdict.failures.append(f"imprecise answer: {len(extra)} words beyond the question and gold answer (max {MAX_EXTRA_WORDS})")
    return verdict
