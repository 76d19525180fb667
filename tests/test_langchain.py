"""Issue 14 item 6 with LangChain's own interfaces: the retriever against a real `pressqa serve`, the answer chain as
a Runnable in-process (invoke, stream, batch, callbacks), and the routes answering through it."""

from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

from real_serve import start_serve, stop, wait_ready
from support import UPLOAD_TEXT, UPLOAD_URL
from test_first_run import ANSWER, STATUSES, FakeChain, fake_runtime

from service.chain_runnable import AnswerRunnable
from service.records import Answer, ChainStatus


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.events.append(("start", inputs, kwargs.get("name")))

    def on_chain_end(self, outputs, **kwargs):
        self.events.append(("end", outputs))

    def on_chain_error(self, error, **kwargs):
        self.events.append(("error", error))


class RecordingChain(FakeChain):
    def __init__(self) -> None:
        super().__init__(with_statuses=True)
        self.calls: list[tuple] = []

    def ask(self, question, **kwargs):
        self.calls.append((question, kwargs))
        return ANSWER


def test_answer_runnable_invoke_batch_and_callbacks():
    chain = RecordingChain()
    runnable = AnswerRunnable(chain)
    assert isinstance(runnable, Runnable)
    recorder = Recorder()
    answer = runnable.invoke({"question": "Who?", "history": [{"role": "user", "content": "Hi"}], "source": "MFA"}, config={"callbacks": [recorder]})
    assert answer is ANSWER
    question, kwargs = chain.calls[0]
    assert question == "Who?" and kwargs["source"] == "MFA" and kwargs["history"][0].content == "Hi"
    assert [e[0] for e in recorder.events] == ["start", "end"]
    assert recorder.events[0][2] == "pressqa_answer" and recorder.events[1][1] is ANSWER
    assert runnable.batch(["a", "b", {"question": "c"}]) == [ANSWER, ANSWER, ANSWER]
    assert [c[0] for c in chain.calls[1:]] == ["a", "b", "c"]
    # Composes with other runnables.
    assert (runnable | (lambda a: a.short_answer or a.answer)).invoke("Who?") == (ANSWER.short_answer or ANSWER.answer)


def test_answer_runnable_stream_yields_the_chain_events_and_reports_one_run():
    recorder = Recorder()
    events = list(AnswerRunnable(FakeChain(with_statuses=True)).stream("Who?", config={"callbacks": [recorder]}))
    assert events[: len(STATUSES)] == STATUSES and all(isinstance(e, ChainStatus) for e in events[: len(STATUSES)])
    assert isinstance(events[-1], Answer) and "".join(e for e in events if isinstance(e, str)) == "Parahat Durdyev represented Turkmenistan [1]."
    assert [e[0] for e in recorder.events] == ["start", "end"] and recorder.events[1][1] is ANSWER


def test_answer_runnable_reports_errors():
    class Failing(FakeChain):
        def stream(self, *args, **kwargs):
            yield STATUSES[0]
            raise RuntimeError("down")

    recorder = Recorder()
    with pytest.raises(RuntimeError):
        list(AnswerRunnable(Failing(False)).stream("Who?", config={"callbacks": [recorder]}))
    assert [e[0] for e in recorder.events] == ["start", "error"]


def test_the_routes_answer_through_the_runtime_runnable(tmp_path):
    from fastapi.testclient import TestClient

    from pressqa.settings import Settings
    from service.api.app import create_app

    recorder = Recorder()

    class Traced(AnswerRunnable):
        def invoke(self, input, config=None, **kwargs):
            return super().invoke(input, {"callbacks": [recorder]})

        def stream(self, input, config=None, **kwargs):
            return super().stream(input, {"callbacks": [recorder]})

    runtime = fake_runtime(FakeChain(with_statuses=True))
    runtime.answer_runnable = Traced(runtime.chain)
    app = create_app(Settings(data=tmp_path / "data", llm_backend="none", api_keys=""), runtime)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        for _ in range(200):
            if client.get("/readyz").status_code == 200:
                break
            import time

            time.sleep(0.05)
        assert client.post("/api/ask", json={"question": "Who?"}).status_code == 200
        assert client.post("/api/ask/stream", json={"question": "Who?"}).status_code == 200
        chat = {"model": "pressqa", "messages": [{"role": "user", "content": "Who?"}]}
        assert client.post("/v1/chat/completions", json=chat).status_code == 200
        assert client.post("/v1/chat/completions", json={**chat, "stream": True}).status_code == 200
    assert [e[0] for e in recorder.events] == ["start", "end"] * 4


def test_retriever_returns_the_cited_sentences_real_serve(tmp_path):
    from pressqa.langchain import PressQARetriever

    served = start_serve(tmp_path / "data", tmp_path / "serve.log")
    try:
        wait_ready(served)
        up = httpx.post(f"{served.url}/api/releases", files={"files": ("zorblax.txt", UPLOAD_TEXT.encode(), "text/plain")}, timeout=180)
        assert up.status_code == 200, up.text
        retriever = PressQARetriever(base_url=served.url)
        assert isinstance(retriever, BaseRetriever)
        docs = retriever.invoke("Who did the Zorblax Institute appoint as its new director?")
        assert docs and all(isinstance(d, Document) for d in docs)
        first = docs[0]
        assert "Quastenberg" in first.page_content
        meta = first.metadata
        assert meta["release_id"] == UPLOAD_URL and meta["url"] == UPLOAD_URL and meta["n"] == 1
        assert meta["title"] == "Zorblax Institute names a new director" and meta["date"] == "2025-03-03"
        text = httpx.get(f"{served.url}/api/releases/{UPLOAD_URL}").json()["text"]
        assert text[meta["start"] : meta["end"]] == first.page_content
        assert "Quastenberg" in (meta["short_answer"] or "") and 0 <= meta["confidence"] <= 1
        assert retriever.batch(["Who did the Zorblax Institute appoint as its new director?"])[0][0].page_content == first.page_content
    finally:
        stop(served)
