from datetime import date

import numpy as np

from core.dense_index import DenseIndex
from core.lexical import LexicalIndex, tokenize
from core.records import Chunk, Release


def put(store, embedder, release, pieces=None):
    pieces = pieces or [release.text]
    chunks, pos = [], 0
    for i, p in enumerate(pieces):
        start = release.text.index(p, pos)
        chunks.append(Chunk(release.id, i, p, start, start + len(p)))
        pos = start + len(p)
    store.upsert(release, chunks, embedder.encode([c.text for c in chunks]))
    return chunks


SUDAN = Release(
    title="Aid to Sudan", text="The U.S. gives $20 million to Sudan. Food will arrive in May.", origin="a.md",
    url="https://example.gov/sudan", published=date(2024, 3, 1), source="State",
)
KAZ = Release(
    title="Kazakhstan talks", text="The Secretary met the Foreign Minister of Kazakhstan in Astana.", origin="b.md",
    url="https://example.gov/kaz", published=date(2025, 4, 26), source="White House",
)
UNDATED = Release(title="Undated", text="A statement without a date about fisheries.", origin="c.txt")


def test_upsert_get_delete(store, embedder):
    rev0 = store.revision()
    put(store, embedder, SUDAN, ["The U.S. gives $20 million to Sudan.", "Food will arrive in May."])
    put(store, embedder, KAZ)
    assert store.revision() != rev0
    assert store.count_releases() == 2 and store.count_chunks() == 3
    meta = store.release_meta(SUDAN.id)
    assert meta.published == "2024-03-01" and meta.chunk_count == 2 and meta.content_hash == SUDAN.content_hash
    assert store.release_text(SUDAN.id) == SUDAN.text
    hits = store.chunks_of(SUDAN.id)
    assert [h.index for h in hits] == [0, 1]
    assert all(SUDAN.text[h.start : h.end] == h.text for h in hits)
    assert [h.chunk_id for h in store.get_chunks([f"{SUDAN.id}::1", "nope", f"{SUDAN.id}::0"])] == [
        f"{SUDAN.id}::1", f"{SUDAN.id}::0"]
    assert len(list(store.iter_chunks(page=2))) == 3
    rev1 = store.revision()
    assert store.delete(SUDAN.id) is True
    assert store.revision() != rev1
    assert store.delete(SUDAN.id) is False
    assert store.release_meta(SUDAN.id) is None and store.count_chunks() == 1


def test_release_listing_and_date_filter(store, embedder):
    for r in (SUDAN, KAZ, UNDATED):
        put(store, embedder, r)
    assert [m.id for m in store.list_releases()] == [KAZ.id, SUDAN.id, UNDATED.id]
    assert [m.id for m in store.list_releases(since=date(2024, 1, 1), until=date(2024, 12, 31))] == [SUDAN.id]
    assert [m.id for m in store.list_releases(offset=1, limit=1)] == [SUDAN.id]
    assert store.newest_published() == date(2025, 4, 26)


def test_repair_removes_half_written_release(store, embedder):
    put(store, embedder, KAZ)
    # A crash after the chunks were added but before the release record (the commit marker) was written.
    half = Chunk(SUDAN.id, 0, SUDAN.text, 0, len(SUDAN.text))
    from core.store import chunk_metadata

    store.chunks.add(ids=[half.id], documents=[half.text], metadatas=[chunk_metadata(half, SUDAN)],
                     embeddings=embedder.encode([half.text]))
    # And a crash midway through replacing a release: its record still carries the old hash.
    changed = Release(**{**KAZ.__dict__, "text": KAZ.text + " They also discussed water."})
    store.chunks.delete(where={"release_id": KAZ.id})
    c = Chunk(KAZ.id, 0, changed.text, 0, len(changed.text))
    store.chunks.add(ids=[c.id], documents=[c.text], metadatas=[chunk_metadata(c, changed)],
                     embeddings=embedder.encode([c.text]))
    assert store.repair() == 2
    assert store.count_chunks() == 0 and store.count_releases() == 0
    assert store.repair() == 0


def test_lexical_index_follows_revision(store, embedder):
    put(store, embedder, SUDAN)
    lex = LexicalIndex(store)
    assert [i for i, _ in lex.search("$20 million", 5)] == [f"{SUDAN.id}::0"]
    put(store, embedder, KAZ)
    lex.refresh()
    assert [i for i, _ in lex.search("Astana Kazakhstan", 5)] == [f"{KAZ.id}::0"]
    assert lex.search("Astana", 5, until=date(2024, 12, 31)) == []
    assert lex.search("the of", 5) == []


def test_tokenize_keeps_numbers_and_drops_stopwords():
    assert tokenize("The U.S. gave $20 million and 500 tons, Secretary's visit") == [
        "u", "s", "gave", "$20", "million", "500", "tons", "secretary", "visit"]


def test_lexical_scores_are_bm25s_lucene(store, embedder):
    """Our postings score exactly as the bm25s reference does on the same tokenized chunks."""
    import bm25s

    for r in (SUDAN, KAZ, UNDATED):
        put(store, embedder, r, [s + "." for s in r.text.rstrip(".").split(". ")])
    lex = LexicalIndex(store)
    hits = list(store.iter_chunks())
    ref = bm25s.BM25()
    ref.index([tokenize(f"{h.title}\n{h.text}") for h in hits], show_progress=False)
    for query in ("Sudan $20 million food", "Foreign Minister of Kazakhstan", "fisheries statement date"):
        want = np.asarray(ref.get_scores([t for t in tokenize(query) if t in ref.vocab_dict]))
        got = dict(lex.search(query, 10))
        for h, score in zip(hits, want):
            assert abs(got.get(h.chunk_id, 0.0) - score) < 1e-4, (query, h.chunk_id)


def test_lexical_index_rereads_only_changed_releases(store, embedder):
    for r in (SUDAN, KAZ, UNDATED):
        put(store, embedder, r)
    lex = LexicalIndex(store)
    lex.refresh()
    assert lex.last_sync["releases_read"] == 3
    # Another process changes the store: one release rewritten, one deleted, one half-written (no commit record).
    changed = Release(**{**KAZ.__dict__, "text": "The Secretary met the Foreign Minister of Kazakhstan in Almaty."})
    put(store, embedder, changed)
    store.delete(SUDAN.id)
    from core.store import chunk_metadata

    ghost = Release(title="Ghost", text="Unfinished words about volcanoes.", origin="g.md")
    half = Chunk(ghost.id, 0, ghost.text, 0, len(ghost.text))
    store.chunks.add(ids=[half.id], documents=[half.text], metadatas=[chunk_metadata(half, ghost)],
                     embeddings=embedder.encode([half.text]))
    lex.refresh()
    assert lex.last_sync == {**lex.last_sync, "releases_read": 1, "chunks": 2}
    assert [i for i, _ in lex.search("Almaty", 5)] == [f"{KAZ.id}::0"]
    assert lex.search("Astana", 5) == [] and lex.search("Sudan", 5) == [] and lex.search("volcanoes", 5) == []
    assert [i for i, _ in lex.search("fisheries", 5)] == [f"{UNDATED.id}::0"]


def test_dense_index_is_exact_and_filters_like_the_store(store, embedder):
    for r in (SUDAN, KAZ, UNDATED):
        put(store, embedder, r, [s + "." for s in r.text.rstrip(".").split(". ")])
    dense = DenseIndex(store)
    q = embedder.encode_query("How much money went to Sudan?")
    hits = dense.search(q, 10)
    # Exact cosine: the same order and scores as a brute-force product over every stored chunk.
    chunks = list(store.iter_chunks())
    vectors = embedder.encode([c.text for c in chunks])
    want = sorted(
        ((c.chunk_id, float(v @ q / np.linalg.norm(v) / np.linalg.norm(q))) for c, v in zip(chunks, vectors)),
        key=lambda pair: -pair[1],
    )
    assert [i for i, _ in hits] == [i for i, _ in want]
    assert np.allclose([s for _, s in hits], [s for _, s in want], atol=1e-4)
    assert hits[0][0].startswith(f"{SUDAN.id}::") and len(dense.search(q, 2)) == 2
    assert {i.split("::")[0] for i, _ in dense.search(q, 5, since=date(2025, 1, 1))} == {KAZ.id}
    assert {i.split("::")[0] for i, _ in dense.search(q, 5, until=date(2024, 12, 31))} == {SUDAN.id}
    assert {i.split("::")[0] for i, _ in dense.search(q, 5, source="White House")} == {KAZ.id}
    assert dense.search(q, 5, source="Nobody") == [] and dense.search(q, 0) == []


def test_dense_index_follows_revision_and_breaks_ties_by_id(store, embedder):
    twin = Release(title="Twin", text=KAZ.text, origin="d.md", url="https://example.gov/twin")
    put(store, embedder, KAZ)
    dense = DenseIndex(store)
    q = embedder.encode_query("Kazakhstan")
    assert [i for i, _ in dense.search(q, 5)] == [f"{KAZ.id}::0"]
    put(store, embedder, twin)
    dense.refresh()
    assert dense.last_sync["releases_read"] == 1
    hits = dense.search(q, 1)
    # The same text scores the same; the lower chunk id wins whichever release was read first.
    assert hits == [(min(f"{KAZ.id}::0", f"{twin.id}::0"), hits[0][1])]
    store.delete(KAZ.id)
    dense.refresh()
    assert [i for i, _ in dense.search(q, 5)] == [f"{twin.id}::0"]


def test_a_write_through_this_store_shows_in_both_searches_at_once(store, embedder):
    put(store, embedder, KAZ)
    lex, dense = LexicalIndex(store), DenseIndex(store)
    lex.CHECK_EVERY_S = dense.CHECK_EVERY_S = 3600.0  # so only the local write can trigger the re-check
    assert lex.search("Sudan", 5) == [] and len(dense.search(embedder.encode_query("Sudan"), 5)) == 1
    put(store, embedder, SUDAN)
    assert [i for i, _ in lex.search("Sudan", 5)] == [f"{SUDAN.id}::0"]
    assert dense.search(embedder.encode_query("money for Sudan"), 1)[0][0] == f"{SUDAN.id}::0"
