"""The little fixed vocabulary the reader needs: typographic folding, stop words, stems, number and month words.

Nothing here is about a particular question; everything question-specific is learned (see service/reader/fit.py).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

# Typographic forms a keyboard, a copied headline or a PDF gives, folded to what the releases mostly use.
_TYPOGRAPHIC = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "‒": "-", "−": "-",
     "‐": "-", "‑": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " "}
)  # fmt: skip


def fold(text: str) -> str:
    """NFKC with typographic quotes, dashes and spaces made plain; same length per character is not kept."""
    return unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC)


STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from as into about over under than then that this these those
    is are was were be been being am do does did done have has had having will would shall should can could may might must
    it its he him his she her hers they them their theirs we us our you your i me my mine who whom whose what which
    when where why how many much there here not no nor so such very also just only own same other another any each few
    more most some all both either neither one ones s t according said say says did during within while after before
    since until again further once if else because between through against via per name named""".split()
)

WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
}  # fmt: skip

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A snowball stemmer holds the word it is cutting in the object, so request threads each need their own.
_STEMMERS = threading.local()


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    stemmer = getattr(_STEMMERS, "english", None)
    if stemmer is None:
        stemmer = _STEMMERS.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word.lower())


def words(text: str) -> list[str]:
    """Lower-cased word tokens of folded text; hyphens and apostrophes split ("China-Central" → china, central)."""
    return _WORD.findall(fold(text).lower())


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order (stop words and the possessive 's' dropped)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1 or w.isdigit()]
