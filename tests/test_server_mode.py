"""pressqa on a real Chroma server (`chroma run`): the store tests again, retrieval, and two processes on one store."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

import test_pipeline
import test_store
from core.dense_index import DenseIndex
from core.lexical import LexicalIndex
from core.store import make_store
from ingest.pipeline import Indexer
from pressqa.runtime import Runtime
from pressqa.settings import REPO_ROOT, Settings
from service.retrieval import HybridRetriever
from support import UPLOAD_TEXT, UPLOAD_URL, free_port, stop_process

CORPUS = REPO_ROOT / "corpus"
SEED = CORPUS / "seed/china-central-asia-foreign-ministers-meeting.txt"
WHITEHOUSE = [
    CORPUS / "whitehouse/statements-releases/2021-01/2021-01-26-readout-of-president-joseph-r-biden-jr-call-with-president-vladimir-putin-of-russia.md",
    CORPUS / "whitehouse/statements-releases/2022-03/2022-03-30-readout-of-president-bidens-call-with-president-zelenskyy-of-ukraine-8.md",
    CORPUS / "whitehouse/statements-releases/2021-08/2021-08-02-readout-of-president-joseph-r-biden-jr-call-with-prime-minister-justin-trudeau-of-canada-2.md",
]
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
ZELENSKYY_URL = "https://bidenwhitehouse.archives.gov/briefing-room/statements-releases/2022/03/30/readout-of-president-bidens-call-with-president-zelenskyy-of-ukraine-8/"

ZORBLAX = "Who did the Zorblax Institute appoint as its new director?"


def server_settings(url: str, data: Path, prefix: str | None = None, **kw) -> Settings:
    """Each test gets its own collections on the shared server, so counts start at zero."""
    return Settings(data=data, chroma_url=url, collection_prefix=prefix or f"t{uuid.uuid4().hex[:12]}", **kw)


# --- the store tests of test_store.py / test_pipeline.py, run again against the server ------------------------

@pytest.fixture
def store(chroma_server, tmp_path):
    """Overrides conftest's embedded store for this module: the same tests, HttpClient underneath."""
    return make_store(server_settings(chroma_server, tmp_path / "data"))


folder = test_pipeline.folder
for _module in (test_store, test_pipeline):
    for _name, _fn in vars(_module).items():
        if _name.startswith("test_") and callable(_fn) and "store" in _fn.__code__.co_varnames[: _fn.__code__.co_argcount]:
            globals()[f"{_name}__server"] = _fn


def test_make_store_uses_the_server(chroma_server, tmp_path):
    import chromadb

    settings = server_settings(chroma_server, tmp_path / "data")
    store = make_store(settings)
    assert not (tmp_path / "data" / "chroma").exists()  # nothing on local disk
    port = int(chroma_server.rsplit(":", 1)[1])
    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=port).list_collections()}
    assert {f"{settings.collection_prefix}_chunks", f"{settings.collection_prefix}_releases"} <= names
    assert store.count_chunks() == 0


# --- ingest and retrieval on both backends ---------------------------------------------------------------------

@pytest.fixture(params=["embedded", "server"])
def backend_settings(request, tmp_path):
    if request.param == "server":
        return server_settings(request.getfixturevalue("chroma_server"), tmp_path / "data", llm_backend="none")
    return Settings(data=tmp_path / "data", chroma_url=None, llm_backend="none")


def test_ingest_search_reingest_delete(backend_settings, embedder):
    store = make_store(backend_settings)
    indexer = Indexer(store, embedder)
    first = indexer.ingest([SEED, *WHITEHOUSE])
    assert (first.added, first.updated, first.errors) == (4, 0, [])
    assert store.count_releases() == 4 and store.count_chunks() == first.chunks

    lexical = LexicalIndex(store)
    dense = DenseIndex(store)
    retriever = HybridRetriever(store=store, embedder=embedder, lexical=lexical, dense=dense, k=8)
    # The dense copy reads the stored vectors back from the server.
    (best_id, _), *_ = dense.search(embedder.encode_query(TURKMENISTAN), 3)
    (best,) = store.get_chunks([best_id])
    assert best.origin == str(SEED)
    assert lexical.search("Parahat Durdyev", 3)[0][0].startswith(best.release_id + "::")
    ranked = retriever.rank_releases("How much direct budgetary aid did Biden promise Ukraine?")
    assert ranked[0].release_id == ZELENSKYY_URL
    assert any("$500 million" in h.text for h in ranked[0].hits)

    rev = store.revision()
    again = indexer.ingest([SEED, *WHITEHOUSE])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 4, 0)
    assert store.revision() == rev and store.count_chunks() == first.chunks

    assert store.delete(ZELENSKYY_URL) is True
    assert store.revision() != rev
    lexical.refresh()
    assert all(not cid.startswith(ZELENSKYY_URL) for cid, _ in lexical.search("Zelenskyy $500 million budgetary aid", 20))
    assert all(h.release_id != ZELENSKYY_URL for h in retriever.search("Zelenskyy budgetary aid", k=20))
    assert store.count_releases() == 3


# --- two processes on one store --------------------------------------------------------------------------------

def wait_until(check, timeout: float = 20.0, every: float = 0.25):
    """The last value of check() once truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        time.sleep(every)


def test_two_runtimes_share_the_server(chroma_server, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:12]}"
    a = Runtime(server_settings(chroma_server, tmp_path / "a", prefix, llm_backend="none"))
    b = Runtime(server_settings(chroma_server, tmp_path / "b", prefix, llm_backend="none"))
    a.indexer.ingest([SEED])
    assert "Parahat Durdyev" in b.chain.ask(TURKMENISTAN).answer  # b builds its lexical index now

    seed_ids = {m.id for m in a.store.list_releases()}
    a.indexer.ingest([WHITEHOUSE[0]])  # a write b's process never saw
    (new_id,) = {m.id for m in a.store.list_releases()} - seed_ids
    found = wait_until(lambda: [c for c, _ in b.lexical.search("New START February 5 Putin", 5) if c.startswith(new_id)], 5)
    assert found
    # b's dense and lexical search both see a's write (the reader's choice is tested on made-up releases elsewhere)
    assert any(h.release_id == new_id for h in b.chain.retriever.search("New START extension Putin February 5", k=10))

    assert a.store.delete(new_id)
    wait_until(lambda: not any(c.startswith(new_id) for c, _ in b.lexical.search("New START February 5 Putin", 5)), 5)
    assert all(h.release_id != new_id for h in b.chain.retriever.search("New START extension Putin", k=20))


@pytest.fixture
def two_services(chroma_server, tmp_path):
    """Two `pressqa serve` processes (no LLM: answers quote the evidence) on one Chroma server."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    pressqa = Path(sys.executable).with_name("pressqa")
    cmd = [str(pressqa)] if pressqa.exists() else [sys.executable, "-m", "pressqa.cli"]
    env = {
        **os.environ,
        "PRESSQA_CHROMA_URL": chroma_server,
        "PRESSQA_COLLECTION_PREFIX": prefix,
        "PRESSQA_LLM_BACKEND": "none",
        "PRESSQA_API_KEYS": "",
        "HF_HUB_OFFLINE": "1",
    }
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        log = (tmp_path / f"{name}.log").open("wb")
        procs.append(subprocess.Popen(
            [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(tmp_path / name)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        ))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc, url, name in zip(procs, urls, "ab"):
            def ready(proc=proc, url=url, name=name):
                if proc.poll() is not None:
                    raise AssertionError(f"serve {name} exited: {(tmp_path / f'{name}.log').read_text()[-3000:]}")
                try:
                    return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(ready, timeout=300, every=0.5)
        yield [httpx.Client(base_url=u, timeout=120) for u in urls]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            stop_process(proc, timeout=20)


def test_two_serve_processes_share_one_store(two_services):
    a, b = two_services
    assert b.post("/api/ask", json={"question": ZORBLAX}).json()["abstained"] is True  # b's index is built, empty

    up = a.post("/api/releases", files={"files": ("zorblax.txt", UPLOAD_TEXT.encode(), "text/plain")})
    assert up.status_code == 200, up.text
    assert up.json()["added"] == 1

    def b_answers():
        got = b.post("/api/ask", json={"question": ZORBLAX}).json()
        return got if any(c["release_id"] == UPLOAD_URL for c in got["citations"]) else None

    answer = wait_until(b_answers, timeout=10, every=0.5)
    assert "Quastenberg" in answer["answer"] and answer["abstained"] is False
    assert b.get(f"/api/releases/{UPLOAD_URL}").status_code == 200

    assert a.delete(f"/api/releases/{UPLOAD_URL}").status_code == 200
    assert b.get(f"/api/releases/{UPLOAD_URL}").status_code == 404

    def b_forgot():
        got = b.post("/api/ask", json={"question": ZORBLAX}).json()
        return all(c["release_id"] != UPLOAD_URL for c in got["citations"]) and "Quastenberg" not in got["answer"]

    wait_until(b_forgot, timeout=10, every=0.5)
