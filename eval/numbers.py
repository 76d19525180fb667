"""Number canonicalisation for answer matching: "thirteen" = "13", "twenty-first" = "21st", "201st" ≠ "201".

Spelled-out numbers become digits before SQuAD normalisation, so an answer and a gold alias that write the
same number differently compare equal. Ordinals keep their suffix ("first" → "1st"), so an ordinal never
equals a cardinal. Scale words of a million and up stay words ("five million" → "5 million"), because gold
answers write them that way ("$500 million"); smaller compounds are folded ("two thousand" → "2000",
"one hundred and five" → "105"). Digits with thousands separators lose them ("35,000" → "35000"), which
SQuAD normalisation would do anyway by dropping the comma.
"""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
MULTIPLIERS = {"hundred": 100, "thousand": 1000}
ORDINALS = {
    "first": "one", "second": "two", "third": "three", "fourth": "four", "fifth": "five", "sixth": "six",
    "seventh": "seven", "eighth": "eight", "ninth": "nine", "tenth": "ten", "eleventh": "eleven",
    "twelfth": "twelve", "thirteenth": "thirteen", "fourteenth": "fourteen", "fifteenth": "fifteen",
    "sixteenth": "sixteen", "seventeenth": "seventeen", "eighteenth": "eighteen", "nineteenth": "nineteen",
    "twentieth": "twenty", "thirtieth": "thirty", "fortieth": "forty", "fiftieth": "fifty", "sixtieth": "sixty",
    "seventieth": "seventy", "eightieth": "eighty", "ninetieth": "ninety", "hundredth": "hundred",
    "thousandth": "thousand",
}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(MULTIPLIERS) | set(ORDINALS)

_WORD = re.compile(r"[a-z]+")
# A run of number words joined by spaces, hyphens or an inner "and" ("one hundred and five").
_RUN = re.compile(
    r"\b(?:%(w)s)(?:(?:\s+and\s+|[\s-]+)(?:%(w)s))*\b" % {"w": "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))},
    re.IGNORECASE,
)
_GROUPED_DIGITS = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _value(words: list[str]) -> int | None:
    """The integer a run of cardinal number words spells, or None when it spells none ("hundred" alone)."""
    total, current, seen_digit = 0, 0, False
    for w in words:
        if w in UNITS:
            current += UNITS[w]
            seen_digit = True
        elif w in TENS:
            current += TENS[w]
            seen_digit = True
        elif w == "hundred":
            if not seen_digit:
                return None
            current = max(current, 1) * 100
        elif w == "thousand":
            if not seen_digit:
                return None
            total += max(current, 1) * 1000
            current = 0
    return total + current if seen_digit else None


def _replace_run(match: re.Match) -> str:
    text = match.group(0)
    words = [w for w in _WORD.findall(text.lower()) if w != "and"]
    ordinal = words[-1] in ORDINALS
    if ordinal:
        words[-1] = ORDINALS[words[-1]]
    value = _value(words)
    if value is None:
        return text
    return f"{value}{_ordinal_suffix(value)}" if ordinal else str(value)


def canonicalize_numbers(text: str) -> str:
    """The text with spelled-out numbers as digits (ordinals as 1st/2nd/…) and no thousands separators."""
    text = _GROUPED_DIGITS.sub(lambda m: m.group(0).replace(",", ""), text)
    return _RUN.sub(_replace_run, text)
