"""The chat page in headless Chromium against a fake chain: the bubble shows what the chain is doing, and the
page asks for no resource that answers 404. Seconds, not minutes: no models are loaded."""

import threading
import time
from pathlib import Path

import pytest
import uvicorn

from pressqa.settings import Settings
from service.api import create_app
from support import free_port
from test_first_run import FakeChain, fake_runtime

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed: apt-get install -y chromium")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    settings = Settings(data=tmp_path_factory.mktemp("page-first-run") / "data", llm_backend="none", api_keys="")
    app = create_app(settings, fake_runtime(FakeChain(with_statuses=True, delay=0.8)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not app.state.startup.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True


def test_the_bubble_shows_the_chains_status_then_the_answer_and_nothing_404s(url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        failed, console_errors = [], []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        expect(page.locator("#status")).to_contain_text("Ready", timeout=30_000)
        page.evaluate(
            """() => {
                window.__texts = [];
                new MutationObserver(() => {
                    const node = document.querySelector('.msg.assistant:last-of-type');
                    if (node) window.__texts.push(node.textContent);
                }).observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true});
            }"""
        )
        page.fill("#question", "Who represented Turkmenistan?")
        page.press("#question", "Enter")
        expect(page.locator(".msg.assistant.working")).to_contain_text("searching…", timeout=10_000)
        answer = page.locator(".msg.assistant.done").last
        expect(answer).to_contain_text("Parahat Durdyev represented Turkmenistan", timeout=20_000)
        texts = list(dict.fromkeys(page.evaluate("window.__texts")))
        assert texts.index("searching…") < texts.index("reading 5 releases…") < len(texts) - 1, texts
        assert "working" not in (answer.get_attribute("class") or "")
        # The short answer in bold, then its sentence with the answer's span highlighted.
        assert answer.locator(".short-answer strong").inner_text() == "Parahat Durdyev"
        assert answer.locator(".answer-quote mark").inner_text() == "Parahat Durdyev"
        page.wait_for_timeout(300)
        browser.close()
    assert failed == [], failed  # e.g. /favicon.ico
    assert console_errors == [], console_errors
