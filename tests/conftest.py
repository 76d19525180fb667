"""Shared fixtures: the real bundled MiniLM (loaded once) and a real on-disk Chroma store per test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def embedder():
    from core.embeddings import Embedder

    return Embedder()


@pytest.fixture
def store(tmp_path):
    from core.store import make_store
    from pressqa.settings import Settings

    return make_store(Settings(data=tmp_path / "data", chroma_url=None))


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on a free local port for the server-mode tests; yields its URL, stopped at the end."""
    import shutil
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from support import free_port, stop_process

    exe = Path(sys.executable).with_name("chroma")
    chroma = str(exe) if exe.exists() else shutil.which("chroma")
    assert chroma, "the `chroma` CLI (installed with the chromadb package) is missing"
    port = free_port()
    root = tmp_path_factory.mktemp("chroma-server")
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}: {(root / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer its heartbeat in 60 s on {url}")
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="session")
def bundled_runtime():
    """The real chain over the whole bundled corpus, indexed once into ./data (the eval reuses that index)."""
    from pressqa.settings import REPO_ROOT, Settings
    from pressqa.runtime import Runtime

    data = Path(os.environ.get("PRESSQA_TEST_INDEX", REPO_ROOT / "data"))
    runtime = Runtime(Settings(data=data, chroma_url=None, llm_backend="local"))
    summary = runtime.indexer.ingest([runtime.settings.corpus])
    assert not summary.errors, summary.errors
    return runtime
