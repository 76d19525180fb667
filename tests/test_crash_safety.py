"""Crash safety: `pressqa ingest` SIGKILLed at random points loses or half-writes nothing; ingest while 20 threads ask."""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

from pressqa.settings import REPO_ROOT, Settings

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
WHITEHOUSE = REPO_ROOT / "corpus/whitehouse/statements-releases"
TURKMENISTAN = "Who represented Turkmenistan at the Sixth China-Central Asia Foreign Ministers' Meeting?"
KILLS = 10
RANDOM_SEED = 20250307
PRESSQA = [sys.executable, "-m", "pressqa.cli"]
# The same command, SIGKILLed by itself right before its Nth write call to Chroma (KILL_AT_WRITE=N):
# random times rarely land inside the short write phase, this lands on every boundary between writes.
KILL_AT_WRITE = r"""
import os, signal, sys
from chromadb.api.models.Collection import Collection
target, calls = int(os.environ["KILL_AT_WRITE"]), [0]
def wrap(name):
    original = getattr(Collection, name)
    def write(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)
    setattr(Collection, name, write)
for name in ("add", "upsert", "update", "delete"):
    wrap(name)
from pressqa.cli import app
app(sys.argv[1:], prog_name="pressqa")
"""


def corpus_folder(root: Path, n: int = 30) -> Path:
    """The seed plus the first n-1 White House releases: about 30 files, one release each."""
    folder = root / "in"
    folder.mkdir(parents=True)
    shutil.copy(SEED, folder)
    for path in sorted(WHITEHOUSE.rglob("*.md"))[: n - 1]:
        shutil.copy(path, folder / f"{path.parent.name}-{path.name}")
    return folder


def run_env(**extra: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PRESSQA_LLM_BACKEND": "none", "PRESSQA_CHROMA_URL": ""}
    env.pop("PRESSQA_CHROMA_URL")
    # Smaller chunks: more chunks per release, so more of each run is spent writing to Chroma.
    env["PRESSQA_CHUNK_MAX_TOKENS"] = "48"
    env.update(extra)
    return env


def open_store(data: Path):
    """A fresh client on the data dir, never chromadb's cached one (another process wrote since)."""
    from chromadb.api.client import SharedSystemClient

    from core.store import make_store

    SharedSystemClient.clear_system_cache()
    return make_store(Settings(data=data, chroma_url=None))


def check_store(data: Path, embedder) -> tuple[dict[str, str], list[str], int]:
    """({release id: content hash} of the releases present, [problems], orphan releases) as a reader sees the store."""
    from core.dense_index import DenseIndex
    from core.lexical import LexicalIndex
    from service.retrieval import HybridRetriever

    store = open_store(data)
    problems: list[str] = []
    records = {m.id: m for m in store.list_releases()}
    chunks = list(store.iter_chunks())
    ids = [c.chunk_id for c in chunks]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate chunk ids: {[i for i, n in Counter(ids).items() if n > 1][:3]}")
    by_release: dict[str, list] = {}
    for c in chunks:
        by_release.setdefault(c.release_id, []).append(c)
    lexical = LexicalIndex(store)
    retriever = HybridRetriever(store=store, embedder=embedder, lexical=lexical, dense=DenseIndex(store), k=20)
    orphans = by_release.keys() - records.keys()
    for rid in orphans:  # leftovers of a killed write: allowed on disk, never visible to a reader
        leaked = [h.release_id for c in by_release[rid][:2] for h in retriever.search(c.text) if h.release_id == rid]
        if leaked:
            problems.append(f"{rid}: chunks without a release record are retrieved")
    texts = store.releases.get(ids=list(records), include=["documents"]) if records else {"ids": [], "documents": []}
    text_of = dict(zip(texts["ids"], texts["documents"]))
    for rid, meta in records.items():
        mine = sorted(by_release.get(rid, []), key=lambda c: c.index)
        if [c.index for c in mine] != list(range(meta.chunk_count)):
            problems.append(f"{rid}: record says {meta.chunk_count} chunks, store has indexes {[c.index for c in mine][:10]}")
            continue
        text = text_of.get(rid) or ""
        if any(text[c.start : c.end] != c.text for c in mine):
            problems.append(f"{rid}: a chunk does not match the stored release text")
        if {store.get_chunks([c.chunk_id])[0].title for c in mine} != {meta.title}:
            problems.append(f"{rid}: chunks carry another title than the record")
        # The title is indexed with every chunk, so a search for it must reach all of them.
        found = {cid for cid, _ in lexical.search(meta.title, k=len(chunks))}
        if not {c.chunk_id for c in mine} <= found:
            problems.append(f"{rid}: chunks missing from the lexical index")
    if sum(m.chunk_count for m in records.values()) + sum(len(v) for k, v in by_release.items() if k not in records) != len(chunks):
        problems.append("chunk count differs from the sum of the releases' chunk counts")
    return {rid: m.content_hash for rid, m in records.items()}, problems, len(orphans)


def expected_releases(folder: Path) -> dict[str, str]:
    from ingest.loaders import iter_release_files, load_file

    return {r.id: r.content_hash for path in iter_release_files([folder]) for r in load_file(path)}


def touch_some(folder: Path, rng: random.Random, round_no: int) -> None:
    """Edit a few releases so the next run has updates to write (old chunks out, new in).

    Only releases with a URL: the id of one without is its text hash, so an edit makes it a new release.
    """
    from ingest.loaders import load_file

    with_url = [p for p in sorted(folder.iterdir()) if all(r.url for r in load_file(p))]
    for path in rng.sample(with_url, 4):
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\n\nEditor's note {round_no}: this release was revised on review round {round_no} of the archive.\n")


def test_sigkilled_ingest_leaves_each_release_whole_or_absent(tmp_path, embedder):
    rng = random.Random(RANDOM_SEED)
    folder = corpus_folder(tmp_path)
    data = tmp_path / "data"
    cmd = PRESSQA + ["ingest", str(folder), "--data", str(data), "--json"]

    started = time.monotonic()
    calib = subprocess.run(cmd, env=run_env(), capture_output=True, text=True, timeout=300)
    full_s = time.monotonic() - started
    assert calib.returncode == 0, calib.stderr[-3000:]
    present, problems, _ = check_store(data, embedder)
    assert not problems and present == expected_releases(folder)

    kills, finished, attempts, mid_write, log = 0, 0, 0, 0, []
    while kills < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, f"only {kills} kills landed in {attempts} runs: {log}"
        touch_some(folder, rng, attempts)
        if attempts % 3 == 0:  # now and then a new release too, so runs also add
            shutil.copy(sorted(WHITEHOUSE.rglob("*.md"))[29 + attempts], folder / f"extra-{attempts}.md")
        if attempts % 2:
            # A random time, spread over the whole run: start-up, loading, embedding, writing.
            delay = rng.uniform(0.15, 0.9) * full_s
            what, env, argv = f"{delay:.1f}s", run_env(), cmd
        else:
            target = rng.randint(1, 8)
            what, env, argv = f"write#{target}", run_env(KILL_AT_WRITE=str(target)), [sys.executable, "-c", KILL_AT_WRITE] + cmd[3:]
            delay = 300
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            log.append(f"{what}:killed")
        else:
            assert proc.returncode == 0, err[-3000:]
            finished += 1
            log.append(f"{what}:finished")
        before = present
        present, problems, orphans = check_store(data, embedder)
        assert not problems, (log, problems)
        if proc.returncode == -signal.SIGKILL and (orphans or present.keys() < before.keys()):
            log[-1] += "(mid-write)"
            mid_write += 1

    rerun = subprocess.run(cmd, env=run_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    present, problems, orphans = check_store(data, embedder)
    assert not problems and not orphans, problems
    assert present == expected_releases(folder), "the re-run did not complete the job"
    print(f"crash safety: {kills} SIGKILLs survived ({mid_write} inside a write), {finished} runs finished, full run {full_s:.1f}s, {log}")


# --- ingest while 20 clients ask -------------------------------------------------------------------------------


def test_ingest_while_twenty_threads_ask(tmp_path):
    from pressqa.runtime import Runtime

    runtime = Runtime(Settings(data=tmp_path / "data", chroma_url=None, llm_backend="none"))
    first = runtime.indexer.ingest([SEED])
    assert first.added == 1
    baseline = runtime.chain.ask(TURKMENISTAN)
    assert "Parahat Durdyev" in baseline.answer, baseline

    folder = corpus_folder(tmp_path, n=31)
    stop = threading.Event()
    errors: list[str] = []
    wrong: list[str] = []
    asked = Counter()

    def client(n: int) -> None:
        while not stop.is_set() or asked[n] == 0:
            try:
                answer = runtime.chain.ask(TURKMENISTAN)
            except BaseException as exc:  # noqa: BLE001 - every failure is a finding
                # the whole traceback: a race shows only in the line it broke on
                errors.append("".join(traceback.format_exception(exc)))
                return
            asked[n] += 1
            if "Parahat Durdyev" not in answer.answer or not any("Parahat Durdyev" in c.quote for c in answer.citations):
                wrong.append(answer.answer)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    summary = runtime.indexer.ingest([folder])
    stop.set()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, "\n".join(errors[:3])
    assert not wrong, wrong[:3]
    assert summary.added == 30 and summary.unchanged == 1 and not summary.errors
    assert runtime.store.count_releases() == 31
    print(f"concurrency: {sum(asked.values())} answers by 20 threads during ingest of 30 releases, all right")
