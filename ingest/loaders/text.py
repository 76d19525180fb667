"""Plain-text releases (.txt): page chrome removed, headline, date, dateline and attribution found."""

from __future__ import annotations

import re

from ingest.loaders.cleaning import clean_inline, decode, join_paragraphs, text_to_paragraphs
from ingest.loaders.errors import BrokenFile
from ingest.loaders.metadata import (
    find_attribution,
    find_dateline,
    looks_like_headline,
    parse_date,
    title_from_name,
)
from core.records import Release

# Copied-page chrome such as " date 2025-04-26 + ↺ − 16 px" (the font-size widget of a news site).
_CHROME = re.compile(r"^\s*(?:date:?\s+(?P<date>\S+(?: \S+){0,3}?)\s+)?\+\s*↺\s*[−–-]\s*\d+\s*px\s*$", re.MULTILINE)
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_FIELD = re.compile(r"^(?P<key>title|date|published|source|url|link|place|dateline):\s*(?P<value>\S.*)$", re.I)


def load_text(name: str, data: bytes, origin: str) -> list[Release]:
    decoded = decode(data)
    text = decoded.text
    published = None
    m = _CHROME.search(text[:2000])
    if m:
        published = parse_date(m["date"]) if m["date"] else None
        text = text[: m.start()] + text[m.end() :]
    paragraphs = text_to_paragraphs(text)
    # An optional "Title: …" / "Date: …" header block, one field per line.
    fields: dict[str, str] = {}
    head = [_FIELD.match(line.strip()) for line in _BLANK_LINE.split(text.strip(), 1)[0].splitlines()]
    if paragraphs and head and all(head):
        fields = {m["key"].lower(): clean_inline(m["value"]) for m in head}
        paragraphs = paragraphs[1:]
    title = fields.get("title")
    if not title and len(paragraphs) > 1 and looks_like_headline(paragraphs[0]) and _single_line(text, paragraphs[0]):
        title = paragraphs.pop(0)
    body = join_paragraphs(paragraphs)
    if not body:
        raise BrokenFile("no body text")
    place, agency = find_dateline(body)
    return [
        Release(
            title=title or title_from_name(name),
            text=body,
            origin=origin,
            published=parse_date(fields.get("date") or fields.get("published")) or published,
            source=fields.get("source") or find_attribution(body) or agency,
            url=fields.get("url") or fields.get("link"),
            place=fields.get("place") or fields.get("dateline") or place,
            encoding=decoded.encoding,
        )
    ]


def _single_line(text: str, paragraph: str) -> bool:
    """The headline must stand on its own line in the file, not be a wrapped sentence."""
    for line in text.splitlines():
        if line.strip():
            return clean_inline(line) == paragraph
    return False
