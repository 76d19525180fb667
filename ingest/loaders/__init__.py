"""Loaders: files, folders and uploads → cleaned `Release` records, one module per format.

`Release.text` is cleaned once here (paragraphs joined by a blank line, wrapped lines joined, no markup,
non-breaking spaces as spaces) because every later offset and quote points into it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath

from ingest.loaders.errors import BrokenFile, PartialFile, UnsupportedFile
from core.records import Release

__all__ = ["BrokenFile", "PartialFile", "UnsupportedFile", "SUPPORTED_SUFFIXES", "MAX_BYTES", "iter_release_files", "load_file", "load_bytes", "estimate_releases"]

MAX_BYTES = 50 * 1024 * 1024
Loader = Callable[[str, bytes, str], list[Release]]


def _loaders() -> dict[str, Loader]:
    from ingest.loaders.feeds import load_feed
    from ingest.loaders.html import load_html
    from ingest.loaders.jsonrecords import load_json, load_jsonl
    from ingest.loaders.markdown import load_markdown
    from ingest.loaders.text import load_text

    return {
        ".txt": load_text,
        ".md": load_markdown,
        ".markdown": load_markdown,
        ".html": load_html,
        ".htm": load_html,
        ".rss": load_feed,
        ".xml": load_feed,
        ".atom": load_feed,
        ".json": load_json,
        ".jsonl": load_jsonl,
    }


# Files that hold many releases (feed items, JSON lines): a release in them is named by its URL, not the path.
MANY_RELEASE_SUFFIXES = (".rss", ".xml", ".atom", ".jsonl")
SUPPORTED_SUFFIXES: set[str] = {".txt", ".md", ".markdown", ".html", ".htm", ".rss", ".xml", ".atom", ".json", ".jsonl"}


def iter_release_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, folders recursed in sorted order (hidden entries skipped); missing paths pass through so load_file reports them."""
    for path in map(Path, paths):
        if not path.is_dir():
            yield path
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(folder) / name


def _loader_for(name: str) -> Loader:
    suffix = PurePath(name).suffix.lower()
    if not suffix:
        raise UnsupportedFile("a file without a suffix is not a supported type")
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{suffix} is not a supported type")
    return _loaders()[suffix]


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        mib = 1024 * 1024
        raise BrokenFile(f"file is {size / mib:.1f} MB, over the {max_bytes / mib:g} MB limit")


def load_file(path: Path, max_bytes: int = MAX_BYTES) -> list[Release]:
    """All releases in one file, or UnsupportedFile/BrokenFile: never part of a file."""
    path = Path(path)
    loader = _loader_for(path.name)
    try:
        if path.is_dir():
            raise BrokenFile("is a folder, not a file")
        _check_size(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    except FileNotFoundError:
        raise BrokenFile("no such file") from None
    except OSError as e:
        raise BrokenFile(f"cannot read the file: {e.strerror or e}") from None
    _check_size(len(data), max_bytes)  # it may have grown since stat()
    return loader(path.name, data, str(path))


def load_bytes(name: str, data: bytes, max_bytes: int = MAX_BYTES) -> list[Release]:
    """Same as load_file for an upload: the suffix of `name` picks the loader and `name` is the origin."""
    loader = _loader_for(name)
    _check_size(len(data), max_bytes)
    return loader(name, data, name)


_FEED_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")


def estimate_releases(path: Path) -> int:
    """How many releases a file will give, without parsing it: feed items counted by their tags, JSONL by lines.

    For progress bars only (a 2,031-item feed is one file but two thirds of the bundled corpus's work).
    """
    suffix = path.suffix.lower()
    if suffix not in MANY_RELEASE_SUFFIXES:
        return 1
    try:
        data = path.read_bytes()
    except OSError:
        return 1
    if suffix == ".jsonl":
        return max(1, sum(1 for line in data.splitlines() if line.strip()))
    return max(1, len(_FEED_ITEM.findall(data)))
