import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import Indexer
from pressqa.settings import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"


@pytest.fixture
def folder(tmp_path):
    """The seed and three White House files, copied so tests may change them."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CORPUS / "seed/china-central-asia-foreign-ministers-meeting.txt", d)
    for f in sorted(CORPUS.glob("whitehouse/**/*.md"))[100:103]:
        shutil.copy(f, d)
    return d


def test_ingest_reingest_change_and_broken_file(store, embedder, folder):
    indexer = Indexer(store, embedder)
    seen = []
    first = indexer.ingest([folder], progress=seen.append)
    assert (first.added, first.updated, first.unchanged, first.errors) == (4, 0, 0, [])
    assert first.chunks == store.count_chunks() > 4 and seen[-1].files_done == 4
    for m in store.list_releases():
        hits = store.chunks_of(m.id)
        text = store.release_text(m.id)
        assert len(hits) == m.chunk_count and all(text[h.start : h.end] == h.text for h in hits)

    again = indexer.ingest([folder])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 4, 0)
    assert store.count_chunks() == first.chunks

    md = sorted(folder.glob("*.md"))[0]
    before = {m.id for m in store.list_releases()}
    md.write_text(md.read_text().rstrip() + "\n\nA new closing paragraph about fisheries cooperation.\n")
    changed = indexer.ingest([folder])
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 3)
    assert {m.id for m in store.list_releases()} == before
    (rid,) = [m.id for m in store.list_releases() if "fisheries" in store.release_text(m.id)]
    meta = store.release_meta(rid)
    stored = store.chunks_of(rid)
    assert len(stored) == meta.chunk_count and [h.index for h in stored] == list(range(meta.chunk_count))
    assert store.count_chunks() == sum(m.chunk_count for m in store.list_releases())  # no stale chunk

    (folder / "broken.rss").write_text("<?xml version='1.0'?><rss><channel><item><title>cut")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    count = store.count_chunks()
    bad = indexer.ingest([folder])
    assert [e["path"] for e in bad.errors] == [str(folder / "broken.rss")]
    assert bad.unchanged == 4 and store.count_chunks() == count


def test_cli_json_is_one_object_and_exit_code(tmp_path, folder):
    (folder / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    cmd = [sys.executable, "-m", "pressqa.cli", "ingest", str(folder), "--data", str(tmp_path / "d"), "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    out = json.loads(run.stdout)  # exactly one object, nothing else on stdout
    assert set(out) == {"added", "updated", "unchanged", "chunks", "skipped", "errors", "encodings", "titles_kept"}
    assert out["added"] == 4 and out["errors"][0]["path"].endswith("broken.txt")
    assert run.returncode != 0

    ls = subprocess.run([sys.executable, "-m", "pressqa.cli", "releases", "--data", str(tmp_path / "d"), "--json"],
                        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    rows = json.loads(ls.stdout)
    assert len(rows) == 4 and sum(r["chunks"] for r in rows) == out["chunks"]
    rm = subprocess.run([sys.executable, "-m", "pressqa.cli", "delete", rows[0]["id"], "no-such-id",
                         "--data", str(tmp_path / "d")], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert rm.returncode != 0 and "unknown release id: no-such-id" in rm.stderr


def test_two_releases_with_one_url_do_not_flip_flop(store, embedder, tmp_path):
    """The same URL in two files: the first is kept, the second reported; a re-run changes nothing."""
    tmp_path = tmp_path / "releases"
    tmp_path.mkdir()
    for name, body in [("a.md", "The first version of the release says one thing."), ("b.md", "A second copy says another thing.")]:
        (tmp_path / name).write_text(f"---\ntitle: Same page\ndate: '2021-06-01'\nsource_url: https://example.org/same\n---\n\n{body}\n")
    indexer = Indexer(store, embedder)
    first = indexer.ingest([tmp_path])
    assert (first.added, first.updated) == (1, 0)
    assert [s["path"].endswith("b.md") for s in first.skipped] == [True]
    again = indexer.ingest([tmp_path])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    assert "first version" in store.release_text("https://example.org/same")
