"""What a question names (people, places, organisations, events), and whether a text mentions each of them.

A release that mentions none of the ways to say one of the question's names is about something else: the strongest
sign that an on-topic release still cannot answer ("who represented <a country that was not there>?"). So a name is
matched as releases refer to things, not word by word:
- a name is one entity, mentioned when any of its words is: "President Kallumaa" mentions "Edvard Kallumaa", and
  "the Harbour Authority" mentions "the Quellport Harbour Authority";
- a multi-word name other than a person's is also mentioned by its initials, and an acronym by the words it
  abbreviates ("ZTU" and "Zorblax Trade Union");
- a country is mentioned by its people's adjective ("India", "Indian");
- a title before a person's name ("Secretary Okafor", "Prime Minister Kallumaa") names nobody by itself;
- dates and numbers are no names: a release need not spell its own month.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from service.reader.lexicon import MONTHS, content_stems

# spaCy's entity types whose words name something (dates and numbers are matched as terms and by the date window).
NAME_TYPES = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE")

# A run of capitalized words, with the small words a name's long form keeps inside ("Bureau of Consular Affairs").
_CAPITALIZED_RUN = re.compile(r"\b[A-Z][\w'-]*(?:\s+(?:(?:of|for|the|on|de)\s+)*[A-Z][\w'-]*)+")
_INITIAL = re.compile(r"\b[A-Z]")
_CAPITALIZED_WORD = re.compile(r"\b[A-Z][\w'-]*")


def initials(phrase: str) -> str:
    """"European Union" → "eu"; "" for a single word (an acronym of one letter says nothing)."""
    letters = _INITIAL.findall(phrase)
    return "".join(letters).lower() if len(letters) >= 2 else ""


def text_acronyms(text: str) -> frozenset[str]:
    """What an acronym in a question may stand for: the initials of every run of capitalized words in the text, and
    of each run's endings ("The European Union" → "teu", "eu"; a name's head word comes last)."""
    found = set()
    for run in _CAPITALIZED_RUN.finditer(text):
        starts = [m.start() for m in _CAPITALIZED_WORD.finditer(run.group(0))]
        found.update(initials(run.group(0)[start:]) for start in starts)
    found.discard("")
    return frozenset(found)


@dataclass(frozen=True)
class Name:
    """One thing a question names: the stems of its words, and its initials when it has several words."""

    words: tuple[str, ...]
    initials: str = ""


def _is_name_token(tok) -> bool:
    if tok.ent_type_ in ("DATE", "TIME") or tok.lower_ in MONTHS or tok.like_num or tok.is_punct:
        return False
    return tok.pos_ == "PROPN" or tok.ent_type_ in NAME_TYPES


def question_names(doc) -> tuple[Name, ...]:
    """Each name in spaCy's parse of a question.

    A named entity is one name (its words, and its initials when it has several); a proper noun outside every entity
    is a name of its own, unless it is a title: a compound before a named person or place ("Secretary" in
    "Secretary Okafor")."""
    names: list[Name] = []
    in_entity = set()
    for ent in doc.ents:
        if ent.label_ not in NAME_TYPES:
            continue
        in_entity.update(range(ent.start, ent.end))
        stems = tuple(dict.fromkeys(s for tok in ent if _is_name_token(tok) for s in content_stems(tok.text)))
        # A person is not called by initials, and two letters of a person's name would match too much.
        abbreviation = initials(ent.text) if ent.label_ != "PERSON" and len(ent) > 1 else ""
        if stems:
            names.append(Name(stems, abbreviation))
    for tok in doc:
        if tok.i in in_entity or not _is_name_token(tok):
            continue
        if tok.dep_ == "compound" and tok.head.ent_type_ in NAME_TYPES:
            continue  # a title: "Secretary" Okafor, "President" Kallumaa
        stems = content_stems(tok.text)
        if stems:
            names.append(Name(tuple(stems)))
    return tuple(dict.fromkeys(names))  # each once, in the question's order


def name_in(name: str, stems) -> bool:
    """The name's stem, or a form derived from it, is among the stems: a country and its people's adjective ("india",
    "indian"; "senegal", "senegales") share all but the shorter word's last letter, and at least four."""
    if name in stems:
        return True
    if len(name) < 4:
        return False
    head = name[:4]
    for s in stems:
        if s.startswith(head):
            common = len(os.path.commonprefix((name, s)))
            if common >= max(4, min(len(name), len(s)) - 1):
                return True
    return False


def mentioned(name: Name, stems, acronyms=frozenset()) -> bool:
    """Whether a text, given as its content stems and its capitalized runs' initials (text_acronyms), mentions the
    name: one of its words or a form derived from it, its initials, or, for an acronym, the words it stands for."""
    return any(name_in(s, stems) or s in acronyms for s in name.words) or (bool(name.initials) and name.initials in stems)


def name_words(names: tuple[Name, ...]) -> tuple[str, ...]:
    """The stems of every word of the names, each once."""
    return tuple(dict.fromkeys(w for name in names for w in name.words))
