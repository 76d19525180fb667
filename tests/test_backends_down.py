"""Backends that fail: a dead or silent LLM server under `pressqa ask`, a Chroma server that stops and comes back.

The API's answers to a failing LLM server (down, hanging, garbage) are in test_api_backends.py.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pressqa.settings import REPO_ROOT, Settings
from support import free_port, stop_process

# TrustedHostMiddleware answers only the configured hosts; TestClient's default 'testserver' is not one.
LOCAL = "http://127.0.0.1"

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
LLM_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def seed_data(tmp_path_factory) -> Path:
    from pressqa.runtime import Runtime

    data = tmp_path_factory.mktemp("cli") / "data"
    runtime = Runtime(Settings(data=data, chroma_url=None, llm_backend="none"))
    assert runtime.indexer.ingest([SEED]).added == 1
    return data


@pytest.mark.parametrize("mode", ["down", "silent"])
def test_cli_ask_with_a_failing_llm_server_answers_from_the_reader(seed_data, mode):
    """The model only chooses among the reader's candidates: when it is down or silent, the reader's answer stands."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    if mode == "silent":
        silent.listen(8)  # accepts connections, never answers
    else:
        silent.close()  # nothing listens: connection refused
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PRESSQA_LLM_BACKEND": "openai",
        "PRESSQA_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "PRESSQA_LLM_TIMEOUT_S": str(LLM_TIMEOUT_S),
    }
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pressqa.cli", "ask", TURKMENISTAN, "--data", str(seed_data)],
            env=env, capture_output=True, text=True, timeout=120,
        )
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "Parahat Durdyev" in done.stdout
    assert "Traceback" not in done.stderr
    # Start-up (torch, MiniLM) plus at most the timeout and the client's retries.
    assert elapsed < 60 + 3 * LLM_TIMEOUT_S, elapsed


# --- Chroma server down and back --------------------------------------------------------------------------------


class ChromaServer:
    """`chroma run` on a fixed port and path that the test can stop and start again."""

    def __init__(self, root: Path) -> None:
        exe = Path(sys.executable).with_name("chroma")
        self.exe = str(exe) if exe.exists() else shutil.which("chroma")
        assert self.exe, "the `chroma` CLI (installed with the chromadb package) is missing"
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [self.exe, "run", "--path", str(self.root / "db"), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, (self.root / "server.log").read_text()[-2000:]
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chroma run did not answer its heartbeat in 60 s"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_chroma_server_down_gives_503_and_recovers_without_restart(chroma, tmp_path):
    from service.api import create_app

    settings = Settings(data=tmp_path / "data", chroma_url=chroma.url, llm_backend="none", collection_prefix="down")
    with TestClient(create_app(settings), base_url=LOCAL, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 300
        while not client.get("/readyz").json()["ready"]:
            assert time.monotonic() < deadline, client.get("/readyz").json()
            time.sleep(0.3)
        runtime = client.app.state.runtime
        assert runtime.indexer.ingest([SEED]).added == 1
        assert "Parahat Durdyev" in client.post("/api/ask", json={"question": TURKMENISTAN}).json()["answer"]

        chroma.stop()
        started = time.monotonic()
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "store unreachable" in ready.json()["error"], ready.text
        for method, path, body in [
            ("POST", "/api/ask", {"question": TURKMENISTAN}),
            ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": TURKMENISTAN}]}),
            ("GET", "/api/releases", None),
            ("GET", "/api/releases/nope", None),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code == 503, (path, response.status_code, response.text)
            assert response.json()["error"]["type"] == "service_unavailable" and "Traceback" not in response.text
        assert time.monotonic() - started < 30, "a down store must fail fast, not hang"
        assert client.get("/healthz").status_code == 200

        chroma.start()  # same port, same path: the app must pick it up by itself
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").text
            time.sleep(0.5)
        answer = client.post("/api/ask", json={"question": TURKMENISTAN})
        assert answer.status_code == 200 and "Parahat Durdyev" in answer.json()["answer"], answer.text
        assert client.get("/api/releases").json()["total"] == 1
