"""Publication times: parsed to UTC with a precision, or flagged; never an exception."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wiretrace.timestamps import parse_timestamp

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def consistent(ts) -> None:
    """A usable time has a precision; an unusable one says why."""
    if ts.utc is None:
        assert ts.precision == "none"
        assert ts.problem
    else:
        assert ts.precision in ("second", "minute", "day")
        assert ts.utc.tzinfo is not None and ts.utc.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value, expected, precision",
    [
        ("2026-03-14T09:15:30+03:00", utc(2026, 3, 14, 6, 15, 30), "second"),
        ("2026-03-14T03:10:00-05:00", utc(2026, 3, 14, 8, 10), "second"),
        ("2026-03-14T08:45Z", utc(2026, 3, 14, 8, 45), "minute"),
        ("2026-03-14T23:30:00.250000+05:30", utc(2026, 3, 14, 18, 0, 0, 250000), "second"),
        ("Sat, 14 Mar 2026 08:00:00 GMT", utc(2026, 3, 14, 8, 0), "second"),
        ("2026-03-14", utc(2026, 3, 14), "day"),
        ("May 29, 2017", utc(2017, 5, 29), "day"),
        ("29 May 2017", utc(2017, 5, 29), "day"),
    ],
)
def test_parse_known_formats(value, expected, precision):
    ts = parse_timestamp(value, now=NOW)
    assert ts.utc == expected
    assert ts.precision == precision
    assert ts.problem is None


def test_local_time_without_zone_is_taken_as_utc_and_flagged():
    ts = parse_timestamp("2026-03-14 08:00", now=NOW)
    assert ts.utc == utc(2026, 3, 14, 8, 0)
    assert ts.precision == "minute"
    assert "zone" in ts.problem


def test_unix_seconds():
    ts = parse_timestamp("1489480000", now=NOW)
    assert ts.utc == utc(2017, 3, 14, 8, 26, 40)
    assert parse_timestamp("1489480000.5", now=NOW).utc == utc(2017, 3, 14, 8, 26, 40, 500000)


def test_unix_seconds_have_second_precision():
    assert parse_timestamp("1489480000", now=NOW).precision == "second"


@pytest.mark.parametrize("value", [None, "", "   ", "\n"])
def test_missing(value):
    ts = parse_timestamp(value, now=NOW)
    assert (ts.utc, ts.precision) == (None, "none")
    assert ts.problem


@pytest.mark.parametrize(
    "value",
    ["garbage", "n/a", "TBD", "1e10", "March 32, 2017", "2017-05-29T25:00:00", "0000-01-01"],
)
def test_garbage_is_flagged_not_raised(value):
    ts = parse_timestamp(value, now=NOW)
    assert (ts.utc, ts.precision) == (None, "none")
    assert value[:10] in ts.problem


@pytest.mark.parametrize("value", ["2026-06-02T00:00:00Z", "2999-01-01", "99999999999"])
def test_future_dates_are_flagged(value):
    ts = parse_timestamp(value, now=NOW)
    assert (ts.utc, ts.precision) == (None, "none")
    assert "future" in ts.problem


def test_future_is_relative_to_now():
    assert parse_timestamp("2026-05-31", now=NOW).utc == utc(2026, 5, 31)
    assert parse_timestamp("2026-05-31", now=utc(2026, 5, 1)).utc is None


@pytest.mark.parametrize("value", ["1066-10-14", "1066", "October 14, 1066", "1799-12-31"])
def test_implausibly_old_dates_are_flagged(value):
    ts = parse_timestamp(value, now=NOW)
    assert (ts.utc, ts.precision) == (None, "none")
    assert ts.problem


def test_non_string_values_do_not_raise():
    consistent(parse_timestamp(1489480000, now=NOW))  # type: ignore[arg-type]
    consistent(parse_timestamp(12.5, now=NOW))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["2026-03-14T08:00:00+25:00", "2026-03-14 08:00 +2400"])
def test_out_of_range_offset_does_not_raise(value):
    consistent(parse_timestamp(value, now=NOW))


@pytest.mark.parametrize("value", ["1", "-1", "January 1"])
def test_value_without_a_year_is_refused_or_flagged(value):
    # dateutil fills in from the machine's local date; "now" two days ahead keeps the filled-in
    # date out of the future on any day and in any time zone the test runs
    ts = parse_timestamp(value, now=datetime.now(timezone.utc) + timedelta(days=2))
    assert ts.utc is None or ts.problem


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2026, 1, 1),
        timezones=st.sampled_from(
            [timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_iso_round_trip(moment):
    ts = parse_timestamp(moment.isoformat(), now=NOW)
    assert ts.utc == moment
    assert ts.precision == "second"
    assert ts.problem is None


@given(st.text(alphabet=st.characters(categories=["L", "P", "Zs"])))
def test_words_never_raise(value):
    consistent(parse_timestamp(value, now=NOW))
