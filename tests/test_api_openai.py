"""The official openai SDK and LangChain's ChatOpenAI against the real app served by uvicorn on 127.0.0.1."""

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from pressqa.settings import REPO_ROOT, Settings
from service.api import create_app
from support import free_port

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
WHITEHOUSE = REPO_ROOT / "corpus/whitehouse/statements-releases/2024-10"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
FOLLOW_UP = "And Kyrgyzstan?"
TIMEOUT_S = 300  # the real SmolLM2 on two shared cores


def tiny_corpus(root: Path) -> Path:
    (root / "seed").mkdir(parents=True)
    shutil.copy(SEED, root / "seed")
    (root / "whitehouse").mkdir()
    for path in sorted(WHITEHOUSE.glob("*.md"))[:2]:
        shutil.copy(path, root / "whitehouse")
    return root


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("openai")
    settings = Settings(data=root / "data", corpus=tiny_corpus(root / "corpus"), port=free_port())
    server = uvicorn.Server(uvicorn.Config(create_app(settings, index_bundled=True), host="127.0.0.1", port=settings.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.port}"
    deadline = time.monotonic() + 600
    while True:
        try:
            status = httpx.get(url + "/readyz").json()
            assert not status["error"], status
            if status["ready"] and not status["indexing"]["active"]:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server not ready in time"
        time.sleep(0.5)
    yield url
    server.should_exit = True
    thread.join(30)


@pytest.fixture
def client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=base_url + "/v1", api_key="not-needed", timeout=TIMEOUT_S, max_retries=0)


def extra(obj, name):
    """An extra field the SDK kept on its pydantic object."""
    return (getattr(obj, "model_extra", None) or {}).get(name)


def test_models(client):
    assert [m.id for m in client.models.list()] == ["pressqa"]


def test_openai_sdk_plain_with_follow_up(client):
    first = client.chat.completions.create(model="pressqa", messages=[{"role": "user", "content": TURKMENISTAN}])
    message = first.choices[0].message
    assert "Parahat Durdyev" in message.content
    assert "[1]" in message.content
    citations = extra(message, "citations")
    assert citations and any("Parahat Durdyev" in c["quote"] for c in citations)
    assert first.usage.completion_tokens > 0 and first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens
    assert first.choices[0].finish_reason == "stop"

    history = [{"role": "user", "content": TURKMENISTAN}, {"role": "assistant", "content": message.content}]
    second = client.chat.completions.create(model="pressqa", messages=[*history, {"role": "user", "content": FOLLOW_UP}])
    assert "Jeenbek Kulubaev" in second.choices[0].message.content
    assert any("Jeenbek Kulubaev" in c["quote"] for c in extra(second.choices[0].message, "citations"))


def test_openai_sdk_streamed(client):
    stream = client.chat.completions.create(
        model="pressqa",
        messages=[{"role": "user", "content": TURKMENISTAN}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Parahat Durdyev" in text
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1  # it arrived in pieces
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason == "stop"]
    assert len(final) == 1
    citations = extra(final[0].choices[0], "citations")
    assert citations == extra(final[0].choices[0].delta, "citations")
    assert any("Parahat Durdyev" in c["quote"] for c in citations)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_raw_stream_ends_with_done(base_url):
    body = {"messages": [{"role": "user", "content": TURKMENISTAN}], "stream": True}
    with httpx.stream("POST", base_url + "/v1/chat/completions", json=body, timeout=TIMEOUT_S) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)


def test_langchain_chat_openai(base_url):
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(base_url=base_url + "/v1", api_key="not-needed", model="pressqa", timeout=TIMEOUT_S, max_retries=0)
    first = chat.invoke([HumanMessage(TURKMENISTAN)])
    assert "Parahat Durdyev" in first.content
    second = chat.invoke([HumanMessage(TURKMENISTAN), AIMessage(first.content), HumanMessage(FOLLOW_UP)])
    assert "Jeenbek Kulubaev" in second.content
    streamed = "".join(chunk.content for chunk in chat.stream([HumanMessage(TURKMENISTAN)]))
    assert "Parahat Durdyev" in streamed


def test_healthz_stays_fast_while_an_answer_runs(base_url):
    results = {}

    def ask():  # several answers in a row: one takes only a fraction of a second now
        for _ in range(8):
            results["status"] = httpx.post(base_url + "/api/ask", json={"question": TURKMENISTAN}, timeout=TIMEOUT_S).status_code

    worker = threading.Thread(target=ask)
    worker.start()
    time.sleep(0.05)
    latencies = []
    while worker.is_alive() and len(latencies) < 20:
        started = time.perf_counter()
        assert httpx.get(base_url + "/healthz", timeout=5).status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    worker.join(TIMEOUT_S)
    assert results["status"] == 200
    assert latencies and max(latencies) < 1.0, latencies
