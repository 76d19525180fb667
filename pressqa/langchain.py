"""LangChain over a running pressqa, keeping the citations: a retriever whose Documents are the cited sentences.

    from pressqa.langchain import PressQARetriever
    retriever = PressQARetriever(base_url="http://127.0.0.1:8000", api_key=None)
    docs = retriever.invoke("Who represented Turkmenistan?")
    docs[0].page_content            # the cited sentence, exactly as in the release
    docs[0].metadata["release_id"]  # with title, date, url, start, end, n, short_answer, confidence

It calls `POST /api/ask` with httpx. An abstention gives no Documents (the answer's `related` releases are not
evidence). `since`, `until`, `source` and `history` are passed through. To run the answer chain itself inside a
LangChain app, in-process, use `service.chain_runnable.AnswerRunnable` (or `Runtime(settings).answer_runnable`).
"""

from __future__ import annotations

from typing import Any

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class PressQARetriever(BaseRetriever):
    """The sentences a pressqa server cites for a question, as Documents with their release and span."""

    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    timeout: float = 120.0
    since: str | None = None
    until: str | None = None
    source: str | None = None
    history: list[dict] | None = None

    def _request(self, query: str) -> tuple[str, dict, dict]:
        body: dict[str, Any] = {"question": query}
        for key in ("since", "until", "source", "history"):
            if getattr(self, key):
                body[key] = getattr(self, key)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return self.base_url.rstrip("/") + "/api/ask", body, headers

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        url, body, headers = self._request(query)
        response = httpx.post(url, json=body, headers=headers, timeout=self.timeout)
        response.raise_for_status()
        return documents_from_answer(response.json())

    async def _aget_relevant_documents(self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun) -> list[Document]:
        url, body, headers = self._request(query)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.post(url, json=body, headers=headers)
        response.raise_for_status()
        return documents_from_answer(response.json())


def documents_from_answer(answer: dict) -> list[Document]:
    """One Document per citation of a `/api/ask` answer, in [n] order; none when it abstained."""
    if answer.get("abstained"):
        return []
    shared = {
        "short_answer": answer.get("short_answer"),
        "confidence": answer.get("confidence"),
        "answer": answer.get("answer"),
        "standalone_question": answer.get("standalone_question"),
    }
    docs = []
    for c in answer.get("citations") or []:
        metadata = {
            "release_id": c.get("release_id"),
            "title": c.get("title"),
            "date": c.get("date"),
            "url": c.get("url"),
            "start": c.get("start"),
            "end": c.get("end"),
            "n": c.get("n"),
            **shared,
        }
        docs.append(Document(page_content=c.get("quote", ""), metadata=metadata, id=f"{c.get('release_id')}#{c.get('start')}-{c.get('end')}"))
    return docs
