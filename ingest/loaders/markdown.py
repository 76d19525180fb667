"""Markdown releases (.md, .markdown), with optional YAML front matter such as the White House archive's."""

from __future__ import annotations

import re

import yaml
from markdown_it import MarkdownIt

from ingest.loaders.cleaning import clean_inline, decode, html_tree_to_paragraphs, join_paragraphs, parse_html
from ingest.loaders.errors import BrokenFile
from ingest.loaders.metadata import find_attribution, find_dateline, parse_date, publisher_for_url, title_from_name
from core.records import Release

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_MD = MarkdownIt("commonmark", {"html": True})
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on 1,552 front matters


def split_front_matter(text: str) -> tuple[dict, str]:
    """(front matter mapping, body); garbage front matter is a BrokenFile, not a traceback."""
    if not re.match(r"---[ \t]*\r?\n", text):
        return {}, text
    m = _FRONT_MATTER.match(text)
    if not m:
        raise BrokenFile("front matter opened with '---' is never closed")
    try:
        meta = yaml.load(m["yaml"], Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f" at line {mark.line + 2}" if mark else ""
        raise BrokenFile(f"invalid YAML front matter{where}: {clean_inline(str(e.problem or e))}") from None
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError, RecursionError) as e:
        # PyYAML raises plain ValueError for impossible timestamps such as 2024-13-45, and AttributeError
        # from its timestamp constructor for some values its resolver took for timestamps.
        raise BrokenFile(f"invalid YAML front matter: {clean_inline(str(e))}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise BrokenFile(f"front matter is a YAML {type(meta).__name__}, not a mapping of fields")
    return {str(k).lower(): v for k, v in meta.items()}, text[m.end() :]


# "**Barriers: **The" — emphasis closed after a space, which CommonMark leaves as literal asterisks.
_LOOSE_EMPHASIS = re.compile(r"(?<![*\w])(\*{1,3})(?=[^\s*])((?:[^*\n]|\n(?![ \t]*\n))*?[^\s*])([ \t\xa0]+)\1(?!\*)")
# Whatever bold markers the converter left unpaired ("UN**,**", "Labor: ** **Ecuador") are markup, not prose.
_STRAY_BOLD = re.compile(r"\*{2,}")


def markdown_to_paragraphs(markdown: str, take_heading: bool = False) -> tuple[str | None, list[str]]:
    """CommonMark → HTML → paragraphs: links keep their text, escapes and inline HTML disappear.

    With take_heading, an opening level-1/2 heading is returned apart as the title."""
    tree = parse_html(_MD.render(_LOOSE_EMPHASIS.sub(r"\1\2\1\3", markdown)))
    heading = None
    first = tree.body.css_first("*") if tree.body is not None else None
    if take_heading and first is not None and first.tag in ("h1", "h2"):
        heading = clean_inline(first.text(deep=True, separator="")) or None
        first.decompose()
    paragraphs = [p if p.strip("*") == "" else _STRAY_BOLD.sub("", p) for p in html_tree_to_paragraphs(tree)]
    return heading, [p for p in map(clean_inline, paragraphs) if p]


def load_markdown(name: str, data: bytes, origin: str) -> list[Release]:
    decoded = decode(data)
    meta, body = split_front_matter(decoded.text)
    try:
        title = _string(meta.get("title"))
        heading, paragraphs = markdown_to_paragraphs(body, take_heading=not title)
    except RecursionError:
        raise BrokenFile("Markdown nested too deeply to parse") from None
    title = title or heading
    text = join_paragraphs(paragraphs)
    if not text:
        raise BrokenFile("no body text after the front matter" if meta else "no body text")
    url = _string(meta.get("source_url") or meta.get("url") or meta.get("link") or meta.get("canonical_url"))
    place, agency = find_dateline(text)
    published = None
    for key in ("date", "published", "published_time", "pubdate"):
        published = parse_date(meta.get(key))
        if published:
            break
    return [
        Release(
            title=title or title_from_name(name),
            text=text,
            origin=origin,
            published=published,
            source=_string(meta.get("source") or meta.get("publisher")) or publisher_for_url(url)
            or find_attribution(text) or agency,
            url=url,
            place=_string(meta.get("place") or meta.get("dateline")) or place,
            encoding=decoded.encoding,
        )
    ]


def _string(value: object) -> str | None:
    """A front-matter scalar as clean text (YAML may hand back numbers, dates or lists)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return clean_inline(str(value)) or None
