"""First run as a new user sees it: what the chain is doing while it answers, progress that moves, a quiet log.

A fake runtime and chain stand in for the models, so these run in seconds.
"""

import json
import logging
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from pressqa.settings import Settings
from service.api import create_app
from service.records import Answer, ChainStatus, Citation

STATUSES = [ChainStatus(stage="retrieve", message="searching…"), ChainStatus(stage="read", message="reading 5 releases…")]
QUOTE = "Parahat Durdyev represented Turkmenistan at the meeting."
ANSWER = Answer(
    answer="Parahat Durdyev represented Turkmenistan [1].",
    abstained=False,
    question="Who?",
    short_answer="Parahat Durdyev",
    confidence=0.8,
    answer_start=0,
    answer_end=15,
    citations=[Citation(n=1, release_id="seed", title="Seed", quote=QUOTE, start=100, end=100 + len(QUOTE))],
)


class FakeChain:
    def __init__(self, with_statuses: bool, delay: float = 0.0) -> None:
        self.with_statuses = with_statuses
        self.delay = delay

    def stream(self, question, history=None, since=None, until=None, source=None):
        if self.with_statuses:
            for status in STATUSES:
                yield status
                time.sleep(self.delay)
        for piece in ("Parahat Durdyev ", "represented ", "Turkmenistan [1]."):
            yield piece
        yield ANSWER

    def ask(self, question, **kwargs):
        return ANSWER


class FakeStore:
    def count_releases(self):
        return 1

    def count_chunks(self):
        return 2

    def list_releases(self, *args, **kwargs):
        return []


def fake_runtime(chain) -> SimpleNamespace:
    return SimpleNamespace(
        store=FakeStore(), embedder=SimpleNamespace(dtype="fp32"), llm=SimpleNamespace(), chain=chain,
        lexical=SimpleNamespace(refresh=lambda: None), dense=SimpleNamespace(refresh=lambda: None), indexer=None,
    )


@pytest.fixture
def client_for(tmp_path):
    def make(chain) -> TestClient:
        settings = Settings(data=tmp_path / "data", llm_backend="none", api_keys="")
        app = create_app(settings, fake_runtime(chain))
        client = TestClient(app, base_url="http://127.0.0.1:8000")
        client.__enter__()  # lifespan: the start-up thread runs against the fake runtime
        app.state.startup.join(10)
        assert app.state.startup.ready.is_set(), app.state.startup.error
        return client

    return make


def events(body: str) -> list[tuple[str, dict]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines.get("event", "message"), json.loads(lines["data"])))
    return out


@pytest.mark.parametrize("with_statuses", [True, False])
def test_native_stream_sends_status_events_then_text_then_the_answer(client_for, with_statuses):
    client = client_for(FakeChain(with_statuses))
    response = client.post("/api/ask/stream", json={"question": "Who represented Turkmenistan?"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    names = [name for name, _ in got]
    expected_statuses = ["status", "status"] if with_statuses else []
    assert names == expected_statuses + ["delta", "delta", "delta", "answer"]
    if with_statuses:
        assert got[0][1] == {"stage": "retrieve", "message": "searching…"}
    assert "".join(data["text"] for name, data in got if name == "delta") == ANSWER.answer
    assert got[-1][1]["answer"] == ANSWER.answer and got[-1][1]["abstained"] is False


def test_the_openai_stream_stays_standard_when_the_chain_sends_statuses(client_for):
    client = client_for(FakeChain(with_statuses=True))
    response = client.post("/v1/chat/completions", json={"model": "pressqa", "stream": True, "messages": [{"role": "user", "content": "Who?"}]})
    assert response.status_code == 200
    lines = [line for line in response.text.splitlines() if line]
    assert all(line.startswith("data: ") for line in lines)  # no `event:` lines
    assert "searching" not in response.text and "stage" not in response.text
    chunks = [json.loads(line[6:]) for line in lines if line != "data: [DONE]"]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == ANSWER.answer


def test_stream_errors_after_the_start_are_an_error_event(client_for):
    class Failing(FakeChain):
        def stream(self, *args, **kwargs):
            yield STATUSES[0]
            raise RuntimeError("boom")

    client = client_for(Failing(with_statuses=True))
    got = events(client.post("/api/ask/stream", json={"question": "Who?"}).text)
    assert [name for name, _ in got] == ["status", "error"] and got[1][1]["error"]["code"] == 500
    assert "boom" not in json.dumps(got)


# --- progress --------------------------------------------------------------------------------------------------


class SteppingIndexer:
    """Writes a 'feed' of 40 releases in groups of 8, like the real indexer's groups of 512 chunks."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.startup = None

    def ingest(self, batch, progress=None):
        p = SimpleNamespace(files_done=0, releases_done=0, chunks=0)
        per_file = 40 if any(path.suffix == ".rss" for path in batch) else 1
        for _ in range(per_file * len(batch) // 8 or 1):
            p.releases_done = min(p.releases_done + 8, per_file * len(batch))
            p.chunks = p.releases_done * 3
            progress(p)
            self.seen.append(self.startup.status()["indexing"])
        p.files_done = len(batch)
        progress(p)
        return SimpleNamespace(errors=[])


def test_bundled_indexing_progress_counts_releases_and_moves_in_steps(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "seed").mkdir(parents=True)
    (corpus / "seed/a.txt").write_text("x")
    (corpus / "feeds").mkdir()
    item = "<item><title>T</title><description>D</description></item>"
    (corpus / "feeds/big.rss").write_text(f"<rss><channel>{item * 40}</channel></rss>")
    settings = Settings(data=tmp_path / "data", corpus=corpus, llm_backend="none")
    indexer = SteppingIndexer()
    runtime = fake_runtime(FakeChain(False))
    runtime.indexer = indexer
    from pressqa.runtime import Runtime

    runtime.estimate_releases = lambda files: Runtime.estimate_releases(None, files)
    from service.api.startup import Startup

    startup = Startup(settings, runtime, index_bundled=True)
    indexer.startup = startup
    startup.start()
    startup.join(10)
    assert startup.error is None
    percents = [s["percent"] for s in indexer.seen]
    assert indexer.seen[0]["releases_total"] == 41  # the seed file + the feed's 40 items, counted before reading
    assert percents == sorted(percents) and len(set(percents)) >= 5, percents  # visible steps, never backwards
    assert max(percents) < 100 or percents[-1] == 100
    final = startup.status()["indexing"]
    assert final["active"] is False and final["percent"] == 100.0 and final["releases_done"] == final["releases_total"]
    assert final["chunks_written"] == 3 + 120


def test_the_pipeline_reports_progress_per_group_and_counts_unchanged_releases(store, embedder, tmp_path, monkeypatch):
    import ingest.pipeline as pipeline

    monkeypatch.setattr(pipeline, "GROUP_CHUNKS", 4)
    item = "<item><title>Release {n}</title><link>https://example.gov/{n}</link><description>Measure {n} was announced today. It takes effect at once.</description></item>"
    path = tmp_path / "feed.rss"
    path.write_text("<rss><channel><title>F</title>" + "".join(item.format(n=n) for n in range(12)) + "</channel></rss>")
    seen = []
    pipeline.Indexer(store, embedder).ingest([path], progress=lambda p: seen.append((p.releases_done, p.chunks)))
    written = [done for done, _ in seen]
    assert written == sorted(written) and len(set(written)) >= 3 and written[-1] == 12
    assert seen[-1][1] == store.count_chunks()
    again = []
    pipeline.Indexer(store, embedder).ingest([path], progress=lambda p: again.append(p.releases_done))
    assert again[-1] == 12  # unchanged releases count as done: a restart's bar still reaches 100 %


# --- quiet start-up --------------------------------------------------------------------------------------------


def test_setup_logging_drops_the_quantizer_chatter_and_keeps_pressqa_lines(capsys):
    from pressqa.logs import setup_logging

    setup_logging()
    chatter = logging.LogRecord("root", logging.INFO, "/x/site-packages/onnxruntime/quantization/onnx_quantizer.py", 530,
                                'Quantization parameters for tensor:"t" not specified', None, None)
    warning = logging.LogRecord("root", logging.WARNING, "/x/site-packages/onnxruntime/quantization/base_quantizer.py", 240,
                                "some quantizer warning", None, None)
    for record in (chatter, warning):
        logging.getLogger().handle(record)
    logging.getLogger("transformers.modeling_utils").info("loading weights")
    logging.getLogger("pressqa.api").info("embedder loaded (int8) in 3.1 s")
    err = capsys.readouterr().err
    assert "Quantization parameters" not in err and "quantizer warning" not in err and "loading weights" not in err
    assert "pressqa: embedder loaded (int8) in 3.1 s" in err


def test_probe_polls_stay_out_of_the_access_log():
    import copy
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    from pressqa.logs import setup_logging

    setup_logging()
    logging.config.dictConfig(copy.deepcopy(LOGGING_CONFIG))  # what uvicorn.run does; the filter must survive it
    access = logging.getLogger("uvicorn.access")
    seen = []
    access.addHandler(handler := logging.Handler())
    handler.emit = lambda record: seen.append(record.args[2])
    try:
        for path, status in (("/readyz", 503), ("/readyz", 200), ("/healthz", 200), ("/api/ask", 200), ("/readyz", 500)):
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", path, "1.1", status)
    finally:
        access.removeHandler(handler)
    assert seen == ["/api/ask", "/readyz"]


def test_startup_logs_one_line_per_phase_with_its_duration(tmp_path, caplog):
    from service.api.startup import Startup

    caplog.set_level(logging.INFO, logger="pressqa")
    startup = Startup(Settings(data=tmp_path / "d", llm_backend="none"), fake_runtime(FakeChain(False)), index_bundled=False)
    startup.start()
    startup.join(10)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("pressqa")]
    phases = ["store opened", "embedder loaded", "language model loaded", "answer chain built", "ready in", "lexical index built",
              "dense index built"]
    for phase in phases:
        assert sum(line.startswith(phase) for line in lines) == 1, (phase, lines)
    assert all(line.rstrip().endswith(" s") or " s:" in line for line in lines if any(line.startswith(p) for p in phases))
