"""RSS 2.0, RSS 1.0 and Atom feeds (.rss, .xml, .atom): one release per item, parsed by lxml in recover mode.

A feed cut off mid-item keeps every complete item before the break; the half item is dropped and the break
reported (PartialFile) with its line and column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from lxml import etree as ET

from ingest.loaders.cleaning import check_not_empty_or_binary, clean_inline, html_to_paragraphs, join_paragraphs, markup_to_text
from ingest.loaders.errors import BrokenFile, PartialFile, UnsupportedFile
from ingest.loaders.metadata import find_dateline, parse_date, publisher_for_url, title_from_text
from core.records import Release

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_ROOTS = {"rss": "rss", f"{RDF}RDF": "rss", f"{ATOM}feed": "atom"}


def load_feed(name: str, data: bytes, origin: str) -> list[Release]:
    check_not_empty_or_binary(data)
    items, channel_title, encoding, damage = _parse(name, data)
    releases = []
    for i, item in enumerate(items, start=1):
        body = join_paragraphs(item["paragraphs"])
        title = item["title"]
        if not body:
            # A headline-only item still says something; its title is its whole text.
            if not title:
                continue
            body = title
        url = item["link"]
        place, agency = find_dateline(body)
        releases.append(
            Release(
                title=title or title_from_text(body),
                text=body,
                origin=f"{origin}#item-{i}",
                published=parse_date(item["published"]),
                source=item["creator"] or channel_title or publisher_for_url(url) or agency,
                url=url,
                place=place,
                encoding=encoding,
            )
        )
    if damage:
        if not releases:
            raise BrokenFile(damage)
        raise PartialFile(f"{damage}; kept the {len(releases)} complete items before it", releases)
    return releases


_ITEM_TAGS = {"item", f"{RSS1}item", f"{ATOM}entry"}


@dataclass
class _Reading:
    """What one pass over the XML found: the items whose end tag it reached, and where it stopped if it broke."""

    items: list[dict] = field(default_factory=list)
    channel_title: str | None = None
    encoding: str | None = None
    item_open_at_break: bool = False
    break_at: tuple[int, int] | None = None  # (line, column)
    break_reason: str = ""


def _parse(name: str, data: bytes) -> tuple[list[dict], str | None, str | None, str | None]:
    """The items, the channel title, the document's encoding and, if the XML is damaged, where and why.

    A strict pass reads the feed; only when it breaks, a recover-mode pass reads on past a damaged spot in the
    middle. A feed cut off at the end keeps exactly the items whose end tag came before the cut (recover mode
    would close the half item for us, and that item must never be stored).
    """
    strict = _read(name, data, recover=False)
    if strict.break_at is None:
        return strict.items, strict.channel_title, strict.encoding, None
    line, column = strict.break_at
    damage = f"invalid XML at line {line}, column {column}: {strict.break_reason}"
    if _on_last_line(data, line):
        return strict.items, strict.channel_title, strict.encoding, damage
    repaired = _read(name, data, recover=True)
    items = repaired.items
    if strict.item_open_at_break and len(items) > len(strict.items):
        del items[len(strict.items)]  # the item the damage is in: its text may be cut or swallowed
    return items, strict.channel_title or repaired.channel_title, strict.encoding or repaired.encoding, damage


def _on_last_line(data: bytes, line: int) -> bool:
    return line >= data.rstrip().count(b"\n") + 1


def _read(name: str, data: bytes, recover: bool) -> _Reading:
    """Stream the XML once, keeping per item only the fields a release needs."""
    reading = _Reading()
    kind = None
    depth = 0
    open_item = None
    # No DTDs, no entity expansion, no network: a feed is data, never instructions to fetch or expand.
    parser = ET.iterparse(
        io.BytesIO(data), events=("start", "end"), recover=recover, resolve_entities=False, load_dtd=False,
        no_network=True, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        for event, elem in parser:
            if event == "start":
                depth += 1
                if depth == 1:
                    kind = _ROOTS.get(elem.tag)
                    if kind is None:
                        tag = str(elem.tag).rsplit("}", 1)[-1]
                        if name.lower().endswith(".xml"):
                            raise UnsupportedFile(f"XML file is not an RSS or Atom feed (root element <{tag}>)")
                        raise BrokenFile(f"not an RSS or Atom feed (root element <{tag}>)")
                    reading.encoding = (elem.getroottree().docinfo.encoding or "utf-8").lower()
                elif open_item is None and elem.tag in _ITEM_TAGS:
                    open_item = elem
                continue
            depth -= 1
            tag = elem.tag
            if tag in ("item", f"{RSS1}item"):
                reading.items.append(_rss_item(elem))
            elif tag == f"{ATOM}entry":
                reading.items.append(_atom_entry(elem))
            elif tag in ("title", f"{RSS1}title", f"{ATOM}title") and reading.channel_title is None and depth == (1 if kind == "atom" else 2):
                reading.channel_title = clean_inline(markup_to_text(elem.text or "")) or None
            if elem is open_item:
                open_item = None
                elem.clear()
    except ET.XMLSyntaxError as e:
        if kind is None and not reading.items:
            line, col = e.position
            raise BrokenFile(f"invalid XML at line {line}, column {col}: {_reason(e.msg)}") from None
        reading.break_at, reading.break_reason = e.position, _reason(e.msg)
        reading.item_open_at_break = open_item is not None
    except (LookupError, UnicodeError, ValueError) as e:
        raise BrokenFile(f"cannot read XML: {e}") from None
    if kind is None:
        raise BrokenFile("invalid XML: no root element")
    return reading


def _reason(message: str) -> str:
    """libxml2's message without its own position suffix ("…, line 5, column 48")."""
    first_line = (message.strip().splitlines() or [""])[0]
    return first_line.split(", line ", 1)[0].strip()[:200]


def _text(elem) -> str:
    return (elem.text or "") if elem is not None else ""


def _rss_item(item: ET._Element) -> dict:
    content = _text(item.find(f"{CONTENT}encoded")) or _text(item.find("description")) or _text(item.find(f"{RSS1}description"))
    creator = _text(item.find(f"{DC}creator")) or _text(item.find("author"))
    return {
        "title": clean_inline(markup_to_text(_text(item.find("title")) or _text(item.find(f"{RSS1}title")))),
        "link": clean_inline(_text(item.find("link")) or _text(item.find(f"{RSS1}link"))) or None,
        "published": _text(item.find("pubDate")) or _text(item.find(f"{DC}date")) or None,
        "creator": clean_inline(creator) or None,
        "paragraphs": _body_paragraphs(content),
    }


def _atom_entry(entry: ET._Element) -> dict:
    body = entry.find(f"{ATOM}content")
    if body is None or not (body.text or len(body)):
        body = entry.find(f"{ATOM}summary")
    link = None
    for node in entry.findall(f"{ATOM}link"):
        if node.get("rel", "alternate") == "alternate" and node.get("href"):
            link = node.get("href")
            break
    authors = [clean_inline(_text(a.find(f"{ATOM}name"))) for a in entry.findall(f"{ATOM}author")]
    return {
        "title": clean_inline(_atom_text(entry.find(f"{ATOM}title"))),
        "link": clean_inline(link or "") or None,
        "published": _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated")) or None,
        "creator": ", ".join(a for a in authors if a) or None,
        "paragraphs": _atom_paragraphs(body),
    }


def _atom_text(elem: ET._Element | None) -> str:
    """An Atom text construct (type text, html or xhtml) as plain text."""
    if elem is None:
        return ""
    kind = elem.get("type", "text")
    if kind == "xhtml":
        return "\n\n".join(html_to_paragraphs(_inner_xml(elem)))
    if kind == "html":
        return "\n\n".join(html_to_paragraphs(elem.text or ""))
    return elem.text or ""


def _atom_paragraphs(elem: ET._Element | None) -> list[str]:
    if elem is None:
        return []
    kind = elem.get("type", "text")
    if kind == "xhtml":
        return html_to_paragraphs(_inner_xml(elem))
    if kind in ("html", "text/html"):
        return html_to_paragraphs(elem.text or "")
    return _body_paragraphs(elem.text or "")


def _inner_xml(elem: ET._Element) -> str:
    parts = [elem.text or ""]
    for child in elem:
        for node in child.iter():  # html:p → p, so the HTML parser sees its block elements
            if isinstance(node.tag, str) and "}" in node.tag:
                node.tag = node.tag.split("}", 1)[1]
        parts.append(ET.tostring(child, encoding="unicode", method="html"))
    return "".join(parts)


def _body_paragraphs(value: str) -> list[str]:
    """RSS bodies are HTML in practice; plain text keeps its blank-line paragraphs."""
    return [p for p in markup_to_text(value).split("\n\n") if p]
