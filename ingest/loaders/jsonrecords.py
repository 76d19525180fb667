"""JSON releases: a .json list or object (or {"releases": [...]}) and .jsonl, one record per line."""

from __future__ import annotations

import json

from ingest.loaders.cleaning import clean_inline, decode, markup_to_text
from ingest.loaders.errors import BrokenFile
from ingest.loaders.metadata import find_attribution, find_dateline, parse_date, publisher_for_url, title_from_text
from core.records import Release

BODY_KEYS = ("body", "text", "content", "content_text", "content_html")
LIST_KEYS = ("releases", "items", "records", "data")


def load_json(name: str, data: bytes, origin: str) -> list[Release]:
    decoded = decode(data)
    try:
        value = json.loads(decoded.text)
    except ValueError as e:  # JSONDecodeError, and ints too long to convert
        raise BrokenFile(f"invalid JSON: {e}") from None
    except RecursionError:
        raise BrokenFile("invalid JSON: nested too deeply") from None
    if isinstance(value, dict):
        key = next((k for k in LIST_KEYS if isinstance(value.get(k), list)), None)
        if key is None:
            return [_release(value, origin, "the record", decoded.encoding)]
        value = value[key]
    if not isinstance(value, list):
        raise BrokenFile(f"JSON holds a {type(value).__name__}, not release records")
    return [_release(record, f"{origin}#record-{i}", f"record {i}", decoded.encoding) for i, record in enumerate(value, start=1)]


def load_jsonl(name: str, data: bytes, origin: str) -> list[Release]:
    releases = []
    decoded = decode(data)
    for n, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise BrokenFile(f"line {n}: invalid JSON: {e}") from None
        except RecursionError:
            raise BrokenFile(f"line {n}: invalid JSON: nested too deeply") from None
        releases.append(_release(record, f"{origin}#line-{n}", f"line {n}", decoded.encoding))
    return releases


def _release(record: object, origin: str, where: str, encoding: str) -> Release:
    if not isinstance(record, dict):
        raise BrokenFile(f"{where}: a {type(record).__name__}, not a release object")
    record = {str(k).lower(): v for k, v in record.items()}
    body = next((record[k] for k in BODY_KEYS if isinstance(record.get(k), str) and record[k].strip()), None)
    if body is None:
        raise BrokenFile(f"{where}: no body text (expected one of: {', '.join(BODY_KEYS[:2])})")
    text = markup_to_text(body)
    if not text:
        raise BrokenFile(f"{where}: no body text")
    url = _field(record, "url", "link", "source_url")
    place, agency = find_dateline(text)
    return Release(
        title=_field(record, "title", "headline") or title_from_text(text),
        text=text,
        origin=origin,
        published=parse_date(record.get("date") or record.get("published") or record.get("published_at")),
        source=_field(record, "source", "publisher", "author") or publisher_for_url(url) or find_attribution(text) or agency,
        url=url,
        place=_field(record, "place", "dateline") or place,
        encoding=encoding,
    )


def _field(record: dict, *keys: str) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            cleaned = clean_inline(markup_to_text(str(value)))
            if cleaned:
                return cleaned
    return None
