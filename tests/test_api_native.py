"""The native API through TestClient on the real app, real chain and a real on-disk index of three releases."""

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pressqa.settings import REPO_ROOT, Settings
from service.api import create_app
from pressqa.runtime import Runtime
from support import UPLOAD_TEXT, UPLOAD_URL

# TrustedHostMiddleware answers only the configured hosts; TestClient's default 'testserver' is not one.
LOCAL = "http://127.0.0.1"

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
WHITEHOUSE = REPO_ROOT / "corpus/whitehouse/statements-releases/2024-10"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"



def tiny_corpus(root: Path) -> Path:
    (root / "seed").mkdir(parents=True)
    shutil.copy(SEED, root / "seed")
    (root / "whitehouse").mkdir()
    for path in sorted(WHITEHOUSE.glob("*.md"))[:2]:
        shutil.copy(path, root / "whitehouse")
    return root


def wait_ready(client: TestClient, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get("/readyz").json()
        assert not status["error"], status
        if status["ready"] and not status["indexing"]["active"]:
            return status
        time.sleep(0.5)
    raise AssertionError("not ready in time")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One real runtime (models, index) shared by every app variant of this module."""
    root = tmp_path_factory.mktemp("native")
    settings = Settings(data=root / "data", corpus=tiny_corpus(root / "corpus"))
    runtime = Runtime(settings)
    with TestClient(create_app(settings, runtime, index_bundled=True), base_url=LOCAL) as client:
        status = wait_ready(client)
        yield settings, runtime, client, status


@pytest.fixture
def client(served):
    return served[2]


def variant(served, **overrides) -> TestClient:
    """The same runtime behind an app built from other settings (keys, limits)."""
    settings, runtime, _, _ = served
    app = create_app(settings.model_copy(update=overrides), runtime)
    return TestClient(app, base_url=LOCAL)


def test_readyz_reports_the_bundled_index(served):
    status = served[3]
    assert status["ready"] is True
    assert status["indexing"] == {**status["indexing"], "done": 3, "total": 3, "releases": 3, "errors": 0}


def test_healthz_is_open_and_fast(client):
    started = time.perf_counter()
    assert client.get("/healthz").json() == {"alive": True}
    assert time.perf_counter() - started < 1


def test_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200
    assert "access-control-allow-origin" not in client.get("/api/releases", headers={"Origin": "https://evil.example"}).headers


def test_releases_are_paged_and_filtered_by_date(client):
    first = client.get("/api/releases", params={"limit": 1}).json()
    assert first["total"] == 3 and first["has_more"] is True and len(first["items"]) == 1
    # Newest first: the seed release (2025-04-26) is newer than the two October 2024 readouts.
    assert first["items"][0]["published"] == "2025-04-26"
    rest = client.get("/api/releases", params={"offset": 1, "limit": 10}).json()
    assert len(rest["items"]) == 2 and rest["has_more"] is False
    only_2025 = client.get("/api/releases", params={"since": "2025-01-01"}).json()
    assert [r["published"] for r in only_2025["items"]] == ["2025-04-26"]
    assert client.get("/api/releases", params={"since": "2025-01-01", "until": "2024-01-01"}).status_code == 422
    bad = client.get("/api/releases", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["type"] == "invalid_request_error"


def test_release_ids_with_slashes_work_raw_and_encoded(client):
    items = client.get("/api/releases").json()["items"]
    url_id = next(r["id"] for r in items if r["id"].startswith("https://"))
    raw = client.get(f"/api/releases/{url_id}")
    assert raw.status_code == 200 and raw.json()["id"] == url_id and raw.json()["text"]
    from urllib.parse import quote

    encoded = client.get("/api/releases/" + quote(url_id, safe=""))
    assert encoded.status_code == 200 and encoded.json()["id"] == url_id


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/pressqa", "nope"])
def test_unknown_and_traversal_ids_are_plain_404s(client, bad_id):
    for response in (client.get(f"/api/releases/{bad_id}"), client.delete(f"/api/releases/{bad_id}")):
        # Clients may normalize "../" away before sending: either way a plain JSON 404, nothing read.
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"


def test_auth_on_every_api_route_but_not_the_page_or_probes(served):
    with variant(served, api_keys="first-key, second-key") as keyed:
        for method, path in [("GET", "/api/releases"), ("GET", "/v1/models"), ("POST", "/api/ask"), ("POST", "/v1/chat/completions")]:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic second-key"}):
                response = keyed.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (path, headers)
                assert response.json()["error"]["type"] == "authentication_error"
                assert response.headers["www-authenticate"] == "Bearer"
        good = {"Authorization": "Bearer second-key"}
        assert keyed.get("/api/releases", headers=good).status_code == 200
        assert keyed.get("/v1/models", headers=good).json()["data"][0]["id"] == "pressqa"
        assert keyed.get("/").status_code == 200
        assert keyed.get("/healthz").status_code == 200
    # No keys configured: open.
    with variant(served) as open_app:
        assert open_app.get("/api/releases").status_code == 200


def test_body_limits_give_413_json(served):
    with variant(served, max_request_bytes=2_000, max_upload_bytes=10_000) as small:
        big_question = small.post("/api/ask", json={"question": "x" * 3_000})
        assert big_question.status_code == 413
        assert big_question.json()["error"]["type"] == "request_too_large"

        def chunked():  # no Content-Length: the limit holds while the body streams in
            for _ in range(10):
                yield b'{"question": "' + b"y" * 500

        assert small.post("/api/ask", content=chunked(), headers={"Content-Type": "application/json"}).status_code == 413
        big_upload = small.post("/api/releases", files={"files": ("big.txt", b"word " * 4_000, "text/plain")})
        assert big_upload.status_code == 413
        # The upload limit is the larger one: 5 kB passes the 2 kB request limit on the upload route.
        assert small.post("/api/releases", files={"files": ("small.json", b"{", "application/json")}).status_code != 413


def test_validation_errors_are_422_json_without_traceback(client):
    for body in ({}, {"question": ""}, {"question": "q", "since": "not a date"}, {"question": "q", "history": [{"role": "x"}]}):
        response = client.post("/api/ask", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["message"].startswith("Invalid request")
        assert "Traceback" not in response.text
    garbage = client.post("/api/ask", content=b"\xff\xfe not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code in (400, 422) and garbage.json()["error"]["message"]
    last_not_user = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert last_not_user.status_code == 400 and "user" in last_not_user.json()["error"]["message"]


def test_bad_uploads_are_refused_with_a_clear_reason(client):
    exe = client.post("/api/releases", files={"files": ("tool.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 415
    assert "tool.exe" in exe.json()["error"]["message"] and ".txt" in exe.json()["error"]["message"]
    broken = client.post("/api/releases", files={"files": ("feed.rss", b"<rss><channel><item><title>cut", "application/rss+xml")})
    assert broken.status_code in (400, 415), broken.text
    assert broken.json()["error"]["message"].startswith("feed.rss")
    assert client.post("/api/releases").status_code == 422
    assert client.get("/api/releases").json()["total"] == 3


def test_upload_then_ask_then_delete(served, client):
    settings = served[0]
    # A hostile name: it only labels the release and never becomes a path.
    uploaded = client.post("/api/releases", files={"files": ("../../../../tmp/evil/../zorblax.txt", UPLOAD_TEXT.encode(), "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["added"] == 1 and uploaded.json()["chunks"] >= 1
    assert not Path("/tmp/evil").exists()
    assert not (settings.data.parent / "zorblax.txt").exists()

    release = client.get(f"/api/releases/{UPLOAD_URL}").json()
    assert release["origin"] == "zorblax.txt"
    assert "Mirela Quastenberg" in release["text"]
    again = client.post("/api/releases", files={"files": ("zorblax.txt", UPLOAD_TEXT.encode(), "text/plain")}).json()
    assert again["unchanged"] == 1 and again["added"] == 0

    answer = client.post("/api/ask", json={"question": "Who did the Zorblax Institute appoint as its new director?"}).json()
    assert "Quastenberg" in answer["answer"], answer
    assert any(c["release_id"] == UPLOAD_URL for c in answer["citations"])
    for c in answer["citations"]:
        text = client.get(f"/api/releases/{c['release_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]

    assert client.delete(f"/api/releases/{UPLOAD_URL}").json() == {"deleted": UPLOAD_URL}
    assert client.get(f"/api/releases/{UPLOAD_URL}").status_code == 404
    assert client.delete(f"/api/releases/{UPLOAD_URL}").status_code == 404
    assert client.get("/api/releases").json()["total"] == 3
    after = client.post("/api/ask", json={"question": "Who did the Zorblax Institute appoint as its new director?"}).json()
    assert all(c["release_id"] != UPLOAD_URL for c in after["citations"])
    assert "Quastenberg" not in after["answer"]


def test_native_ask_cites_the_exact_sentence(client):
    answer = client.post("/api/ask", json={"question": TURKMENISTAN}).json()
    assert "Parahat Durdyev" in answer["answer"], answer
    assert answer["abstained"] is False
    assert any("Parahat Durdyev" in c["quote"] for c in answer["citations"])
