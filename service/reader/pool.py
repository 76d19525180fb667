"""The sentences the reader chooses from: every sentence of the best retrieved releases, with its neighbours."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from service.reader.lexicon import content_stems
from service.reader.names import text_acronyms


@dataclass
class PoolRelease:
    release_id: str
    title: str
    published: str | None
    url: str | None
    origin: str | None
    text: str
    rank: int  # 0 = the best retrieved release
    score: float  # retrieval score relative to the best release's (1.0 for it)

    @cached_property
    def stems(self) -> frozenset[str]:
        """Content stems of its text and title (computed once: several features ask)."""
        return frozenset(content_stems(self.text + " " + self.title))

    @cached_property
    def acronyms(self) -> frozenset[str]:
        """What an acronym of a question may stand for in it (service.reader.names.text_acronyms)."""
        return text_acronyms(self.text) | text_acronyms(self.title)


@dataclass
class PoolSentence:
    release: PoolRelease
    index: int  # position of the sentence in its release
    start: int  # offsets into release.text
    end: int
    previous: str = ""
    next: str = ""
    stems: frozenset[str] = field(default_factory=frozenset)
    window_stems: frozenset[str] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        return self.release.text[self.start : self.end]


def build_pool(releases: list[PoolRelease], sentence_spans: list[list[tuple[int, int]]]) -> list[PoolSentence]:
    """Sentences of the releases in release order; a question asked inside a release is never an answer."""
    from service.reader.lexicon import content_stems

    pool: list[PoolSentence] = []
    for release, spans in zip(releases, sentence_spans):
        texts = [release.text[s:e] for s, e in spans]
        stems = [frozenset(content_stems(t)) for t in texts]
        for i, (start, end) in enumerate(spans):
            if texts[i].rstrip().endswith("?"):
                continue
            around = stems[i]
            if i > 0:
                around = around | stems[i - 1]
            if i + 1 < len(spans):
                around = around | stems[i + 1]
            pool.append(
                PoolSentence(
                    release=release,
                    index=i,
                    start=start,
                    end=end,
                    previous=texts[i - 1] if i > 0 else "",
                    next=texts[i + 1] if i + 1 < len(spans) else "",
                    stems=stems[i],
                    window_stems=around,
                )
            )
    return pool
