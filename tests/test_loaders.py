"""Loaders on real corpus files and tiny written ones; bad files fail with BrokenFile/UnsupportedFile only."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loaders import (
    SUPPORTED_SUFFIXES,
    BrokenFile,
    UnsupportedFile,
    iter_release_files,
    load_bytes,
    load_file,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = CORPUS / "seed" / "china-central-asia-foreign-ministers-meeting.txt"
FEED = CORPUS / "state-dept" / "press-releases.rss"
WH_ESCAPES = (
    CORPUS / "whitehouse/statements-releases/2024-10/2024-10-29-readout-of-white-house-discussion-on-ai-and-"
    "advanced-software-solutions-to-accelerate-clean-energy-grid-integration.md"
)
GOLD = ROOT / "eval" / "gold" / "dev.yaml"
# The eval cites the quotes of dev and check-written, and the fit learns from train-written's; train.yaml is the shared
# file copied unchanged, and a few of its quotes keep Markdown emphasis that the cleaner strips (the fit matches quotes
# loosely for it).
GOLD_FILES = [GOLD, ROOT / "eval" / "gold" / "train-written.yaml", ROOT / "eval" / "gold" / "check-written.yaml"]


def collapse(text: str) -> str:
    return " ".join(text.split())


def assert_clean(text: str) -> None:
    """The conventions every offset relies on."""
    assert text == text.strip()
    assert "\xa0" not in text and "\u200b" not in text
    assert "\n\n\n" not in text
    assert all(p == collapse(p) and p for p in text.split("\n\n")), "one paragraph per blank line, no inner newlines"
    assert not re.search(r"\]\(https?:|\\[#*$_\[\]]|</?(sup|span|u|script|p|div)\b|&(amp|nbsp|#\d+);", text)


@pytest.fixture(scope="module")
def feed_releases():
    return load_file(FEED)


# --- real corpus files ---------------------------------------------------------------------------


def test_seed_txt_chrome_removed_date_source():
    [r] = load_file(SEED)
    assert "px" not in r.text and "↺" not in r.text and not r.text.startswith("date")
    assert r.published == date(2025, 4, 26)
    assert "Xinhua" in r.source and r.source == "News.az citing Xinhua"
    assert "and Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting." in r.text
    assert "News.az reports citing Xinhua" in r.text  # the attribution sentence stays in the text
    assert r.title == "China Central Asia Foreign Ministers Meeting"
    assert r.origin == str(SEED) and r.url is None and r.id.startswith("sha256:")
    assert_clean(r.text)


def test_whitehouse_markdown_escapes_links_and_nbsp_cleaned():
    raw = WH_ESCAPES.read_text(encoding="utf-8")
    assert "\\###" in raw and "\xa0" in raw and "](https://" in raw
    [r] = load_file(WH_ESCAPES)
    assert_clean(r.text)
    assert r.text.endswith("\n\n###")
    assert r.title == (
        "Readout of White House Discussion on AI and Advanced Software Solutions to Accelerate Clean Energy Grid Integration"
    )
    assert r.published == date(2024, 10, 29)
    assert r.source == "The White House"
    assert r.url.startswith("https://bidenwhitehouse.archives.gov/briefing-room/statements-releases/2024/10/29/")
    assert r.id == r.url
    # link text kept, wrapped lines joined, the nbsp between words now a space
    assert "Today, the White House Task Force on AI Datacenter Infrastructure convened experts" in r.text
    assert "DOE also highlighted an investment announced earlier this month to help" in r.text
    assert "waiting in “interconnection queues,” situations" in r.text  # typographic quotes kept


def test_whitehouse_inline_html_and_numbered_paragraphs(tmp_path):
    sup = next(p for p in sorted((CORPUS / "whitehouse").rglob("*.md")) if "<sup>" in p.read_text(encoding="utf-8"))
    [r] = load_file(sup)
    assert "<sup>" not in r.text and "</sup>" not in r.text
    assert_clean(r.text)
    eu = CORPUS / "whitehouse/statements-releases/2023-10/2023-10-20-u-s-eu-summit-joint-statement.md"
    [r] = load_file(eu)
    assert "\n\n2. We condemn in the strongest possible terms Hamas" in r.text


def test_rss_script_descriptions_and_fields(feed_releases):
    assert len(feed_releases) == 2031
    raw = FEED.read_text(encoding="utf-8")
    assert "<description><![CDATA[\t\t<script" in raw
    first = feed_releases[0]
    assert first.title == "Art in Embassies Announces New Temporary Exhibitions for Chief of Mission Residences"
    assert first.url == "https://www.state.gov/art-in-embassies-announces-new-temporary-exhibitions-for-chief-of-mission-residences/"
    assert first.published == date(2022, 8, 3)
    assert first.source == "Office of the Spokesperson"
    assert first.origin == f"{FEED}#item-1"
    assert feed_releases[-1].origin == f"{FEED}#item-2031"
    for r in feed_releases:
        assert "jQuery" not in r.text and "document.addEventListener" not in r.text, r.origin
        assert r.text and r.title and r.url and r.published
    assert_clean(first.text)
    assert len({r.origin for r in feed_releases}) == 2031


def test_feed_loads_in_a_few_seconds():
    start = time.perf_counter()
    releases = load_file(FEED)
    elapsed = time.perf_counter() - start
    assert len(releases) == 2031
    assert elapsed < 15, f"24 MB feed took {elapsed:.1f}s"  # ~2 s on an idle core; margin for a shared machine


@pytest.mark.parametrize("gold", GOLD_FILES, ids=lambda p: p.name)
def test_every_gold_evidence_quote_is_in_its_cleaned_release(feed_releases, gold):
    """The answer chain quotes Release.text, so each gold quote must survive cleaning verbatim."""
    by_url = {r.url: r for r in feed_releases}
    cache: dict[str, str] = {}
    checked = 0
    for record in yaml.safe_load(gold.read_text(encoding="utf-8")):
        if not record.get("source"):
            continue
        sources = record["source"] if isinstance(record["source"], list) else [record["source"]]
        quotes = record["evidence"] if isinstance(record["evidence"], list) else [record["evidence"]]
        urls = record.get("source_url")
        urls = urls if isinstance(urls, list) else [urls] * len(sources)
        for source, quote, url in zip(sources, quotes, urls, strict=True):
            if source.endswith(".rss"):
                text = by_url[url].text
            else:
                if source not in cache:
                    [release] = load_file(CORPUS / source)
                    assert url is None or release.url == url
                    cache[source] = release.text
                text = cache[source]
            assert collapse(quote) in collapse(text), f"{record['id']}: {quote[:80]}…"
            checked += 1
    assert checked >= 45


def test_iter_release_files_recurses_sorted_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "b" / "2.md").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "c.png").write_bytes(b"x")
    missing = tmp_path / "missing.txt"
    got = list(iter_release_files([tmp_path, missing]))
    assert got == [tmp_path / "a.txt", tmp_path / "c.png", tmp_path / "b" / "2.md", missing]
    with pytest.raises(BrokenFile, match="no such file"):
        load_file(missing)
    with pytest.raises(UnsupportedFile, match=r"\.png is not a supported type"):
        load_file(tmp_path / "c.png")


def test_whitehouse_folder_all_load():
    files = [p for p in iter_release_files([CORPUS / "whitehouse"]) if p.suffix == ".md"]
    assert len(files) == 1552
    for path in files[::40]:  # a sample: the gold test and the bench cover the rest
        [r] = load_file(path)
        assert r.source == "The White House" and r.published and r.url and r.title
        assert_clean(r.text)


# --- formats on tiny written files ------------------------------------------------------------------


def test_txt_headline_and_dateline(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("Ministers Meet In Beijing\n\nBEIJING, April 26 (Xinhua) -- Ministers met\nhere on Saturday.\n\n\n\nSecond\u00a0paragraph.  \n")
    [r] = load_file(path)
    assert r.title == "Ministers Meet In Beijing"
    assert r.text == "BEIJING, April 26 (Xinhua) -- Ministers met here on Saturday.\n\nSecond paragraph."
    assert r.place == "Beijing" and r.source == "Xinhua"
    path.write_text("WASHINGTON — The Secretary spoke today.\n")
    [r] = load_file(path)
    assert r.place == "Washington" and r.title == "X"
    path.write_bytes(b"Title: Hello World\r\nDate: 2024-03-01\r\nSource: Me\r\n\r\nBody line\r\nmore.\r\n")
    [r] = load_file(path)
    assert (r.title, r.published, r.source, r.text) == ("Hello World", date(2024, 3, 1), "Me", "Body line more.")


def test_html_page(tmp_path):
    page = """<!doctype html><html><head><meta charset="utf-8"><title>Ignored | Site</title>
    <meta property="og:title" content="Minister&nbsp;visits Oslo">
    <meta property="article:published_time" content="2024-05-03T10:00:00Z">
    <link rel="canonical" href="https://example.org/r/1"><meta property="og:site_name" content="Example Ministry">
    <style>p{color:red}</style><script>var jQuery = 1;</script></head>
    <body><header>Menu Home</header><nav><a href="/">Home</a></nav>
    <main><h1>Minister&nbsp;visits Oslo</h1><p>OSLO &mdash; The minister
    arrived <b>today</b>.<sup>1</sup></p><p>Second&nbsp;para<br>same para.<br><br>New para.</p>
    <ol start="3"><li>Third</li><li>Fourth</li></ol></main><aside>Related</aside><footer>(c) 2024</footer>
    </body></html>"""
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    [r] = load_file(path)
    assert r.title == "Minister visits Oslo"
    assert r.text == "OSLO — The minister arrived today.1\n\nSecond para same para.\n\nNew para.\n\n3. Third\n\n4. Fourth"
    assert (r.published, r.url, r.source, r.place) == (date(2024, 5, 3), "https://example.org/r/1", "Example Ministry", "Oslo")


def test_html_declared_encoding_honoured(tmp_path):
    path = tmp_path / "latin.htm"
    path.write_bytes('<html><head><meta charset="iso-8859-1"><title>Café</title></head><body><p>Crème brûlée</p></body></html>'.encode("latin-1"))
    [r] = load_file(path)
    assert (r.title, r.text) == ("Café", "Crème brûlée")


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ministry feed</title>
<entry><title>First &amp; foremost</title><link rel="alternate" href="https://ex.org/a1"/>
<published>2024-02-01T09:00:00+01:00</published><author><name>Press Office</name></author>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>First para.</p><p>Second <em>para</em>.</p></div></content></entry>
<entry><title>Plain</title><link href="https://ex.org/a2"/><updated>2024-02-02T00:00:00Z</updated>
<summary type="html">&lt;script&gt;jQuery()&lt;/script&gt;&lt;p&gt;Just a summary.&lt;/p&gt;</summary></entry></feed>"""


def test_atom_feed(tmp_path):
    path = tmp_path / "f.atom"
    path.write_text(ATOM, encoding="utf-8")
    a, b = load_file(path)
    assert (a.title, a.text, a.url, a.published, a.source) == (
        "First & foremost", "First para.\n\nSecond para.", "https://ex.org/a1", date(2024, 2, 1), "Press Office")
    assert (b.text, b.source, b.published, b.origin) == ("Just a summary.", "Ministry feed", date(2024, 2, 2), f"{path}#item-2")


def test_rss_content_encoded_preferred_and_channel_fallback(tmp_path):
    rss = """<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
    <channel><title>Embassy News</title><item><title>T</title><link>https://e.org/1</link>
    <pubDate>Tue, 10 Aug 2021 14:00:00 -0400</pubDate><description>short</description>
    <content:encoded><![CDATA[<script>jQuery()</script><p>Full&nbsp;body.</p>]]></content:encoded></item></channel></rss>"""
    [r] = load_bytes("news.xml", rss.encode())
    assert (r.text, r.source, r.published, r.origin) == ("Full body.", "Embassy News", date(2021, 8, 10), "news.xml#item-1")


def test_json_and_jsonl(tmp_path):
    records = {"releases": [
        {"title": "T1", "date": "2024-01-05", "body": "Para one\nwrapped.\n\nPara two.", "url": "https://x/1", "source": "S"},
        {"title": "T2", "text": "<p>Hi &amp; bye</p>"},
    ]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(records))
    a, b = load_file(path)
    assert (a.title, a.text, a.published, a.url, a.source) == ("T1", "Para one wrapped.\n\nPara two.", date(2024, 1, 5), "https://x/1", "S")
    assert (b.text, b.origin) == ("Hi & bye", f"{path}#record-2")
    [single] = load_bytes("one.json", json.dumps({"title": "Solo", "text": "Body."}).encode())
    assert (single.title, single.origin) == ("Solo", "one.json")
    lines = load_bytes("r.jsonl", b'{"title": "A", "body": "x y"}\n\n{"title": "B", "text": "z"}\n')
    assert [(r.title, r.text, r.origin) for r in lines] == [("A", "x y", "r.jsonl#line-1"), ("B", "z", "r.jsonl#line-3")]


# --- bad files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("empty.txt", b"", BrokenFile, "empty file"),
        ("blank.md", b"  \n\t\n", BrokenFile, "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", BrokenFile, "binary"),
        ("binary.rss", b"\x00\x01\x02<rss>", BrokenFile, "binary"),
        ("cut.rss", FEED.read_bytes()[:5000], BrokenFile, r"invalid XML at line \d+, column \d+"),
        ("cut.atom", ATOM.encode()[:300], BrokenFile, "invalid XML"),
        ("latin.rss", '<?xml version="1.0" encoding="utf-8"?><rss><channel><title>Café</title></channel></rss>'.encode("latin-1"), BrokenFile, "invalid XML"),
        ("image.png", b"\x89PNG", UnsupportedFile, r"^\.png is not a supported type$"),
        ("README", b"hello", UnsupportedFile, "without a suffix"),
        ("garbage.md", b"---\ntitle: [unclosed\ndate: 2024-01-01\n---\nBody.", BrokenFile, "invalid YAML front matter at line"),
        ("baddate.md", b"---\ndate: 2024-13-45\n---\nBody.", BrokenFile, "invalid YAML front matter"),
        ("list.md", b"---\n- a\n- b\n---\nBody.", BrokenFile, "not a mapping"),
        ("open.md", b"---\ntitle: x\nBody never closed.", BrokenFile, "never closed"),
        ("nobody.md", b"---\ntitle: x\n---\n\n", BrokenFile, "no body text"),
        ("nobody.json", b'[{"title": "ok", "body": "fine"}, {"title": "no body"}]', BrokenFile, "record 2: no body text"),
        ("bad.jsonl", b'{"body": "a"}\n{"body": \n', BrokenFile, "line 2: invalid JSON"),
        ("deep.json", b"[" * 100_000, BrokenFile, "invalid JSON"),
        ("scalar.json", b"42", BrokenFile, "not release records"),
        ("sitemap.xml", b"<urlset><url/></urlset>", UnsupportedFile, "not an RSS or Atom feed"),
        ("sitemap.rss", b"<urlset><url/></urlset>", BrokenFile, "not an RSS or Atom feed"),
        ("bogus.html", b'<meta charset="bogus"><p>x</p>', BrokenFile, "unknown declared encoding"),
        ("script.html", b"<html><body><script>jQuery()</script></body></html>", BrokenFile, "no text"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, name, data, error, message):
    with pytest.raises(error, match=message):
        load_bytes(name, data)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(error, match=message):
        load_file(path)


def test_file_over_limit_is_rejected_without_reading(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024 + 1)  # sparse: instant, no disk used
    start = time.perf_counter()
    with pytest.raises(BrokenFile, match=r"^file is 50\.0 MB, over the 50 MB limit$"):
        load_file(path)
    assert time.perf_counter() - start < 1
    with pytest.raises(BrokenFile, match="over the 1 MB limit"):
        load_bytes("up.txt", b"x" * (1024 * 1024 + 1), max_bytes=1024 * 1024)


def test_load_file_on_a_folder(tmp_path):
    folder = tmp_path / "looks.md"
    folder.mkdir()
    with pytest.raises(BrokenFile, match="folder"):
        load_file(folder)


# --- property: nothing but UnsupportedFile/BrokenFile ever escapes -----------------------------------

SAMPLES = {
    ".txt": SEED.read_bytes(),
    ".md": WH_ESCAPES.read_bytes(),
    ".html": b"<html><head><title>T</title></head><body><p>Hello &amp; <b>bye</b></p></body></html>",
    ".rss": FEED.read_bytes()[:6000] + b"</description></item></channel></rss>",
    ".atom": ATOM.encode(),
    ".json": b'[{"title": "T", "date": "2024-01-01", "body": "Text."}]',
    ".jsonl": b'{"title": "T", "body": "Text."}\n{"text": "More."}\n',
}
SAMPLES[".xml"] = SAMPLES[".rss"]
SAMPLES[".htm"] = SAMPLES[".html"]
SAMPLES[".markdown"] = SAMPLES[".md"]


@st.composite
def mangled(draw, suffix: str):
    sample = SAMPLES.get(suffix, b"abc")
    kind = draw(st.sampled_from(["random", "truncated", "spliced"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        return sample[: draw(st.integers(0, len(sample)))]
    cut = draw(st.integers(0, len(sample)))
    return sample[:cut] + draw(st.binary(max_size=40)) + sample[cut : cut + 400]


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES) + [".png"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_only_loader_errors_escape(suffix, data):
    payload = data.draw(mangled(suffix))
    try:
        releases = load_bytes(f"upload{suffix}", payload)
    except (UnsupportedFile, BrokenFile) as e:
        assert str(e)
        return
    for r in releases:
        assert r.text and r.title
        assert r.text == r.text.strip() and "\n\n\n" not in r.text and "\xa0" not in r.text
