"""Issue 14 item 7: the same text under a new file name is not "updated" and does not retitle the release.

A release without a URL is keyed on its text and, without a title line, titled from its file name. Re-uploading
it as another name used to count as updated and rename it; now only a real change of text or metadata does,
and a title the name alone would change is reported in `titles_kept`.
"""

import httpx

from real_serve import start_serve, stop, wait_ready

# Made-up release, no URL and no title line: the id comes from the text, the title from the file name.
BODY = (
    "The Quillmore Harbour Authority opened its third tidal lock on Tuesday.\n\n"
    "Harbourmaster Odile Venkataraman said the lock will shorten waiting times for barges by half.\n"
)


def upload(url: str, name: str, body: str) -> dict:
    response = httpx.post(f"{url}/api/releases", files={"files": (name, body.encode(), "text/plain")}, timeout=180)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_renamed_upload_is_unchanged_and_keeps_its_title_real_serve(tmp_path):
    served = start_serve(tmp_path / "data", tmp_path / "serve.log")
    try:
        wait_ready(served)
        first = upload(served.url, "quillmore-tidal-lock.txt", BODY)
        assert first["added"] == 1, first
        (item,) = httpx.get(f"{served.url}/api/releases").json()["items"]
        assert item["title"] == "Quillmore Tidal Lock"

        again = upload(served.url, "totally-different-name.txt", BODY)
        assert again["updated"] == 0 and again["unchanged"] == 1 and again["added"] == 0, again
        assert again["titles_kept"] == [
            {"id": item["id"], "path": "totally-different-name.txt", "title": "Quillmore Tidal Lock", "name_title": "Totally Different Name"}
        ]
        (after,) = httpx.get(f"{served.url}/api/releases").json()["items"]
        assert after["title"] == "Quillmore Tidal Lock"

        # A title the file states is metadata: changing it is an update.
        retitled = upload(served.url, "whatever.txt", "Title: Quillmore opens a third tidal lock\n\n" + BODY)
        assert retitled["updated"] == 1 and retitled["titles_kept"] == [], retitled
        (last,) = httpx.get(f"{served.url}/api/releases").json()["items"]
        assert last["title"] == "Quillmore opens a third tidal lock"
        # The same text with its title line again, under yet another name: unchanged, nothing to report.
        same = upload(served.url, "other.txt", "Title: Quillmore opens a third tidal lock\n\n" + BODY)
        assert same["unchanged"] == 1 and same["updated"] == 0 and same["titles_kept"] == [], same
    finally:
        stop(served)


def test_indexer_keeps_the_stored_title_for_a_renamed_file(tmp_path, store, embedder):
    from ingest.loaders import load_bytes
    from ingest.pipeline import Indexer

    indexer = Indexer(store, embedder)
    assert indexer.ingest_releases(load_bytes("quillmore-tidal-lock.txt", BODY.encode())).added == 1
    summary = indexer.ingest_releases(load_bytes("renamed.txt", BODY.encode()))
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 1)
    assert [k["name_title"] for k in summary.titles_kept] == ["Renamed"]
    changed = indexer.ingest_releases(load_bytes("renamed.txt", (BODY + "\nIt cost 40 million.\n").encode()))
    assert changed.added == 1  # new text, new id (no URL): a new release, not a silent overwrite
