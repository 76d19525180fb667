"""Evidence selection: from retrieved chunks, the sentences (and, inside long lists, the clauses) that answer."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from service.question import AnswerType, QuestionProfile, STOPWORDS, entities, stem, tokens

NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|"
    "dozen|dozens|million|millions|billion|billions"
)
ORDINAL_WORDS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"

_NUMBER = re.compile(rf"(?:\$\s?)?\b\d[\d,\.]*\b(?:\s+(?:million|billion|trillion|thousand))?|\b(?:{NUMBER_WORDS})\b", re.I)
_MONEY = re.compile(
    r"\$\s?\d[\d,\.]*(?:\s+(?:million|billion|trillion|thousand))?|\b\d[\d,\.]*\s+(?:million|billion|trillion)?\s*(?:dollars|euros|USD)\b", re.I
)
_DURATION = re.compile(rf"\b(?:\d[\d,\.]*|{NUMBER_WORDS}|a|one)[\s-]+(?:years?|months?|weeks?|days?|decades?)\b", re.I)
_DATE = re.compile(rf"\b(?:{MONTH_NAMES})\s+\d{{1,2}}\b|\b\d{{1,2}}\s+(?:{MONTH_NAMES})\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b(?:19|20)\d\d\b")
_ORDINAL = re.compile(rf"\b\d+(?:st|nd|rd|th)\b|\b(?:{ORDINAL_WORDS})\b", re.I)
_CLAUSE_BREAK = re.compile(r",\s+(?:and\s+|or\s+)?|;\s+|\s+[—–]\s+|:\s+")

# Words that start a capitalized sequence but do not make it a new name.
TITLE_WORDS = frozenset(
    """president prime minister secretary vice the mr mrs ms dr his her their king queen chancellor ambassador
    foreign deputy general special envoy state department united states u.s white house administration government""".split()
)


@dataclass
class SentenceCandidate:
    """One sentence of a retrieved release, with offsets into the release text."""

    release_id: str
    title: str
    published: str | None
    url: str | None
    origin: str | None
    text: str
    start: int
    end: int
    release_rank: int  # 0 = best retrieved release
    release_score: float = 0.0


@dataclass
class Evidence:
    """A sentence that answers, the clause of it that carries the answer, and why it was chosen."""

    candidate: SentenceCandidate
    clause: str
    clause_start: int
    clause_end: int
    score: float
    dense: float
    lexical: float
    typed_answers: list[str] = field(default_factory=list)

    @property
    def release_id(self) -> str:
        return self.candidate.release_id


def typed_spans(text: str, answer_type: AnswerType, question: QuestionProfile) -> list[str]:
    """Spans of `text` that could answer a question of this type and are not already in the question."""
    q_lower = question.text.lower()
    q_stems = {stem(t) for t in tokens(question.text)}

    def new(span: str) -> bool:
        span = span.strip()
        if not span:
            return False
        return span.lower() not in q_lower

    if answer_type == AnswerType.MONEY:
        spans = [m.group(0) for m in _MONEY.finditer(text)]
        return [s for s in spans if new(s)]
    if answer_type == AnswerType.DURATION:
        return [m.group(0) for m in _DURATION.finditer(text) if new(m.group(0)) and re.search(r"\d|" + NUMBER_WORDS, m.group(0), re.I)]
    if answer_type == AnswerType.NUMBER:
        spans = [m.group(0) for m in _NUMBER.finditer(text) if new(m.group(0))]
        # "how many aircraft": the number must count the thing asked about, near it in the sentence.
        if question.counted:
            wanted = {stem(w) for w in question.counted if w not in STOPWORDS}
            words = tokens(text)
            stems = [stem(w) for w in words]
            kept = []
            for span in spans:
                first = tokens(span)[0] if tokens(span) else span
                positions = [i for i, w in enumerate(words) if w == first or w == first.lstrip("$")]
                if any(stems[j] in wanted for i in positions for j in range(i + 1, min(len(words), i + 6))):
                    kept.append(span)
            spans = kept
        return [s for s in spans if not re.fullmatch(r"(?:19|20)\d\d", s)]
    if answer_type == AnswerType.DATE:
        return [m.group(0) for m in _DATE.finditer(text) if new(m.group(0))]
    if answer_type == AnswerType.ORDINAL:
        return [m.group(0) for m in _ORDINAL.finditer(text) if new(m.group(0))]
    if answer_type in (AnswerType.PERSON, AnswerType.PLACE):
        spans = []
        for ent in entities(text):
            for part in re.split(r"\s+of\s+", ent) if answer_type == AnswerType.PERSON else [ent]:
                words = [w for w in part.split() if w.lower().strip(".,'’s") not in TITLE_WORDS]
                if not words:
                    continue
                known = [stem(w) in q_stems or w.lower().rstrip("’'s") in q_lower for w in words]
                if answer_type == AnswerType.PERSON:
                    # A name is new only if none of its words is in the question ("Joseph R. Biden Jr." is Biden).
                    if any(k for w, k in zip(words, known) if len(w) >= 4) or (len(words) < 2 and not part.isupper()):
                        continue
                elif all(known):
                    continue
                spans.append(part)
        return spans
    return []


def _sentence_terms(text: str) -> set[str]:
    return {stem(t) for t in tokens(text) if t.lower() not in STOPWORDS}


def _clause_spans(sentence: str) -> list[tuple[int, int]]:
    """Comma/semicolon-separated segments of a sentence, as (start, end) within it."""
    spans, pos = [], 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        if match.start() > pos:
            spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(sentence.rstrip(". "))))
    return [(s, e) for s, e in spans if e > s]


def best_clause(sentence: str, question: QuestionProfile, weights: dict[str, float]) -> tuple[int, int]:
    """Inside a long enumeration, the one or two adjacent segments that name what the question asks about."""
    if len(tokens(sentence)) < 35:
        return 0, len(sentence)
    segments = _clause_spans(sentence)
    if len(segments) < 4:
        return 0, len(sentence)
    q_terms = {stem(t) for t in question.terms}
    segment_terms = [_sentence_terms(sentence[s:e]) for s, e in segments]
    # A term found in every segment ("minister") cannot pick one; a term in one segment ("Turkmenistan") can.
    spread = Counter(t for terms in segment_terms for t in terms & q_terms)
    best, best_score = (0, len(sentence)), 0.0
    for width in (1, 2, 3):
        for i in range(len(segments) - width + 1):
            start, end = segments[i][0], segments[i + width - 1][1]
            terms = set().union(*segment_terms[i : i + width]) & q_terms
            overlap = sum(weights.get(t, 1.0) * math.log(1 + len(segments) / spread[t]) for t in terms)
            text = sentence[start:end]
            typed = bool(typed_spans(text, question.answer_type, question)) if question.answer_type != AnswerType.OTHER else True
            score = overlap * (1.0 if typed else 0.3) / (1 + 0.15 * (width - 1))
            if score > best_score:
                best, best_score = (start, end), score
    return best


def term_weights(question: QuestionProfile, candidates: list[SentenceCandidate]) -> dict[str, float]:
    """IDF of the question's terms over the candidate sentences: the rarer, the more it distinguishes."""
    n = max(1, len(candidates))
    df: Counter[str] = Counter()
    q_terms = {stem(t) for t in question.terms}
    for cand in candidates:
        df.update(_sentence_terms(cand.text) & q_terms)
    return {t: math.log(1 + n / (1 + df[t])) for t in q_terms}


def release_coverage(question: QuestionProfile, title: str, text: str) -> float:
    """Share of the question's named entities (by word) found in the release: 'Putin' must be in a Putin answer."""
    words = set()
    for ent in question.entities:
        for w in tokens(ent):
            w = w.removesuffix("’s").removesuffix("'s")
            if w.lower() in STOPWORDS or w.lower() in TITLE_WORDS or re.fullmatch(r"(?:19|20)\d\d", w):
                continue
            if w.lower() in {m.lower() for m in MONTH_NAMES.split("|")}:
                continue
            words.add(w)
    if not words:
        return 1.0
    haystack = {stem(w) for w in tokens(title + " " + text)}
    found = sum(1 for w in words if stem(w) in haystack)
    return found / len(words)


def score_sentences(
    question: QuestionProfile,
    candidates: list[SentenceCandidate],
    question_embedding: np.ndarray,
    sentence_embeddings: np.ndarray,
    coverage: dict[str, float],
) -> list[Evidence]:
    """Every candidate sentence scored against the question, best first."""
    if not candidates:
        return []
    weights = term_weights(question, candidates)
    total = sum(weights.values()) or 1.0
    dense = sentence_embeddings @ question_embedding
    scored = []
    for cand, dense_score in zip(candidates, dense):
        terms = _sentence_terms(cand.text)
        lexical = sum(w for t, w in weights.items() if t in terms) / total
        title_terms = _sentence_terms(cand.title)
        title_lex = sum(w for t, w in weights.items() if t in title_terms) / total
        typed = typed_spans(cand.text, question.answer_type, question) if question.answer_type != AnswerType.OTHER else []
        type_ok = question.answer_type == AnswerType.OTHER or bool(typed)
        rank_prior = 1.0 / (1 + cand.release_rank)
        score = (
            0.45 * float(dense_score)
            + 0.35 * lexical
            + 0.10 * title_lex
            + 0.10 * rank_prior
            + 0.25 * coverage.get(cand.release_id, 1.0)
        ) * (1.0 if type_ok else 0.6)
        start, end = best_clause(cand.text, question, weights)
        scored.append(
            Evidence(
                candidate=cand,
                clause=cand.text[start:end],
                clause_start=cand.start + start,
                clause_end=cand.start + end,
                score=score,
                dense=float(dense_score),
                lexical=lexical,
                typed_answers=typed,
            )
        )
    scored.sort(key=lambda e: e.score, reverse=True)
    return scored
