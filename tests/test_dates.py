"""Dates named in questions become published-date windows."""

from datetime import date

import pytest

from service.dates import find_date_range, parse_date


@pytest.mark.parametrize(
    "question, since, until",
    [
        ("What happened on the June 2021 call?", date(2021, 6, 1), date(2021, 7, 2)),
        ("Who met in April 2025?", date(2025, 4, 1), date(2025, 5, 2)),
        ("In Biden's March 30, 2022 call, what was said?", date(2022, 3, 30), date(2022, 4, 1)),
        ("At the late-October 2021 meetings?", date(2021, 10, 20), date(2021, 11, 2)),
        ("Released 2022-01-31?", date(2022, 1, 31), date(2022, 2, 2)),
    ],
)
def test_explicit_dates(question, since, until):
    window = find_date_range(question)
    assert window is not None
    assert (window.since, window.until) == (since, until)


def test_relative_dates_anchor_on_newest_release():
    window = find_date_range("What did last week's readout say?", newest=date(2022, 8, 3))
    assert (window.since, window.until) == (date(2022, 7, 27), date(2022, 8, 3))
    assert find_date_range("What did last week's readout say?") is None


def test_no_date():
    assert find_date_range("Who represented Turkmenistan?") is None


def test_parse_date():
    assert parse_date("2021-06-01") == date(2021, 6, 1)
    assert parse_date("June 5, 2021") == date(2021, 6, 5)
    with pytest.raises(ValueError):
        parse_date("not a date at all qq")


def test_newest_release_is_looked_up_only_for_relative_dates():
    calls = []

    def newest():
        calls.append(1)
        return date(2022, 8, 3)

    assert find_date_range("Who spoke in June 2021?", newest=newest).since == date(2021, 6, 1)
    assert find_date_range("Who represented Turkmenistan?", newest=newest) is None
    assert calls == []
    window = find_date_range("What did last week's readout say?", newest=newest)
    assert (window.since, window.until, len(calls)) == (date(2022, 7, 27), date(2022, 8, 3), 1)
