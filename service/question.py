"""What a question asks for: its answer type, its key terms and entities, the thing it counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

import snowballstemmer

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-\.]*[A-Za-z]|[A-Za-z]|\$?\d[\d,\.]*\d|\$?\d")

STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from as into about over under than then that this these those
    is are was were be been being am do does did done have has had having will would shall should can could may might must
    it its it's he him his she her hers they them their theirs we us our you your i me my mine who whom whose what which
    when where why how many much there here not no nor so such very also just only own same other another any each few
    more most some all both either neither one ones s t according said say says stated state states did during
    within while after before since until again further once if else because between through against via per""".split()
)
# Words that frame a question rather than name its subject.
QUESTION_FRAME = frozenset(
    """readout readouts statement statements release releases press announce announced announcement
    according reported report reports discuss discussed call calls phone meeting meetings spoke speak
    tell told name named give gave""".split()
)

_DATE_WORD = re.compile(
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|(?:19|20)\d\d|\d{1,2}(?:st|nd|rd|th)?)"
)
PERSON_HINTS = ("who", "whom", "whose")


class AnswerType(str, Enum):
    PERSON = "person"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    PLACE = "place"
    ORDINAL = "ordinal"
    DURATION = "duration"
    OTHER = "other"


@dataclass(frozen=True)
class QuestionProfile:
    text: str
    answer_type: AnswerType
    terms: tuple[str, ...]  # lower-cased content words
    entities: tuple[str, ...]  # capitalized names and numbers as written
    counted: tuple[str, ...] = field(default=())  # "how many Guatemalan migrants" → ("guatemalan", "migrants")
    focus: str | None = None  # "which principle did…" → "principle": the answer names one


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of a word, possessive dropped: propose/proposed, vaccine/vaccines match."""
    w = word.lower().strip(".'’")
    for possessive in ("'s", "’s"):
        w = w.removesuffix(possessive)
    return _STEMMER.stemWord(w)


def plain(word: str) -> str:
    """A word without surrounding punctuation or possessive, lower-cased."""
    w = word.lower().strip(".,;:'’\"“”()")
    for possessive in ("'s", "’s"):
        w = w.removesuffix(possessive)
    return w


def tokens(text: str) -> list[str]:
    return WORD_RE.findall(text)


def content_terms(text: str) -> list[str]:
    return [t.lower() for t in tokens(text) if t.lower() not in STOPWORDS and len(t) > 1 or t[0].isdigit()]


_CAP_SEQ = re.compile(
    r"(?:[A-Z][\w’'\-\.]*|\d[\d,\.]*)(?:\s+(?:of|the|de|al|bin)?\s*(?:[A-Z][\w’'\-\.]*|\d[\d,\.]*))*"
)


def entities(text: str) -> list[str]:
    """Capitalized sequences and numbers, minus a question's leading capital."""
    found = []
    for match in _CAP_SEQ.finditer(text):
        value = match.group(0).strip(" ,.")
        if match.start() == 0 or text[: match.start()].rstrip().endswith(("?", ".", "!", '"')):
            first, _, rest = value.partition(" ")
            if first.lower() in STOPWORDS or first.lower() in ("in", "at", "on", "according"):
                value = rest
        if value and value.lower() not in STOPWORDS:
            found.append(value)
    return found


PERSON_NOUNS = (
    "person|people|journalist|detainee|minister|foreign minister|official|officials|envoy|ambassador|leader|leaders|"
    "president|prime minister|secretary|spokesperson|candidate|prisoner|dissident|activist|negotiator|representative|"
    "delegate|chair|director|senator|general|judge|reporter|author|nominee|appointee"
)


def answer_type(question: str) -> AnswerType:
    q = question.lower()
    if re.match(r"\s*(and\s+)?(who|whom|whose)\b", q):
        return AnswerType.PERSON
    if re.search(r"\bhow much\b|\bhow large\b|\bhow big\b|\bwhat amount\b|\bwhat sum\b", q):
        return AnswerType.MONEY
    if re.search(r"\bhow many years\b|\bhow long\b|\bwhat (prison )?(sentence|term)\b|\bprison sentence\b", q):
        return AnswerType.DURATION
    if re.search(r"\bhow many\b|\bwhat number\b|\bwhat percentage\b|\bhow often\b", q):
        return AnswerType.NUMBER
    if re.search(r"\bby number\b|\bwhich member\b.*\bnumber\b|\bwhat rank\b", q):
        return AnswerType.ORDINAL
    if re.search(r"\bwhen\b|\bwhat date\b|\bwhich date\b|\bwhat day\b|\bwhat year\b|\bby when\b", q):
        return AnswerType.DATE
    if re.search(r"\b(who|whom|whose)\b", q) or re.search(rf"\b(which|what)\s+(\w+\s+)?({PERSON_NOUNS})\b", q):
        return AnswerType.PERSON
    if re.search(r"\bwhere\b|\b(which|what) (city|cities|country|countries|state|states|town|capital|place|venue|bases?|location|region)\b|\bin which (city|country|state)\b|\bat which\b.*\bbases?\b", q):
        return AnswerType.PLACE
    return AnswerType.OTHER


def counted_noun(question: str) -> tuple[str, ...]:
    """The words after 'how many' up to the verb: what a number in the answer must count."""
    match = re.search(r"\bhow many\s+(.+?)\s+(?:did|do|does|had|has|have|were|was|are|is|will|would|could|killed|did)\b", question, re.I)
    if not match:
        return ()
    words = [w.lower() for w in tokens(match.group(1)) if w.lower() not in STOPWORDS]
    return tuple(words[-2:])


def asks_for_several(question: str) -> bool:
    """'Which companies…', 'what countries…': the answer is a list, never one clause of it."""
    match = re.search(r"\b(?:which|what)\s+(?:\w+\s+)?(\w+)", question, re.I)
    return bool(match and match.group(1).lower().endswith("s") and not match.group(1).lower().endswith("ss"))


_FOCUS = re.compile(
    r"\b(?:which|what)\s+(?:[\w.’'-]+\s+){0,3}?([a-z][\w-]*?)(?:['’]s?)?\s+(?:did|do|does|was|were|is|are|has|had|have|will|would|could|can)\b",
    re.I,
)


def focus_noun(question: str) -> str | None:
    match = _FOCUS.search(question)
    if not match or match.group(1).lower() in STOPWORDS:
        return None
    return match.group(1).lower()


def profile(question: str) -> QuestionProfile:
    # Dates are matched by the published-date window, not as words ("August" is in every August briefing's title).
    terms = tuple(t for t in content_terms(question) if t not in QUESTION_FRAME and not _DATE_WORD.fullmatch(t))
    return QuestionProfile(
        text=question,
        answer_type=answer_type(question),
        terms=terms,
        entities=tuple(entities(question)),
        counted=counted_noun(question),
        focus=focus_noun(question),
    )
