"""What a question asks: its wh-word, the noun it asks about, the words an answer sentence should share with it.

Parsed with spaCy on the folded text, so "who represented turkmenistan?" and a copied headline with an en dash
read the same as the tidy forms.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.reader.contrast import Contrasts, question_contrasts
from service.reader.lexicon import STOPWORDS, WH_WORDS, content_stems, fold, stem
from service.reader.names import Name, question_names

# "how many", "how much", "how long": the word after "how" says what kind of quantity is asked for.
_BE = ("is", "are", "was", "were", "be", "been", "'s")
_HOW_KINDS = ("many", "much", "long", "old", "often", "far", "large", "big", "early", "late", "soon")


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str  # as asked
    folded: str  # typographic forms made plain
    wh: str  # who, what, which, when, where, why, how, how_many, how_much, how_long, …, or "other"
    focus: str | None  # the noun asked about: "which city" → city; "what program" → program
    focus_plural: bool  # "which ministers": the answer may be a list
    terms: tuple[str, ...]  # content stems an answer sentence should share (wh-words and the focus excluded)
    term_words: tuple[str, ...]  # the same words as typed, for display and debugging
    names: tuple[Name, ...] = ()  # what the question names (service.reader.names): a release that mentions none of one is about something else
    contrasts: Contrasts = Contrasts()  # its negation and comparative or superlative words (service.reader.contrast)


def wh_key(doc) -> tuple[str, object | None]:
    """The question's wh-word (first one spaCy tags W*, or the first in WH_WORDS) and its token."""
    tokens = [t for t in doc if not t.is_punct]
    for i, tok in enumerate(tokens):
        low = tok.lower_
        if low in WH_WORDS and (tok.tag_.startswith("W") or i == 0):
            if low == "how" and i + 1 < len(tokens) and tokens[i + 1].lower_ in _HOW_KINDS:
                return f"how_{tokens[i + 1].lower_}", tok
            if low in ("whom", "whose"):
                return "who", tok
            return low, tok
    return "other", None


def focus_noun(doc, wh_token) -> tuple[str | None, bool]:
    """The noun the wh-word asks about: "which city", "what kind of program" → program, "how many years" → years;
    none for "what did X do". The second value: whether the answer may be a list ("which ministers")."""
    if wh_token is not None and wh_token.lower_ == "how":
        # "how" modifies "many"/"much", which modifies the noun counted: one number answers, never a list.
        quantity = wh_token.head
        counted = quantity.head
        if quantity.lower_ in ("many", "much") and counted.i > quantity.i and counted.pos_ in ("NOUN", "PROPN"):
            return counted.lower_, False
        return None, False
    if wh_token is None or wh_token.lower_ not in ("what", "which"):
        return None, False
    head = None
    if wh_token.dep_ == "det" and wh_token.head.pos_ in ("NOUN", "PROPN"):
        head = wh_token.head
    else:
        # The first noun phrase right after the wh-word, past at most a copula or numbers and adjectives:
        # "which two visiting presidents", "what is the name of…", "which of the ministers".
        for chunk in doc.noun_chunks:
            between = doc[wh_token.i + 1 : chunk.start]
            if chunk.start <= wh_token.i or len(between) > 3:
                continue
            copula_or_modifiers = all(t.pos_ in ("DET", "NUM", "ADJ", "ADP") or t.lower_ in _BE for t in between)
            if copula_or_modifiers:
                head = chunk.root
            break
    if head is None:
        return None, False
    if head.lower_ in ("name", "kind", "type", "sort", "form", "term"):
        of_object = next((c for c in head.children if c.dep_ == "prep" and c.lower_ == "of"), None)
        target = next((g for g in of_object.children if g.dep_ == "pobj"), None) if of_object is not None else None
        head = target if target is not None else head
    return head.lower_, head.tag_ in ("NNS", "NNPS")


def analyze(question: str, doc) -> QuestionAnalysis:
    """`doc` is spaCy's parse of fold(question)."""
    folded = fold(question)
    wh, wh_token = wh_key(doc)
    focus, plural = focus_noun(doc, wh_token)
    skip = {stem(w) for w in WH_WORDS} | {stem(k) for k in _HOW_KINDS if wh.startswith("how_")}
    if focus:
        skip.add(stem(focus))
    terms, shown = [], []
    for tok in doc:
        if tok.is_punct or tok.lower_ in STOPWORDS:
            continue
        for s in content_stems(tok.text):
            if s not in skip and s not in terms:
                terms.append(s)
                shown.append(tok.text)
    names = tuple(n for n in question_names(doc) if not set(n.words) <= skip)
    return QuestionAnalysis(question, folded, wh, focus, plural, tuple(terms), tuple(shown), names,
                            question_contrasts(doc))
