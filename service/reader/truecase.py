"""Restore the capitals of a question typed without them, from how the retrieved releases spell its words.

spaCy finds the names a question asks about by their capitals: "who represented turkmenistan?" has none, so the
question names nothing, and a release that never mentions the country looks as good as one that does. A question
typed all in lower case (or all in capitals) gets each word's usual spelling inside the releases' sentences, where a
capital is not owed to the start of a sentence. A question typed with capitals is left as typed: its writer chose them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from service.reader.lexicon import STOPWORDS

_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?")
# Where a capital is the sentence's, not the word's: the start of a text, or after a full stop, line break or quote.
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n\"“]\s*)$")
# A spelling must be the usual one, not a headline's or a title's: at least this share of the word's mid-sentence uses.
MIN_SHARE = 0.5


def needs_truecasing(question: str) -> bool:
    """Typed without case: no capital after the first letter, or no lower-case letter at all."""
    letters = [c for c in question if c.isalpha()]
    if len(letters) < 2:
        return False
    return not any(c.isupper() for c in letters[1:]) or not any(c.islower() for c in letters)


def spellings(texts: Iterable[str], wanted: set[str]) -> dict[str, Counter]:
    """For each wanted word (lower case): how the texts spell it where no sentence starts."""
    seen: dict[str, Counter] = {w: Counter() for w in wanted}
    for text in texts:
        for match in _WORD.finditer(text):
            word = match.group()
            low = word.lower()
            if low in seen and not _SENTENCE_START.search(text[max(0, match.start() - 3) : match.start()]):
                seen[low][word] += 1
    return seen


def truecase(question: str, texts: Iterable[str]) -> str:
    """The question with each word spelled as the texts usually spell it mid-sentence; unchanged when it was typed with
    capitals. The first word keeps a capital if it had one (a question's own start)."""
    if not needs_truecasing(question):
        return question
    lowered = question.lower() if not any(c.islower() for c in question) else question
    words = list(_WORD.finditer(lowered))
    wanted = {m.group().lower() for m in words if m.group().lower() not in STOPWORDS}
    if not wanted:
        return lowered
    usual = {}
    for word, counts in spellings(texts, wanted).items():
        total = sum(counts.values())
        if not total:
            continue
        form, n = counts.most_common(1)[0]
        if form != word and n / total >= MIN_SHARE:
            usual[word] = form
    out, last = [], 0
    for m in words:
        form = usual.get(m.group().lower())
        if form is None:
            continue
        out.append(lowered[last : m.start()])
        out.append(form)
        last = m.end()
    out.append(lowered[last:])
    result = "".join(out)
    if question[:1].isupper() and result[:1].islower():
        result = result[0].upper() + result[1:]
    return result
