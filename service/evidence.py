"""Evidence selection: from retrieved chunks, the sentences (and, inside long lists, the clauses) that answer."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from service.question import AnswerType, QuestionProfile, STOPWORDS, asks_for_several, entities, plain, stem, tokens

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
# A release whose title shares no word with the question is about something else, unless the sentence
# itself matches strongly.
STRONG_LEXICAL = 0.6
STRONG_DENSE = 0.5
OFF_TOPIC_RELEASE = 0.75

_CLAUSE_BREAK = re.compile(r",\s+(?:and\s+|or\s+)?|;\s+|\s+[—–]\s+|:\s+")

# Words that start a capitalized sequence but do not make it a new name.
TITLE_WORDS = frozenset(
    """president president-elect prime minister ministers secretary vice the mr mrs ms dr his her their king queen
    chancellor ambassador foreign affairs deputy general special envoy state department united states u.s white house
    administration government assistant principal acting under spokesperson ministry chargé chair chairman director
    senior advisor adviser national security council representative leader leaders amir emir sheikh""".split()
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
    title_lexical: float = 0.0
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
                words = [w for w in part.split() if plain(w) not in TITLE_WORDS]
                if not words:
                    continue
                known = [stem(w) in q_stems or plain(w) in q_lower for w in words]
                if answer_type == AnswerType.PERSON:
                    name = _new_name(words, known)
                    if name:
                        spans.append(name)
                elif not all(known) and _located(text, part, events=not _SETTLEMENT.search(question.text)):
                    spans.append(part)
        return spans
    return []


_LOCATIVE = re.compile(r"\b(?:in|at|from|near|to|across|inside|outside|within|into)\s+(?:the\s+)?$", re.I)
_EVENT = re.compile(r"\b(?:Summit|Conference|Forum|Meeting|Games|Olympics|Assembly|Expo)\b")


def _located(text: str, span: str, events: bool = True) -> bool:
    """A place answer stands where a place is named: 'in Minsk', 'at bases in Rota', 'the margins of the NATO Summit'.

    `events=False` when the question wants a city or country: a summit is then no answer.
    """
    if re.fullmatch(rf"(?:{MONTH_NAMES})(?:\s+\d+)?", span):
        return False
    if _EVENT.search(span):
        return events
    for match in re.finditer(re.escape(span), text):
        before = text[max(0, match.start() - 30) : match.start()]
        if _LOCATIVE.search(before):
            return True
    return False


_SETTLEMENT = re.compile(r"\b(?:city|cities|town|towns|capital|country|countries|state|states|province|region)\b", re.I)


_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def _new_name(words: list[str], known: list[bool]) -> str | None:
    """The trailing run of words not in the question, if it looks like a person's name.

    A name is the question's own when its surname is ("Joseph R. Biden Jr." is Biden); leading title-like words
    the question also uses ("Foreign Affairs Mukhtar Tileuberdi") are dropped.
    """
    while words and (words[-1].lower().strip(",") in _NAME_SUFFIXES or words[-1][0].isdigit()):
        words, known = words[:-1], known[:-1]
    if not words or known[-1]:
        return None
    run = []
    for word, is_known in zip(reversed(words), reversed(known)):
        if is_known:
            break
        run.append(word)
    run.reverse()
    if any(ch.isdigit() for w in run for ch in w):
        return None  # "COVID-19", "G20": not a person
    if len(run) < 2 and not (run and run[0].isupper() and len(run[0]) > 2 and "." not in run[0]):
        return None
    if not all(w[0].isupper() for w in run):
        return None
    return " ".join(run)


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
    if question.answer_type == AnswerType.OTHER or asks_for_several(question.text) or len(tokens(sentence)) < 35:
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
    weights = {t: math.log(1 + n / (1 + df[t])) for t in q_terms}
    if question.focus and stem(question.focus) in weights:
        weights[stem(question.focus)] *= 2.0  # "which principle…": a sentence naming a principle is the one
    return weights


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
    encode,
    coverage: dict[str, float],
    dense_limit: int = 48,
) -> list[Evidence]:
    """Candidate sentences scored against the question, best first.

    All are scored lexically; only the best `dense_limit` are embedded (`encode(texts) -> vectors`), since a
    long transcript among the releases would otherwise cost seconds per question.
    """
    if not candidates:
        return []
    weights = term_weights(question, candidates)
    total = sum(weights.values()) or 1.0
    pre = []
    q_stems = {stem(t) for t in tokens(question.text)}
    for cand in candidates:
        terms = _sentence_terms(cand.text)
        title_terms = _sentence_terms(cand.title)
        # Terms the title already carries place the release; the sentence is found by the other terms.
        lexical = sum(w * (0.4 if t in title_terms else 1.0) for t, w in weights.items() if t in terms) / total
        title_lex = sum(w for t, w in weights.items() if t in title_terms) / total
        typed = typed_spans(cand.text, question.answer_type, question) if question.answer_type != AnswerType.OTHER else []
        type_ok = question.answer_type == AnswerType.OTHER or bool(typed)
        new_terms = terms - q_stems
        novelty = len(new_terms) / len(terms) if terms else 0.0
        pre.append((lexical + 0.3 * title_lex + (0.2 if type_ok else 0.0), cand, lexical, title_lex, typed, type_ok, novelty))
    pre.sort(key=lambda item: item[0], reverse=True)
    pre = pre[:dense_limit]
    dense = encode([item[1].text for item in pre]) @ question_embedding
    scored = []
    for (_, cand, lexical, title_lex, typed, type_ok, novelty), dense_score in zip(pre, dense):
        rank_prior = 1.0 / (1 + cand.release_rank)
        score = (
            0.30 * float(dense_score)
            + 0.60 * lexical
            + 0.10 * title_lex
            + 0.10 * rank_prior
            + 0.25 * coverage.get(cand.release_id, 1.0)
            + 0.10 * novelty  # a sentence that only restates the question answers nothing
        ) * (1.0 if type_ok else 0.6)
        if title_lex == 0 and not (lexical >= STRONG_LEXICAL and dense_score >= STRONG_DENSE):
            score *= OFF_TOPIC_RELEASE  # names in passing in a release about something else (a briefing transcript)
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
                title_lexical=title_lex,
                typed_answers=typed_spans(cand.text[start:end], question.answer_type, question) if typed else typed,
            )
        )
    scored.sort(key=lambda e: e.score, reverse=True)
    return scored
