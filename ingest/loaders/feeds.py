"""RSS 2.0, RSS 1.0 and Atom feeds (.rss, .xml, .atom): one release per item, parsed by a real XML parser."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from ingest.loaders.cleaning import check_not_empty_or_binary, clean_inline, html_to_paragraphs, join_paragraphs, markup_to_text
from ingest.loaders.errors import BrokenFile, UnsupportedFile
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
    items, channel_title = _parse(name, data)
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
            )
        )
    return releases


def _parse(name: str, data: bytes) -> tuple[list[dict], str | None]:
    """Stream the XML once, keeping per item only the fields a release needs."""
    items: list[dict] = []
    channel_title = None
    kind = None
    depth = 0
    try:
        for event, elem in ET.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    kind = _ROOTS.get(elem.tag)
                    if kind is None:
                        tag = elem.tag.rsplit("}", 1)[-1]
                        if name.lower().endswith(".xml"):
                            raise UnsupportedFile(f"XML file is not an RSS or Atom feed (root element <{tag}>)")
                        raise BrokenFile(f"not an RSS or Atom feed (root element <{tag}>)")
                continue
            depth -= 1
            tag = elem.tag
            if tag in ("item", f"{RSS1}item"):
                items.append(_rss_item(elem))
                elem.clear()
            elif tag == f"{ATOM}entry":
                items.append(_atom_entry(elem))
                elem.clear()
            elif tag in ("title", f"{RSS1}title", f"{ATOM}title") and channel_title is None and depth == (1 if kind == "atom" else 2):
                channel_title = clean_inline(markup_to_text(elem.text or "")) or None
    except ET.ParseError as e:
        line, col = e.position
        raise BrokenFile(f"invalid XML at line {line}, column {col}: {_reason(e)}") from None
    except (LookupError, UnicodeError, ValueError) as e:
        raise BrokenFile(f"cannot read XML: {e}") from None
    return items, channel_title


def _reason(e: ET.ParseError) -> str:
    return str(e).split(":", 1)[0]


def _text(elem: ET.Element | None) -> str:
    return (elem.text or "") if elem is not None else ""


def _rss_item(item: ET.Element) -> dict:
    content = _text(item.find(f"{CONTENT}encoded")) or _text(item.find("description")) or _text(item.find(f"{RSS1}description"))
    creator = _text(item.find(f"{DC}creator")) or _text(item.find("author"))
    return {
        "title": clean_inline(markup_to_text(_text(item.find("title")) or _text(item.find(f"{RSS1}title")))),
        "link": clean_inline(_text(item.find("link")) or _text(item.find(f"{RSS1}link"))) or None,
        "published": _text(item.find("pubDate")) or _text(item.find(f"{DC}date")) or None,
        "creator": clean_inline(creator) or None,
        "paragraphs": _body_paragraphs(content),
    }


def _atom_entry(entry: ET.Element) -> dict:
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


def _atom_text(elem: ET.Element | None) -> str:
    """An Atom text construct (type text, html or xhtml) as plain text."""
    if elem is None:
        return ""
    kind = elem.get("type", "text")
    if kind == "xhtml":
        return "\n\n".join(html_to_paragraphs(_inner_xml(elem)))
    if kind == "html":
        return "\n\n".join(html_to_paragraphs(elem.text or ""))
    return elem.text or ""


def _atom_paragraphs(elem: ET.Element | None) -> list[str]:
    if elem is None:
        return []
    kind = elem.get("type", "text")
    if kind == "xhtml":
        return html_to_paragraphs(_inner_xml(elem))
    if kind in ("html", "text/html"):
        return html_to_paragraphs(elem.text or "")
    return _body_paragraphs(elem.text or "")


def _inner_xml(elem: ET.Element) -> str:
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
