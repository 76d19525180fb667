"""HTML pages (.html, .htm): boilerplate dropped with selectolax, metadata from the page's <head>."""

from __future__ import annotations

import re

from ingest.loaders.cleaning import check_not_empty_or_binary, clean_inline, decode, html_tree_to_paragraphs, join_paragraphs, parse_html
from ingest.loaders.errors import BrokenFile
from ingest.loaders.metadata import find_attribution, find_dateline, parse_date, publisher_for_url, title_from_name
from core.records import Release

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "date", "dc.date", "dc.date.issued",
              "dcterms.date", "dcterms.issued", "dcterms.created", "pubdate", "publishdate", "publish-date",
              "parsely-pub-date", "sailthru.date", "citation_publication_date", "article.published")


def declared_html_encoding(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m[1].decode("ascii").lower() if m else None


def load_html(name: str, data: bytes, origin: str) -> list[Release]:
    check_not_empty_or_binary(data)
    decoded = decode(data, declared_html_encoding(data))
    tree = parse_html(decoded.text)
    meta: dict[str, str] = {}
    for node in tree.css("meta"):
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or attrs.get("http-equiv")
        if key and attrs.get("content") and key.lower() not in meta:
            meta[key.lower()] = attrs["content"]
    title_node = tree.css_first("title")
    h1 = tree.css_first("h1")
    title = clean_inline(meta.get("og:title") or meta.get("dc.title") or (title_node.text() if title_node else "")
                         or (h1.text(separator="") if h1 else ""))
    canonical = tree.css_first('link[rel="canonical"]')
    url = clean_inline((canonical.attributes.get("href") if canonical else None) or meta.get("og:url") or "") or None
    published = next((d for d in (parse_date(meta.get(k)) for k in _DATE_META) if d), None)
    if published is None:
        time_node = tree.css_first("time[datetime]")
        published = parse_date(time_node.attributes.get("datetime")) if time_node else None
    root = _content_root(tree)
    paragraphs = html_tree_to_paragraphs(tree, root)
    if paragraphs and title and paragraphs[0] == title:
        paragraphs.pop(0)  # the page's own headline repeated above the body
    text = join_paragraphs(paragraphs)
    if not text:
        raise BrokenFile("no text in the page body")
    place, agency = find_dateline(text)
    source = clean_inline(meta.get("og:site_name") or meta.get("publisher") or meta.get("dc.publisher") or "") or None
    return [
        Release(
            title=title or title_from_name(name),
            text=text,
            origin=origin,
            published=published,
            source=source or publisher_for_url(url) or find_attribution(text) or agency,
            url=url,
            place=place,
            encoding=decoded.encoding,
        )
    ]


def _content_root(tree):
    """The page's main content when it marks one (<main>, a single <article>), else <body>."""
    main = tree.css_first("main")
    if main is not None:
        return main
    articles = tree.css("article")
    if len(articles) == 1:
        return articles[0]
    return tree.body
