"""Real-world files on made-up content: legacy encodings are decoded and recorded, truncated feeds keep their
complete items, binary stays refused."""

import json

import pytest

from ingest.loaders import BrokenFile, PartialFile, load_bytes, load_file

LATIN_RELEASE = """Title: Café opens its doors in São Paulo
Date: 2024-03-05

SÃO PAULO — The Ministry of Culture opened the Café Modernista on Tuesday. Señor Müller, the curator, said
the café would host exhibitions from Curaçao and Besançon.

The project cost €2 million, according to the ministry.
"""

FEED_HEAD = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Ministry of Made-up Affairs</title>
"""
ITEM = """<item><title>Release {n}</title><link>https://example.gov/releases/{n}</link>
<pubDate>Tue, 0{n} Apr 2024 10:00:00 GMT</pubDate>
<description>&lt;p&gt;The ministry announced measure number {n} today. It takes effect at once.&lt;/p&gt;</description></item>
"""
FEED_TAIL = "</channel></rss>\n"


def feed(n_items: int) -> str:
    return FEED_HEAD + "".join(ITEM.format(n=n) for n in range(1, n_items + 1)) + FEED_TAIL


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_a_legacy_encoded_text_release_is_decoded_and_its_encoding_recorded(tmp_path, codec):
    path = tmp_path / "cafe.txt"
    text = LATIN_RELEASE if codec == "cp1252" else LATIN_RELEASE.replace("—", "-").replace("€2 million", "2 million euros")
    path.write_bytes(text.encode(codec))
    [release] = load_file(path)
    assert release.title == "Café opens its doors in São Paulo"
    assert "Señor Müller" in release.text and "Curaçao and Besançon" in release.text
    if codec == "cp1252":
        assert "€2 million" in release.text
    assert release.encoding == "cp1252"  # Latin-1 text is read as its superset, as browsers do


def test_legacy_markdown_and_html_are_decoded_too():
    [md] = load_bytes("cafe.md", "---\ntitle: Café\n---\nThe café in São Paulo opened on Tuesday.\n".encode("cp1252"))
    assert md.title == "Café" and "São Paulo" in md.text and md.encoding == "cp1252"
    [page] = load_bytes("cafe.html", "<html><head><title>Café</title></head><body><p>Crème brûlée in São Paulo.</p></body></html>".encode("cp1252"))
    assert "Crème brûlée in São Paulo." in page.text and page.encoding == "cp1252"


def test_utf8_files_record_utf8():
    [release] = load_bytes("cafe.txt", LATIN_RELEASE.encode("utf-8"))
    assert release.encoding == "utf-8" and "São Paulo" in release.title


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",  # NUL bytes
        bytes(range(1, 32)) * 40 + bytes(range(128, 256)) * 10,  # control bytes, no NUL
    ],
)
def test_binary_is_still_refused(data):
    with pytest.raises(BrokenFile, match="binary"):
        load_bytes("image.txt", data)


def cut_inside_item(n_items: int, cut_in: int) -> bytes:
    """The feed cut off inside item `cut_in` (in the middle of its description)."""
    data = feed(n_items).encode()
    start = data.index(f"<title>Release {cut_in}<".encode())
    return data[: data.index(b"measure number", start) + 10]


def test_a_feed_cut_mid_item_keeps_every_complete_item_and_reports_where_it_broke():
    with pytest.raises(PartialFile) as caught:
        load_bytes("ministry.rss", cut_inside_item(5, cut_in=4))
    kept = caught.value.releases
    assert [r.title for r in kept] == ["Release 1", "Release 2", "Release 3"]  # no half item 4
    assert all(r.text == f"The ministry announced measure number {i} today. It takes effect at once." for i, r in enumerate(kept, 1))
    assert [r.origin for r in kept] == [f"ministry.rss#item-{i}" for i in (1, 2, 3)]
    message = str(caught.value)
    assert "line 14, column" in message and "kept the 3 complete items" in message


def test_a_feed_cut_between_items_or_in_the_closing_tags_keeps_all_items():
    data = feed(3).encode()
    for cut in (data.index(b"</channel>") + 4, data.index(b"<item>", data.index(b"Release 3") - 200)):
        with pytest.raises(PartialFile) as caught:
            load_bytes("ministry.rss", data[:cut])
        titles = [r.title for r in caught.value.releases]
        assert titles == ["Release 1", "Release 2", "Release 3"][: len(titles)] and len(titles) >= 2


def test_a_truncated_atom_feed_keeps_its_complete_entries():
    entry = '<entry><title>Entry {n}</title><link href="https://example.gov/e/{n}"/><updated>2024-04-0{n}T10:00:00Z</updated><content type="html">&lt;p&gt;Body of entry {n}.&lt;/p&gt;</content></entry>\n'
    data = ('<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>\n' + "".join(entry.format(n=n) for n in (1, 2, 3))).encode()
    data = data[: data.index(b"Body of entry 3") + 4]
    with pytest.raises(PartialFile) as caught:
        load_bytes("f.atom", data)
    assert [r.title for r in caught.value.releases] == ["Entry 1", "Entry 2"]


def test_a_damaged_item_in_the_middle_is_dropped_and_the_rest_read_on():
    data = feed(4).replace("<title>Release 2</title>", "<title>Release 2 & co</title>").encode()
    with pytest.raises(PartialFile, match=r"invalid XML at line 6, column \d+") as caught:
        load_bytes("ministry.rss", data)
    assert [r.title for r in caught.value.releases] == ["Release 1", "Release 3", "Release 4"]


def test_a_feed_cut_before_any_complete_item_is_broken_not_partial():
    data = feed(2).encode()
    with pytest.raises(BrokenFile, match=r"invalid XML at line \d+, column \d+") as caught:
        load_bytes("ministry.rss", data[: data.index(b"measure number 1")])
    assert not isinstance(caught.value, PartialFile)


def test_a_whole_feed_is_not_partial():
    assert [r.title for r in load_bytes("ministry.rss", feed(3).encode())] == ["Release 1", "Release 2", "Release 3"]


def test_feeds_never_expand_entities_or_read_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>
<rss><channel><title>F</title><item><title>T</title><description>Leak: &x; end.</description></item></channel></rss>"""
    try:
        releases = load_bytes("x.rss", xxe.encode())
    except BrokenFile as e:
        releases = getattr(e, "releases", [])
    assert all("TOP SECRET" not in r.text for r in releases)


# --- through the pipeline and `pressqa ingest --json` ----------------------------------------------------------


def test_ingest_keeps_the_feeds_complete_items_records_the_encoding_and_reports_both(store, embedder, tmp_path):
    from ingest.pipeline import Indexer

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cafe.txt").write_bytes(LATIN_RELEASE.encode("cp1252"))
    (folder / "cut.rss").write_bytes(cut_inside_item(4, cut_in=3))
    summary = Indexer(store, embedder).ingest([folder])
    assert summary.added == 3  # the café release + items 1 and 2
    assert summary.encodings == [{"path": str(folder / "cafe.txt"), "encoding": "cp1252"}]
    [error] = summary.errors
    assert error["path"] == str(folder / "cut.rss") and "invalid XML at line" in error["error"]
    titles = sorted(m.title for m in store.list_releases())
    assert titles == ["Café opens its doors in São Paulo", "Release 1", "Release 2"]
    cafe = next(m for m in store.list_releases() if m.title.startswith("Café"))
    assert cafe.encoding == "cp1252"
    assert json.loads(summary.to_json())["encodings"][0]["encoding"] == "cp1252"
    # A second run: nothing rewritten, the break reported again, still no half item.
    again = Indexer(store, embedder).ingest([folder])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3) and len(again.errors) == 1
