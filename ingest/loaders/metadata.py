"""Release metadata found in loose values and text: dates, datelines, attributions, publishers, titles."""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ingest.loaders.cleaning import clean_inline

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PUBLISHERS = {  # domain suffix → publisher, for releases whose files do not name one
    "whitehouse.gov": "The White House",
    "state.gov": "U.S. Department of State",
}


def parse_date(value: object) -> date | None:
    """A date from YAML/JSON values, ISO strings, RFC 822 feed dates or (last resort) free text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    s = value.strip()
    if not s or len(s) > 100:
        return None
    m = _ISO_DATE.match(s)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(s).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if not re.search(r"\d", s):
        return None
    import dateparser  # slow to import; only odd date strings need it

    try:
        parsed = dateparser.parse(s, settings={"RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": True})
    except Exception:  # dateparser raises assorted errors on junk; junk simply has no date
        return None
    return parsed.date() if parsed else None


# "WASHINGTON —", "BEIJING, April 26 (Xinhua) --", "NEW YORK, May 3, 2024 –"
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:, [A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)*?)?)"
    r"(?:, (?P<when>[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?))?"
    r"(?: \((?P<agency>[A-Z][\w .&-]{1,40})\))?"
    r" ?(?:—|–|--|-) "
)


def find_dateline(text: str) -> tuple[str | None, str | None]:
    """(place, agency) from a dateline opening the text, else (None, None)."""
    m = _DATELINE.match(text[:200])
    if not m:
        return None, None
    place = m["place"].rstrip(",")
    return place.title() if place.isupper() else place, m["agency"]


_NAME = r"[A-Z][\w.&'-]*(?: [A-Z][\w.&'-]*){0,4}"
_ATTRIBUTION = re.compile(rf"(?P<outlet>{_NAME}),? (?:reports|reported|said),? citing (?P<origin>{_NAME})")


def find_attribution(text: str) -> str | None:
    """'News.az reports citing Xinhua' → 'News.az citing Xinhua' (searched in the opening paragraphs)."""
    m = _ATTRIBUTION.search(text[:1500])
    if not m:
        return None
    return f"{m['outlet'].rstrip('.,')} citing {m['origin'].rstrip('.,')}"


def publisher_for_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for domain, publisher in _PUBLISHERS.items():
        if host == domain or host.endswith("." + domain) or host.endswith(domain.split(".")[0] + ".archives.gov"):
            return publisher
    return None


def title_from_name(name: str) -> str:
    """'china-central-asia-foreign-ministers-meeting.txt' → 'China Central Asia Foreign Ministers Meeting'."""
    stem = re.split(r"[\\/]", name)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    words = re.split(r"[-_\s]+", stem)
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words if w) or "Untitled"


def looks_like_headline(line: str) -> bool:
    """A short single line without closing sentence punctuation reads as a title."""
    line = clean_inline(line)
    return 0 < len(line) <= 200 and "\n" not in line and not line.endswith((".", ",", ";", ":")) and len(line.split()) >= 2


def title_from_text(text: str, limit: int = 100) -> str:
    """A stand-in title: the opening words of the text, cut at a word boundary."""
    first = text.split("\n", 1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"
