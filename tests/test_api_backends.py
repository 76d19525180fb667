"""A failing LLM server costs at most its timeout: the reader's own answer comes back, never a hang or a traceback.

With PRESSQA_LLM_BACKEND=openai the model only chooses among the reader's candidates (service/choose.py), so a
dead, silent or garbage-speaking server falls back to the reader's answer.
"""

import shutil
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from pressqa.settings import REPO_ROOT, Settings
from service.api import create_app

# TrustedHostMiddleware answers only the configured hosts; TestClient's default 'testserver' is not one.
LOCAL = "http://127.0.0.1"

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
LLM_TIMEOUT_S = 2.0


class BrokenLLMServer:
    """A TCP listener that plays an OpenAI-compatible server gone wrong: `down`, `hang` or `garbage`."""

    def __init__(self) -> None:
        self.mode = "down"
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "down":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()  # reset: as if the server died
            elif self.mode == "hang":
                self.held.append(conn)  # read nothing, answer nothing
            else:
                conn.recv(65536)
                body = b"<html>502 Bad Gateway? no: this is not JSON</html>"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def broken():
    server = BrokenLLMServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory, broken):
    root = tmp_path_factory.mktemp("backends")
    (root / "corpus/seed").mkdir(parents=True)
    shutil.copy(SEED, root / "corpus/seed")
    settings = Settings(
        data=root / "data",
        corpus=root / "corpus",
        llm_backend="openai",
        llm_base_url=f"http://127.0.0.1:{broken.port}/v1",
        llm_timeout_s=LLM_TIMEOUT_S,
    )
    with TestClient(create_app(settings, index_bundled=True), base_url=LOCAL, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 600
        while not (s := client.get("/readyz").json())["ready"] or s["indexing"]["active"]:
            assert not s["error"] and time.monotonic() < deadline, s
            time.sleep(0.5)
        yield client


@pytest.mark.parametrize("mode", ["down", "garbage", "hang"])
@pytest.mark.parametrize("route", ["/api/ask", "/v1/chat/completions", "/v1/chat/completions (stream)"])
def test_llm_failure_falls_back_to_the_readers_answer(client, broken, mode, route):
    broken.mode = mode
    if route == "/api/ask":
        request = ("/api/ask", {"question": TURKMENISTAN})
    else:
        request = ("/v1/chat/completions", {"messages": [{"role": "user", "content": TURKMENISTAN}], "stream": "stream" in route})
    started = time.monotonic()
    response = client.post(request[0], json=request[1])
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert "Parahat Durdyev" in response.text and "Traceback" not in response.text
    assert elapsed < LLM_TIMEOUT_S * 3 + 10
    assert client.get("/healthz").status_code == 200
