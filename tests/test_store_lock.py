"""Two processes on one embedded data dir: why they drift apart, and that a second one is refused.

The first test pins down the condition behind issue 14's item 3 with chromadb alone: a process that has an
embedded store open never sees another process's writes in dense search (its HNSW index stays as loaded), though
`get` and `count` see them. The others run real `pressqa serve` / `pressqa ingest` processes on one data dir.
"""

import signal
import subprocess
import sys
import textwrap
import time

from pressqa.settings import REPO_ROOT
from real_serve import PRESSQA, serve_env, start_serve, stop, wait_ready

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"

READER = textwrap.dedent(
    """
    import sys, time, chromadb
    from chromadb.config import Settings
    col = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False)).get_collection("probe")
    col.query(query_embeddings=[[1.0, 0.0, 0.0]], n_results=1)  # the vector index is loaded now
    print("ready", flush=True)
    sys.stdin.readline()  # the test process writes meanwhile
    got = col.get(ids=["new"])["ids"]
    near = col.query(query_embeddings=[[0.0, 0.0, 1.0]], n_results=1)["ids"][0]
    print(f"count={col.count()} get={got} nearest={near}", flush=True)
    """
)


def test_an_open_embedded_store_never_sees_another_process_dense_writes(tmp_path):
    import chromadb
    from chromadb.config import Settings

    path = str(tmp_path / "chroma")
    writer = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
    col = writer.get_or_create_collection("probe", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    col.add(ids=["a", "b"], embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    reader = subprocess.Popen([sys.executable, "-c", READER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        col.add(ids=["new"], embeddings=[[0.0, 0.0, 1.0]])
        time.sleep(2)
        out, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    # The other process lists the new record but its nearest neighbour of [0, 0, 1] is still an old one.
    assert out.strip() == "count=3 get=['new'] nearest=['b']" or out.strip() == "count=3 get=['new'] nearest=['a']", out


def test_a_second_process_on_an_embedded_data_dir_is_refused(tmp_path):
    data = tmp_path / "data"
    first = start_serve(data, tmp_path / "first.log")
    try:
        wait_ready(first)
        second = start_serve(data, tmp_path / "second.log")
        assert second.proc.wait(timeout=120) == 2
        refusal = second.log_text()
        assert "already open in another process" in refusal and "PRESSQA_CHROMA_URL" in refusal, refusal
        assert "pressqa serve" in refusal or "serve" in refusal  # names the holder's command line
        assert "Traceback" not in refusal

        ingest = subprocess.run([*PRESSQA, "ingest", str(SEED), "--data", str(data)], env=serve_env(), capture_output=True, text=True, timeout=300)
        assert ingest.returncode != 0
        assert "PRESSQA_CHROMA_URL" in ingest.stdout + ingest.stderr
        assert first.proc.poll() is None  # the first server is untouched
    finally:
        first.proc.send_signal(signal.SIGKILL)  # a killed holder must not leave a stale lock behind
        first.proc.wait()
    again = start_serve(data, tmp_path / "again.log")
    try:
        wait_ready(again)
    finally:
        stop(again)
