"""The chat page in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright) against the real app."""

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from pressqa.settings import REPO_ROOT, Settings
from service.api import create_app
from pressqa.runtime import Runtime
from support import free_port

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed: apt-get install -y chromium")

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
ANSWER_MS = 300_000  # the real SmolLM2 on two shared cores
SCREENSHOT = REPO_ROOT / "artifacts" / "page.png"
HOSTILE = b"""Title: Hostile <b>markup</b> <img src=x onerror="window.__xss=1">
Date: 2025-05-01

The Quillmark Council warned about markup in press releases today. It quoted <script>window.__xss=1</script> verbatim.

It also quoted <img src=x onerror="window.__xss=1"> as an example of a hostile image tag.
"""


def start(app, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    return server


def wait_ready(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = httpx.get(url + "/readyz").json()
            assert not status["error"], status
            if status["ready"] and not status["indexing"]["active"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("server not ready in time")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The same runtime behind two apps: one open, one that needs an API key."""
    root = tmp_path_factory.mktemp("page")
    (root / "corpus/seed").mkdir(parents=True)
    shutil.copy(SEED, root / "corpus/seed")
    settings = Settings(data=root / "data", corpus=root / "corpus")
    runtime = Runtime(settings)
    open_port, keyed_port = free_port(), free_port()
    running = [
        start(create_app(settings, runtime, index_bundled=True), open_port),
        start(create_app(settings.model_copy(update={"api_keys": "page-key"}), runtime), keyed_port),
    ]
    urls = {"open": f"http://127.0.0.1:{open_port}", "keyed": f"http://127.0.0.1:{keyed_port}"}
    wait_ready(urls["open"])
    wait_ready(urls["keyed"])
    yield urls
    for server in running:
        server.should_exit = True


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def test_streamed_answer_with_citation_opens_the_highlighted_sentence(servers, page):
    from playwright.sync_api import expect

    page.goto(servers["open"])
    expect(page.locator("#status")).to_contain_text("Ready", timeout=60_000)
    expect(page.locator("#release-list li")).to_have_count(1)
    # Record every intermediate text of the answer bubble, to see it arrive in pieces.
    page.evaluate(
        """() => {
            window.__partials = [];
            new MutationObserver(() => {
                const node = document.querySelector('.msg.assistant:last-of-type');
                if (node && node.classList.contains('pending')) window.__partials.push(node.textContent);
            }).observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true});
        }"""
    )
    page.fill("#question", TURKMENISTAN)
    page.press("#question", "Enter")
    answer = page.locator(".msg.assistant.done").last
    expect(answer).to_contain_text("Parahat Durdyev", timeout=ANSWER_MS)
    partials = [t for t in dict.fromkeys(page.evaluate("window.__partials")) if t]
    assert len(partials) > 2, partials
    assert not partials[0].endswith("Parahat Durdyev")

    chip = answer.locator('.cite-chip[title*="Parahat Durdyev"]').first
    chip.click()
    mark = page.locator("#viewer-text mark")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("Parahat Durdyev")
    expect(page.locator("#viewer-title")).to_contain_text("China")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert page.errors == []


def test_uploaded_hostile_release_shows_as_text(servers, page):
    from playwright.sync_api import expect

    page.goto(servers["open"])
    expect(page.locator("#status")).to_contain_text("Ready", timeout=60_000)
    page.set_input_files("#upload-files", files=[{"name": "hostile.txt", "mimeType": "text/plain", "buffer": HOSTILE}])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#upload-result")).to_contain_text("Added 1", timeout=120_000)
    entry = page.locator("#release-list button", has_text="Hostile")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text('<img src=x onerror="window.__xss=1">')
    entry.click()
    expect(page.locator("#viewer-title")).to_have_text('Hostile <b>markup</b> <img src=x onerror="window.__xss=1">')
    body = page.locator("#viewer-text")
    expect(body).to_contain_text("<script>window.__xss=1</script>")
    expect(body).to_contain_text('<img src=x onerror="window.__xss=1">')
    page.wait_for_timeout(500)  # give any injected handler the chance to run
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#viewer img, #viewer script, #viewer b, #release-list img").count() == 0
    assert page.errors == []


def test_page_asks_for_the_api_key_on_401(servers, page):
    from playwright.sync_api import expect

    page.goto(servers["keyed"])
    expect(page.locator("#key-overlay")).to_be_visible(timeout=30_000)
    page.fill("#key-input", "page-key")
    page.click("#key-form button")
    expect(page.locator("#key-overlay")).to_be_hidden()
    expect(page.locator("#release-list li").first).to_be_visible(timeout=30_000)
    assert page.evaluate("sessionStorage.getItem('pressqa.apiKey')") == "page-key"
