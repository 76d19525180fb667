"""Security as probed from outside, against real `pressqa serve` processes and a real headless Chromium.

Cross-site writes (Origin), DNS rebinding (Host), the API key checked before the body is read, no key in the
access log, the bearer scheme in OpenAPI, /readyz counts after an upload.
"""

import http.server
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from pressqa.settings import REPO_ROOT
from real_serve import start_serve, stop, wait_ready
from support import free_port

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
CHROMIUM = Path("/usr/bin/chromium")
KEY = "sec-test-key"
REBIND_HOST = "rebind.evil.example"
POISON = """Title: Poisoned release
Date: 2025-06-01
URL: https://example.org/poisoned

The Quillmark Council was dissolved by decree, a poisoned release claims.
"""


def releases(url: str) -> dict:
    return httpx.get(f"{url}/api/releases", params={"limit": 200}).json()


def titles(url: str) -> set[str]:
    return {r["title"] for r in releases(url)["items"]}


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("open")
    served = start_serve(root / "data", root / "serve.log")
    try:
        wait_ready(served)
        up = httpx.post(f"{served.url}/api/releases", files={"files": (SEED.name, SEED.read_bytes(), "text/plain")}, timeout=120)
        assert up.status_code == 200 and up.json()["added"] == 1, up.text
        yield served
    finally:
        stop(served)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("keyed")
    served = start_serve(root / "data", root / "serve.log", PRESSQA_API_KEYS=KEY)
    try:
        wait_ready(served)
        yield served
    finally:
        stop(served)


# --- cross-site writes and DNS rebinding, from plain HTTP -------------------------------------------------------

def test_a_write_from_another_origin_is_refused(open_server):
    url = open_server.url
    before = releases(url)
    evil = {"Origin": "https://evil.example"}
    up = httpx.post(f"{url}/api/releases", headers=evil, files={"files": ("poison.md", POISON.encode(), "text/markdown")})
    assert up.status_code == 403, up.text
    assert up.json()["error"]["type"] == "permission_error"
    seed_id = before["items"][0]["id"]
    assert httpx.delete(f"{url}/api/releases/{seed_id}", headers={"Origin": "null"}).status_code == 403
    assert httpx.post(f"{url}/api/releases", headers={"Sec-Fetch-Site": "cross-site"}, files={"files": ("poison.md", POISON.encode(), "text/markdown")}).status_code == 403
    assert releases(url) == before
    # The page itself (same origin) and clients that are not browsers (no Origin) still write.
    own = httpx.post(f"{url}/api/releases", headers={"Origin": url}, files={"files": (SEED.name, SEED.read_bytes(), "text/plain")}, timeout=120)
    assert own.status_code == 200 and own.json()["unchanged"] == 1, own.text


def test_only_the_configured_host_names_are_answered(open_server):
    url, port = open_server.url, open_server.port
    for host in (f"{REBIND_HOST}:{port}", REBIND_HOST, "127.0.0.2"):
        assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 400, host
        up = httpx.post(f"{url}/api/releases", headers={"Host": host}, files={"files": ("poison.md", POISON.encode(), "text/markdown")})
        assert up.status_code == 400, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200, host
    assert "Poisoned release" not in titles(url)


# --- the same attacks from a real browser ------------------------------------------------------------------------

ATTACK_PAGE = """<!doctype html><meta charset=utf-8><title>cute cats</title>
<script>
window.__results = [];
const poison = %(poison)s;
async function attack(target) {
  const form = new FormData();
  form.append("files", new Blob([poison], {type: "text/markdown"}), "poison.md");
  for (const mode of ["no-cors", "cors"]) {
    try {
      const r = await fetch(target + "/api/releases", {method: "POST", body: form, mode});
      window.__results.push(mode + " " + r.type + " " + r.status);
    } catch (e) { window.__results.push(mode + " error " + e); }
  }
  window.__done = true;
}
attack(%(target)s);
</script>"""


class AttackerSite:
    """Another origin on this machine: a plain http.server on its own port serving the attack page."""

    def __init__(self, target: str) -> None:
        page = (ATTACK_PAGE % {"poison": json.dumps(POISON), "target": json.dumps(target)}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; scripts/test.sh does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
                # The rebinding attacker's name, already re-pointed at this machine.
                f"--host-resolver-rules=MAP {REBIND_HOST} 127.0.0.1",
                # Chromium's own local-network checks would block the rebound page's fetches before pressqa sees
                # them; older and other browsers have none, and the test is of pressqa's Host check.
                "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
            ],
        )
        yield browser
        browser.close()


def test_a_page_from_another_port_cannot_upload(open_server, chromium):
    before = releases(open_server.url)
    site = AttackerSite(open_server.url)
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{site.port}/")
        page.wait_for_function("window.__done === true", timeout=60_000)
        results = page.evaluate("window.__results")
    finally:
        context.close()
        site.close()
    # no-cors: the browser sent the POST and hid the answer; cors: it refused to expose a response without CORS.
    assert results[0] == "no-cors opaque 0", results
    assert results[1].startswith("cors error"), results
    assert releases(open_server.url) == before, "the cross-site upload changed the index"
    assert "403" in open_server.log_text().split("poison")[0] or '"POST /api/releases HTTP/1.1" 403' in open_server.log_text()


def test_a_dns_rebound_page_cannot_upload(open_server, chromium):
    """The attacker's page was loaded from rebind.evil.example:PORT, whose name now resolves to 127.0.0.1."""
    before = releases(open_server.url)
    origin = f"http://{REBIND_HOST}:{open_server.port}"
    page_html = ATTACK_PAGE % {"poison": json.dumps(POISON), "target": json.dumps(origin)}
    context = chromium.new_context()
    try:
        page = context.new_page()
        # The page as the attacker served it before the rebinding; every later request goes to pressqa.
        page.route(f"{origin}/cats", lambda route: route.fulfill(status=200, content_type="text/html", body=page_html))
        page.goto(f"{origin}/cats")
        page.wait_for_function("window.__done === true", timeout=60_000)
        results = page.evaluate("window.__results")
        direct = page.goto(f"{origin}/")
        assert direct.status == 400
    finally:
        context.close()
    # Same origin for the browser, so it even shows the status: the Host check refused it.
    assert results == ["no-cors basic 400", "cors basic 400"], results
    assert releases(open_server.url) == before


# --- the API key, before the body ------------------------------------------------------------------------------

def test_the_key_is_checked_before_the_body_is_parsed(keyed_server):
    url = keyed_server.url
    bad = httpx.post(f"{url}/api/ask", content=b"{bad", headers={"Content-Type": "application/json"})
    assert bad.status_code == 401, bad.text
    assert bad.json()["error"]["type"] == "authentication_error"
    assert httpx.post(f"{url}/v1/chat/completions", content=b"[", headers={"Content-Type": "application/json"}).status_code == 401
    good = httpx.post(f"{url}/api/ask", content=b"{bad", headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    assert good.status_code == 422
    assert httpx.get(f"{url}/api/releases", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_an_unauthenticated_upload_is_refused_before_it_is_sent(keyed_server):
    """20 MiB announced, 64 KiB sent: the 401 must come without waiting for the rest."""
    announced = 20 * 1024 * 1024 - 1024
    head = (
        f"POST /api/releases HTTP/1.1\r\nHost: 127.0.0.1:{keyed_server.port}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", keyed_server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(head + b"--xyz\r\n" + b"x" * 65536)
        reply = sock.recv(4096).decode("latin-1")
        elapsed = time.monotonic() - started
    assert reply.startswith("HTTP/1.1 401"), reply[:200]
    assert elapsed < 5, elapsed


def test_a_key_in_the_query_string_never_reaches_the_log(keyed_server):
    secret = "leaky-query-secret-4711"
    assert httpx.get(f"{keyed_server.url}/api/releases", params={"api_key": secret, "limit": 5}).status_code == 401
    ok = httpx.get(f"{keyed_server.url}/api/releases", params={"token": secret, "limit": 5}, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200
    time.sleep(0.5)
    log = keyed_server.log_text()
    assert secret not in log
    assert "/api/releases?[redacted]" in log and "token=[redacted]" in log and "limit=5" in log


def test_openapi_declares_the_bearer_scheme(keyed_server):
    schema = httpx.get(f"{keyed_server.url}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer", "description": "One of PRESSQA_API_KEYS; needed only when the server has keys set."
    }
    assert {"apiKey": []} in schema["paths"]["/api/ask"]["post"]["security"]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_readyz_counts_follow_uploads(open_server):
    url = open_server.url
    before = httpx.get(f"{url}/readyz").json()["indexing"]
    text = "Title: Corvale Port opens a ferry line\nDate: 2025-07-07\n\nCorvale Port opened a ferry line to Ostrin on Monday.\n"
    up = httpx.post(f"{url}/api/releases", files={"files": ("corvale.txt", text.encode(), "text/plain")}, timeout=120)
    assert up.status_code == 200 and up.json()["added"] == 1
    after = httpx.get(f"{url}/readyz").json()["indexing"]
    assert after["releases"] == before["releases"] + 1
    assert after["chunks"] == before["chunks"] + up.json()["chunks"]
