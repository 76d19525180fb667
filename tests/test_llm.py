"""LLM backends with real parts: the converted SmolLM2 on CPU, and `transformers serve` as an OpenAI-compatible server."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from pressqa.settings import Settings
from service.llm import (
    COMPLETE_MARKER,
    LLMTimeout,
    LLMUnavailable,
    ensure_converted_model,
    load_local_model,
    make_llm,
)
from support import free_port, stop_process

QUESTION = [
    SystemMessage("Answer in one short sentence."),
    HumanMessage("What is the capital of France?"),
]


@pytest.fixture(scope="session")
def llm_data(tmp_path_factory) -> Path:
    """One conversion per test session (~20 s); every test reads the same converted folder."""
    data = tmp_path_factory.mktemp("llm-data")
    started = time.perf_counter()
    ensure_converted_model(Settings(data=data))
    print(f"\nGGUF -> safetensors conversion: {time.perf_counter() - started:.1f} s")
    return data


@pytest.fixture(scope="session")
def model_dir(llm_data) -> Path:
    return ensure_converted_model(Settings(data=llm_data))


def test_conversion_writes_a_plain_hf_folder_once(llm_data, model_dir):
    names = {p.name for p in model_dir.iterdir()}
    assert {"config.json", "generation_config.json", "tokenizer.json", COMPLETE_MARKER} <= names
    config = (model_dir / "config.json").read_text()
    assert "LlamaForCausalLM" in config and "quantization_config" not in config
    # No temporary folder is left next to it (the cache also holds other models' folders, e.g. the ONNX encoder).
    assert not [p.name for p in model_dir.parent.iterdir() if p.name.startswith(f".{model_dir.name}")]

    written = (model_dir / COMPLETE_MARKER).stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_converted_model(Settings(data=llm_data)) == model_dir
    assert time.perf_counter() - started < 0.5
    assert (model_dir / COMPLETE_MARKER).stat().st_mtime_ns == written


def test_load_from_converted_folder_is_fast(model_dir):
    started = time.perf_counter()
    loaded = load_local_model.__wrapped__(str(model_dir), "fp32")  # uncached on purpose
    elapsed = time.perf_counter() - started
    print(f"\nload from converted folder: {elapsed:.2f} s")
    assert elapsed < 10  # the GGUF route takes ~20-30 s here
    assert loaded.model.lm_head.weight.data_ptr() == loaded.model.model.embed_tokens.weight.data_ptr()


@pytest.fixture(scope="module")
def local_llm(llm_data):
    return make_llm(Settings(data=llm_data, llm_backend="local", llm_max_new_tokens=24))


def test_local_model_answers(local_llm):
    reply = local_llm.invoke(QUESTION)
    assert "Paris" in reply.content
    assert reply.usage_metadata["output_tokens"] > 0


def test_local_stream_equals_greedy_answer(local_llm):
    whole = local_llm.invoke(QUESTION).content
    chunks = [c.content for c in local_llm.stream(QUESTION)]
    assert len([c for c in chunks if c]) >= 3
    assert "".join(chunks) == whole


def test_local_model_honours_stop(local_llm):
    reply = local_llm.invoke(QUESTION, stop=["Paris"]).content
    streamed = "".join(c.content for c in local_llm.stream(QUESTION, stop=["Paris"]))
    assert "Paris" not in reply and reply == streamed


def test_local_model_is_loaded_once(llm_data, local_llm):
    again = make_llm(Settings(data=llm_data, llm_backend="local"))
    assert again.loaded is local_llm.loaded


def test_none_backend_writes_nothing():
    llm = make_llm(Settings(llm_backend="none"))
    assert llm.invoke(QUESTION).content == ""
    assert "".join(c.content for c in llm.stream(QUESTION)) == ""


# --- openai backend against `transformers serve` -------------------------------------------------


@pytest.fixture(scope="session")
def served_model(model_dir, tmp_path_factory):
    """`transformers serve` on the converted folder, pinned to it (requests must name the same path)."""
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which("transformers")
    assert exe, "transformers CLI not found: install transformers[serving]"
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [exe, "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--dtype", "bfloat16"]
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = started + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                pytest.fail(f"transformers serve not up after 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        print(f"\ntransformers serve up in {time.perf_counter() - started:.1f} s")
        yield f"http://127.0.0.1:{port}/v1", str(model_dir)
    finally:
        stop_process(proc)


@pytest.fixture
def openai_llm(served_model):
    base_url, model = served_model
    settings = Settings(llm_backend="openai", llm_base_url=base_url, llm_model=model, llm_timeout_s=120, llm_max_new_tokens=24)
    return make_llm(settings)


def test_openai_backend_against_transformers_serve(openai_llm):
    reply = openai_llm.invoke(QUESTION)
    assert "Paris" in reply.content


def test_openai_backend_streams_tokens(openai_llm):
    whole = openai_llm.invoke(QUESTION).content
    chunks = [c.content for c in openai_llm.stream(QUESTION)]
    assert len([c for c in chunks if c]) >= 3
    assert "".join(chunks) == whole


def test_openai_backend_wrong_model_name_is_unavailable(served_model):
    base_url, _ = served_model
    llm = make_llm(Settings(llm_backend="openai", llm_base_url=base_url, llm_model="gpt-nope", llm_timeout_s=30))
    with pytest.raises(LLMUnavailable, match="HTTP 400"):
        llm.invoke(QUESTION)


# --- openai backend failures: fast, clear, never a hang ---------------------------------------


def test_closed_port_is_unavailable_within_the_timeout():
    llm = make_llm(Settings(llm_backend="openai", llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout_s=5))
    for call in (lambda: llm.invoke(QUESTION), lambda: list(llm.stream(QUESTION))):
        started = time.perf_counter()
        with pytest.raises(LLMUnavailable, match="unreachable"):
            call()
        assert time.perf_counter() - started < 5


def test_silent_server_times_out():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        llm = make_llm(Settings(llm_backend="openai", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=1))
        started = time.perf_counter()
        with pytest.raises(LLMTimeout, match="within 1 s"):
            llm.invoke(QUESTION)
        assert time.perf_counter() - started < 5


def test_garbage_answer_is_unavailable():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Html(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b"<html>not an LLM</html>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        llm = make_llm(Settings(llm_backend="openai", llm_base_url=url, llm_timeout_s=5))
        with pytest.raises(LLMUnavailable, match="unusable response"):
            llm.invoke(QUESTION)
        with pytest.raises(LLMUnavailable):
            list(llm.stream(QUESTION))
    finally:
        server.shutdown()


def test_openai_backend_needs_a_base_url():
    with pytest.raises(LLMUnavailable, match="PRESSQA_LLM_BASE_URL"):
        make_llm(Settings(llm_backend="openai", llm_base_url=None))


def test_abandoned_local_stream_stops_generating(llm_data):
    llm = make_llm(Settings(data=llm_data, llm_backend="local", llm_max_new_tokens=400))
    stream = llm.stream([HumanMessage("Write a long story about a lighthouse keeper.")])
    next(stream)
    started = time.perf_counter()
    stream.close()
    assert time.perf_counter() - started < 3  # not the ~20 s the remaining 400 tokens would take
    assert llm.loaded.lock.acquire(timeout=1)
    llm.loaded.lock.release()
