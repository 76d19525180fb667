"""Loaders under hostile input, beyond test_loaders.py's random/truncated/spliced bytes: enormous lines, wrong
encodings, garbage front matter and odd date formats in every format. Only UnsupportedFile/BrokenFile may escape."""

import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loaders import BrokenFile, UnsupportedFile, load_bytes
from support import report_line

CASES = {"count": 0}
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BODY = "Président Kassym-Jomart Tokaïev met “délégués” in Astana — the talks lasted 3½ hours. Ça va: 北京 2025.\n\nSecond paragraph."

ODD_DATES = st.one_of(
    st.sampled_from(
        [
            "2024-02-30", "2024-13-45", "0000-00-00", "99999-01-01", "31/02/2024", "02/31/2024", "1e10", "-1",
            "Tuesday", "yesterday", "last week", "2024-01-01T25:61:61Z", "Mon, 32 Foo 2024 99:99:99 +9999",
            "Sat, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 +1400", "٢٠٢٤-٠١-٠١", "2024‐01‐01",
            "March 2024 or so", "12345678901234567890", "", " ", "null", "[]", "{}", "2024-01-01" * 20,
        ]
    ),
    st.text(max_size=40),
    st.from_regex(r"\A[0-9]{1,6}[-/. ][0-9]{1,4}[-/. ][0-9]{1,6}\Z"),
)


def count_and_load(name: str, payload: bytes) -> None:
    CASES["count"] += 1
    try:
        releases = load_bytes(name, payload)
    except (UnsupportedFile, BrokenFile) as exc:
        assert str(exc), f"{name}: an error without a reason"
        return
    for r in releases:
        assert r.text and r.title and r.id
        assert r.text == r.text.strip() and "\n\n\n" not in r.text and "\xa0" not in r.text
        assert r.published is None or isinstance(r.published, date)


def _xml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")


def with_date(suffix: str, when: str, body: str) -> str:
    """A release of each format whose date field holds `when`."""
    title = "Odd date release"
    if suffix == ".txt":
        return f"Title: {title}\nDate: {when}\n\n{body}"
    if suffix == ".md":
        return f"---\ntitle: {title}\ndate: {when}\n---\n{body}"
    if suffix == ".html":
        return f'<html><head><title>{title}</title><meta name="date" content="{_xml(when)}"></head><body><time datetime="{_xml(when)}">{_xml(when)}</time><p>{_xml(body)}</p></body></html>'
    if suffix == ".rss":
        return f"<rss><channel><title>F</title><item><title>{title}</title><pubDate>{_xml(when)}</pubDate><description>{_xml(body)}</description></item></channel></rss>"
    if suffix == ".atom":
        return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><title>{title}</title><updated>{_xml(when)}</updated><content>{_xml(body)}</content></entry></feed>'
    import json

    record = {"title": title, "date": when, "body": body}
    return json.dumps([record]) if suffix == ".json" else json.dumps(record) + "\n"


FORMATS = [".txt", ".md", ".html", ".rss", ".atom", ".json", ".jsonl"]


@pytest.mark.parametrize("suffix", FORMATS)
@FUZZ
@given(when=ODD_DATES)
def test_odd_dates_never_break_a_loader(suffix, when):
    count_and_load(f"release{suffix}", with_date(suffix, when, BODY).encode("utf-8"))


GARBAGE_FRONT_MATTER = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["title:", "date: [", "- a", ": :", "!!python/object:os.system", "&a [*a, *a]", "*a", "? x",
                              "title: {", "\t", "%YAML 9.9", "---", "...", "date: !!timestamp nope", "<<: *x", "'\"", "|", ">-"]),
             max_size=12).map("\n".join),
)


@FUZZ
@given(head=GARBAGE_FRONT_MATTER, body=st.text(max_size=200))
def test_garbage_front_matter(head, body):
    count_and_load("release.md", f"---\n{head}\n---\n{body}\n".encode("utf-8", "surrogatepass"))


ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "koi8-r", "utf-8-sig", "cp037"]


@pytest.mark.parametrize("suffix", FORMATS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encoding=st.sampled_from(ENCODINGS), declared=st.sampled_from(["utf-8", "latin-1", "utf-16", "shift_jis", "bogus-enc", None]))
def test_wrong_encodings(suffix, encoding, declared):
    text = with_date(suffix, "2024-05-06", BODY)
    if declared and suffix in (".rss", ".atom"):
        text = f'<?xml version="1.0" encoding="{declared}"?>' + text
    if declared and suffix == ".html":
        text = text.replace("<head>", f'<head><meta charset="{declared}">')
    count_and_load(f"release{suffix}", text.encode(encoding, "replace"))


@pytest.mark.parametrize("suffix", FORMATS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    size=st.integers(50_000, 400_000),
    char=st.sampled_from(["a", " ", "<", "&", "-", ".", "é", "\t", "a.b ", "[x](", "*", "\x00"]),
    where=st.sampled_from(["title", "body", "date"]),
)
def test_enormous_lines_load_or_fail_in_bounded_time(suffix, size, char, where):
    line = (char * (size // len(char)))[:size]
    title, when, body = "T", "2024-01-01", BODY
    if where == "title":
        title = line
    elif where == "date":
        when = line
    else:
        body = BODY.replace("\n\n", " " + line + "\n\n")
    text = with_date(suffix, when, body).replace("Odd date release", title.replace("\n", " "))
    started = time.perf_counter()
    count_and_load(f"release{suffix}", text.encode("utf-8"))
    # Linear-time cleaning: a 400 kB line must not trigger regex backtracking for minutes.
    assert time.perf_counter() - started < 20


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    yield
    report_line(request, f"\nloader fuzz: {CASES['count']} inputs tried, only UnsupportedFile/BrokenFile raised")
