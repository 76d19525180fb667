"""The loaded parts of pressqa (store, embedder, lexical and dense indexes, LLM, indexer, chain), built once from Settings.

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
    def dense(self):
        from core.dense_index import DenseIndex

        return DenseIndex(self.store)

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
    def reader(self):
        from service.reader import Reader
        from service.reader.model import ReaderParams
        from service.reader.pointer import load_pointer

        params = ReaderParams.load(self.settings.reader_params)
        pointer = load_pointer(self.settings.reader_params, self.settings.embedding_model) if params.needs_pointer else None
        return Reader(params, self.embedder.encode, encode_tokens=self.embedder.encode_tokens, pointer=pointer)

    @cached_property
    def chooser(self):
        """An OpenAI-compatible model choosing among the reader's candidates; none for the embedded default."""
        if self.settings.llm_backend != "openai":
            return None
        from service.choose import LlmChooser

        return LlmChooser(
            self.llm,
            candidates=self.settings.llm_choice_candidates,
            max_tokens=self.settings.llm_choice_max_tokens,
            json_mode=self.settings.llm_choice_json_mode,
        )

    def rewrite_follow_up(self, conversation: str, question: str) -> str:
        """The LLM's standalone form of a follow-up (condense keeps it only if it adds no name)."""
        if self.settings.llm_backend == "none":
            return ""
        from service.prompts import load_prompt

        messages = load_prompt("condense").format_messages(history=conversation, question=question)
        return str(self.llm.invoke(messages).content or "")

    @cached_property
    def retriever(self):
        from service.retrieval import HybridRetriever

        return HybridRetriever(
            store=self.store,
            embedder=self.embedder,
            lexical=self.lexical,
            dense=self.dense,
            dense_candidates=self.settings.dense_candidates,
            lexical_candidates=self.settings.lexical_candidates,
            k=self.settings.retrieve_k,
        )

    @cached_property
    def chain(self):
        from service.chain import AnswerChain

        return AnswerChain(
            store=self.store,
            embedder=self.embedder,
            retriever=self.retriever,
            reader=self.reader,
            chooser=self.chooser,
            rewrite=self.rewrite_follow_up,
        )

    @cached_property
    def answer_runnable(self):
        """The chain as a LangChain Runnable (invoke, stream, batch, callbacks); the routes answer through it."""
        from service.chain_runnable import AnswerRunnable

        return AnswerRunnable(self.chain)
