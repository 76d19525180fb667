"""Dates named in a question ("in June 2021", "March 30, 2022", "last week") as a published-date range."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
_MONTH_RE = "(" + "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True)) + r")\.?"
_PART_RE = r"(?:(early|mid|late)[- ])?"

_FULL_DATE = re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH_RE}\s+(\d{{4}})\b", re.I)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_YEAR = re.compile(rf"\b{_PART_RE}{_MONTH_RE},?\s+(\d{{4}})\b", re.I)
_YEAR = re.compile(r"\b(?:in|during|of|since)\s+((?:19|20)\d{2})\b", re.I)
_RELATIVE = re.compile(r"\b(last|this|past|previous)\s+(week|month|year)('s)?\b|\b(yesterday|today)('s)?\b", re.I)

# Releases are usually published the day of the event, sometimes a day or two later.
PUBLISH_LAG = timedelta(days=2)


@dataclass(frozen=True)
class DateRange:
    since: date
    until: date
    text: str  # the words of the question that named it

    def widened(self) -> "DateRange":
        return DateRange(self.since, self.until + PUBLISH_LAG, self.text)


def _month_range(year: int, month: int, part: str | None) -> tuple[date, date]:
    last = calendar.monthrange(year, month)[1]
    first_day, last_day = 1, last
    if part:
        part = part.lower()
        if part == "early":
            last_day = 10
        elif part == "mid":
            first_day, last_day = 10, 20
        elif part == "late":
            first_day = 20
    return date(year, month, first_day), date(year, month, last_day)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date_range(question: str, newest: date | Callable[[], date | None] | None = None) -> DateRange | None:
    """The published-date window a question restricts itself to, or None when it names no date.

    `newest` anchors relative phrases ("last week's readout") to the newest indexed release, not to today;
    a callable is called only for such a phrase (finding the newest release reads every release's metadata).
    """
    for match in _FULL_DATE.finditer(question):
        d = _safe_date(int(match.group(3)), MONTHS[match.group(1).lower()], int(match.group(2)))
        if d:
            return DateRange(d, d, match.group(0)).widened()
    for match in _DAY_MONTH_YEAR.finditer(question):
        d = _safe_date(int(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
        if d:
            return DateRange(d, d, match.group(0)).widened()
    for match in _ISO_DATE.finditer(question):
        d = _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if d:
            return DateRange(d, d, match.group(0)).widened()
    for match in _MONTH_YEAR.finditer(question):
        since, until = _month_range(int(match.group(3)), MONTHS[match.group(2).lower()], match.group(1))
        return DateRange(since, until, match.group(0)).widened()
    match = _RELATIVE.search(question)
    if match and callable(newest):
        newest = newest()
    if match and newest is not None:
        unit = (match.group(2) or match.group(4) or "").lower()
        if unit in ("today", "yesterday"):
            day = newest if unit == "today" else newest - timedelta(days=1)
            return DateRange(day, day, match.group(0)).widened()
        span = {"week": 7, "month": 31, "year": 366}[unit]
        return DateRange(newest - timedelta(days=span), newest, match.group(0))
    match = _YEAR.search(question)
    if match:
        year = int(match.group(1))
        return DateRange(date(year, 1, 1), date(year, 12, 31), match.group(0)).widened()
    return None


def parse_date(value: str | date | None) -> date | None:
    """A user-given date (CLI/API --since/--until): ISO or anything dateparser understands."""
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    import dateparser

    parsed = dateparser.parse(value, settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False})
    if parsed is None:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return parsed.date()
