"""Publication times: parsed to UTC with their precision, or flagged, never a crash."""

from __future__ import annotations

import re
from datetime import datetime, timezone

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
    parsed = _parse(text)
    if parsed is None:
        return Timestamp(None, "none", f"unparseable publication time {text[:40]!r}")
    problem = None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
        problem = "no time zone; taken as UTC" if _HAS_TIME.search(text) else None
    utc = parsed.astimezone(timezone.utc)
    now = now or datetime.now(timezone.utc)
    if utc > now:
        return Timestamp(None, "none", f"publication time {text[:40]!r} is in the future")
    if utc < EARLIEST_PLAUSIBLE:
        return Timestamp(None, "none", f"publication time {text[:40]!r} is implausibly old")
    if _HAS_SECONDS.search(text):
        precision = "second"
    elif _HAS_TIME.search(text):
        precision = "minute"
    else:
        precision = "day"
    return Timestamp(utc, precision, problem)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):  # Unix seconds
        try:
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return date_parser.parse(text)
    except (ValueError, OverflowError, date_parser.ParserError):
        return None
