"""The loaded parts of pressqa (store, embedder, lexical index, LLM, indexer, chain), built once from Settings.

The composition root: the one place that wires core, ingest and service together.
"""

from __future__ import annotations

from functools import cached_property

from pressqa.settings import Settings


class Runtime:
    """Composition root helper: each part is built on first use and then shared."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def store(self):
        from core.store import make_store

        return make_store(self.settings)

    @cached_property
    def embedder(self):
        from core.embeddings import make_embedder

        return make_embedder(self.settings)

    @cached_property
    def lexical(self):
        from core.lexical import LexicalIndex

        return LexicalIndex(self.store)

    @cached_property
    def llm(self):
        from service.llm import make_llm

        return make_llm(self.settings)

    @cached_property
    def indexer(self):
        from ingest.pipeline import Indexer

        return Indexer(self.store, self.embedder, max_tokens=self.settings.chunk_max_tokens)

    def estimate_releases(self, paths) -> int:
        """Releases the files will give (feed items counted), without loading the embedder: a progress total."""
        from ingest.pipeline import Indexer

        return Indexer.estimate_releases(paths)

    @cached_property
    def chain(self):
        from service.chain import AnswerChain

        return AnswerChain(self)
