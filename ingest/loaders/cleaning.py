"""Shared text cleanup: bytes → str, HTML → paragraphs, whitespace. Output paragraphs are joined by "\\n\\n"."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from ingest.loaders.errors import BrokenFile

PARAGRAPH_BREAK = "\n\n"

# Invisible characters would break verbatim quoting; \s already covers non-breaking and thin spaces.
_INVISIBLE = re.compile("[\u200b\ufeff\u00ad\u2060]")
_BLANK_LINE = re.compile(r"\n[ \t\f\v\r]*\n")

# Private-use marks inserted around block elements before the whole tree is flattened in C.
_BLOCK_MARK = "\ue000"
_BR_MARK = "\ue001"
_CELL_MARK = "\ue002"
_MARKS = re.compile("[\ue000-\ue002]")
_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z/!]|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")

DROPPED_TAGS = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "iframe",
                "svg", "button", "select", "object", "embed", "canvas", "map"]
BLOCK_TAGS = ("p, div, li, dt, dd, h1, h2, h3, h4, h5, h6, blockquote, pre, tr, table, ul, ol, dl, section, "
              "article, main, figure, figcaption, hr, address, details, summary, caption, center, fieldset")

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def check_not_empty_or_binary(data: bytes) -> None:
    """Reject files that are empty or plainly binary before any parser sees them."""
    if not data.strip():
        raise BrokenFile("empty file")
    if not any(data.startswith(bom) for bom, _ in _BOMS[1:]) and b"\x00" in data:
        raise BrokenFile("binary content (NUL bytes), not text")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec the bytes were read with, as Python names it ("utf-8", "cp1252", …)


# Control characters other than tab, newline, carriage return and form feed: text has almost none, binary plenty.
_CONTROL = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f]")
MAX_CONTROL_SHARE = 0.01


def decode(data: bytes, declared: str | None = None) -> Decoded:
    """A BOM, else the declared encoding (strictly), else UTF-8, else the legacy encoding charset-normalizer finds."""
    check_not_empty_or_binary(data)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            break
    else:
        encoding = declared or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BrokenFile(f"unknown declared encoding {encoding!r}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        if encoding != "utf-8" or declared:
            raise BrokenFile(f"not valid {encoding.upper()} text (undecodable byte at offset {e.start})") from None
        encoding, text = _decode_legacy(data, e.start)
    except (UnicodeError, ValueError) as e:
        raise BrokenFile(f"cannot decode as {encoding}: {e}") from None
    if "\x00" in text:
        raise BrokenFile("binary content (NUL characters), not text")
    if not text.strip():
        raise BrokenFile("empty file")
    return Decoded(text, codecs.lookup(encoding).name)


def _decode_legacy(data: bytes, bad_offset: int) -> tuple[str, str]:
    """Windows-1252, Latin-1, KOI8-R…: old press releases were saved in whatever the desk's PC used."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise BrokenFile(f"binary or unknown encoding: not valid UTF-8 (undecodable byte at offset {bad_offset}) and no legacy encoding fits")
    # Western text reads cleanly (equal, lowest chaos) as cp1250/1252/1257, mac_latin2…; the language guess that
    # breaks the tie is unreliable on a short release ("Café" came out "Cafť" in mac_latin2). cp1252 is what such
    # files nearly always are (browsers read "latin-1" as windows-1252 too), so it wins every tie on chaos.
    cleanest = {m.encoding for m in matches if m.chaos == best.chaos}
    encoding = "cp1252" if "cp1252" in cleanest else best.encoding
    try:
        text = data.decode(encoding)
    except (UnicodeError, LookupError):
        encoding, text = best.encoding, str(best)
    if len(_CONTROL.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise BrokenFile("binary content (control bytes), not text")
    return encoding, text


def clean_inline(text: str) -> str:
    """One paragraph: spaces normalized, invisible characters dropped, whitespace collapsed."""
    return " ".join(_INVISIBLE.sub("", text).split())


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Clean each paragraph and join the non-empty ones with exactly one blank line."""
    return PARAGRAPH_BREAK.join(p for p in map(clean_inline, paragraphs) if p)


def text_to_paragraphs(text: str) -> list[str]:
    """Plain text: blank lines separate paragraphs, hard-wrapped lines are joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p for p in map(clean_inline, _BLANK_LINE.split(text)) if p]


def parse_html(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(_MARKS.sub("", html.replace("\x00", "")))


def html_tree_to_paragraphs(tree: LexborHTMLParser, root=None) -> list[str]:
    """Flatten a parsed tree (boilerplate dropped) into paragraphs at block-element boundaries."""
    tree.strip_tags(DROPPED_TAGS)
    root = root or tree.body or tree.root
    if root is None:
        return []
    for ol in root.css("ol"):
        try:
            n = int(ol.attributes.get("start") or 1)
        except ValueError:
            n = 1
        for li in ol.css("li"):
            if li.parent is not None and li.parent.mem_id == ol.mem_id:
                # Keep the numbering visible: "3. The United States ..." (before the first words, inside any <p>)
                for node in li.traverse(include_text=True):
                    if node.is_text_node and node.text_content.strip():
                        node.insert_before(f"{n}. ")
                        break
                n += 1
    for node in root.css(BLOCK_TAGS):
        node.insert_before(_BLOCK_MARK)
        node.insert_after(_BLOCK_MARK)
    for node in root.css("br"):
        node.insert_before(_BR_MARK)
    for node in root.css("td, th"):
        node.insert_after(_CELL_MARK)
    flat = root.text(deep=True, separator="")
    # Two line breaks in a row end a paragraph; a single one is a wrapped line.
    flat = re.sub(f"{_BR_MARK}(\\s*{_BR_MARK})+", _BLOCK_MARK, flat)
    flat = flat.replace(_BR_MARK, " ").replace(_CELL_MARK, " ")
    return [p for p in map(clean_inline, flat.split(_BLOCK_MARK)) if p]


def html_to_paragraphs(html: str) -> list[str]:
    """HTML (a page or a fragment) → paragraphs, with scripts, styles and page chrome removed."""
    return html_tree_to_paragraphs(parse_html(html))


def html_to_text(html: str) -> str:
    return PARAGRAPH_BREAK.join(html_to_paragraphs(html))


def markup_to_text(value: str) -> str:
    """A field that may or may not hold HTML (feed titles, JSON bodies)."""
    if _LOOKS_LIKE_HTML.search(value):
        return html_to_text(value)
    return join_paragraphs(text_to_paragraphs(value))
