"""Publication times: parsed to UTC with their precision, or flagged, never a crash."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

from dateutil import parser as date_parser

from .model import Timestamp

EARLIEST_PLAUSIBLE = datetime(1800, 1, 1, tzinfo=timezone.utc)
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
_HAS_SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")


def parse_timestamp(value: str | None, now: datetime | None = None) -> Timestamp:
    """Parse a publication time in any common format.

    A time without a zone is taken as UTC (and says so in ``problem``); a date in
    the future or before 1800 is flagged and not used.
    """
    if value is None or not str(value).strip():
        return Timestamp(None, "none", "no publication time")
    text = str(value).strip()
    parsed = _timestamp(text)
    if parsed.utc is not None and parsed.utc > (now or datetime.now(timezone.utc)):
        return Timestamp(None, "none", f"publication time {text[:40]!r} is in the future")
    return parsed


@lru_cache(maxsize=1 << 16)
def _timestamp(text: str) -> Timestamp:
    """``parse_timestamp`` but for the comparison with the present time, which changes.

    Cached: a run parses each article's time more than once (reading, lineage)."""
    parsed = _parse(text)
    if parsed is None:
        return Timestamp(None, "none", f"unparseable publication time {text[:40]!r}")
    if parsed is _NO_YEAR:
        return Timestamp(None, "none", f"publication time {text[:40]!r} has no year")
    problem = None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
        problem = "no time zone; taken as UTC" if _HAS_TIME.search(text) else None
    try:
        utc = parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return Timestamp(
            None, "none", f"publication time {text[:40]!r} has an impossible time zone"
        )
    if utc < EARLIEST_PLAUSIBLE:
        return Timestamp(None, "none", f"publication time {text[:40]!r} is implausibly old")
    if _HAS_SECONDS.search(text) or _UNIX.fullmatch(text):
        precision = "second"
    elif _HAS_TIME.search(text):
        precision = "minute"
    else:
        precision = "day"
    return Timestamp(utc, precision, problem)


_UNIX = re.compile(r"\d{9,11}(\.\d+)?")
_NO_YEAR = datetime(1, 1, 1)
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    if _UNIX.fullmatch(text):  # Unix seconds
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        first = date_parser.parse(text, default=_DEFAULT_A)
        second = date_parser.parse(text, default=_DEFAULT_B)
    except (ValueError, OverflowError, date_parser.ParserError):
        return None
    if first.year != second.year or first.month != second.month:
        return _NO_YEAR  # dateutil filled in the year or month from its default
    return first
