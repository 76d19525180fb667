"""Typed records that flow from loaders to the store."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date


def normalize_for_hash(text: str) -> str:
    """Whitespace-collapsed, lower-cased text: two copies of a release differing only in layout hash alike."""
    return re.sub(r"\s+", " ", text).strip().lower()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_for_hash(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Release:
    """One press release, cleaned. `text` is the body every offset points into."""

    title: str
    text: str
    origin: str  # file path, or "feed-path#item-N"
    published: date | None = None
    source: str | None = None  # publisher / attribution
    url: str | None = None
    place: str | None = None  # dateline
    id: str = field(default="")
    # The codec the file was read with ("utf-8", "cp1252", …). Not part of content_hash: the text already is.
    encoding: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.url or "sha256:" + text_hash(self.text)[:32])

    @property
    def content_hash(self) -> str:
        """Changes whenever anything stored about the release changes."""
        meta = "\x1f".join(str(v or "") for v in (self.title, self.published, self.source, self.url, self.place))
        return hashlib.sha256((meta + "\x1e" + self.text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned span of a release: release.text[start:end] == text."""

    release_id: str
    index: int
    text: str
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.release_id}::{self.index}"


@dataclass
class LoadProblem:
    """A file that was skipped (unsupported) or failed (broken), with the reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class ReleaseMeta:
    """What the store keeps about a release besides its text; chunk_count and content_hash mark it complete."""

    id: str
    title: str
    published: str | None  # ISO date
    source: str | None
    url: str | None
    place: str | None
    origin: str
    content_hash: str
    chunk_count: int
    encoding: str | None = None


@dataclass(frozen=True)
class ChunkHit:
    """A stored chunk with its release's metadata; score is the retriever's fused score, or 0 when fetched by id."""

    chunk_id: str
    release_id: str
    index: int
    text: str
    start: int
    end: int
    score: float
    title: str
    published: str | None
    source: str | None
    url: str | None
    origin: str | None
