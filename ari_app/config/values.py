"""Parsers for the small value languages inside the YAML: time ranges, dates and day rules."""

from __future__ import annotations

import calendar
import itertools
import re
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(\+1)?\s*$")
_RULE = re.compile(
    r"^\s*(first|second|third|fourth|fifth|last)\s+(\w+)\s+of\s+(\w+)\s*$", re.IGNORECASE
)
_ANNUAL = re.compile(r"^(\d{2})-(\d{2})$")
_ONCE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """Opening hours of one day, in minutes after local midnight.

    ``end`` may pass 1440 for a range that runs past midnight ("22:00-02:00+1").
    """

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        """True when the range ends on the next day."""
        return self.end > MINUTES_PER_DAY

    def __str__(self) -> str:
        if self.overnight:
            return f"{fmt_minutes(self.start)}-{fmt_minutes(self.end - MINUTES_PER_DAY)}+1"
        return f"{fmt_minutes(self.start)}-{fmt_minutes(self.end)}"


def fmt_minutes(minutes: int) -> str:
    """540 -> ``09:00``; 1440 -> ``24:00``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_to_time(minutes: int) -> time:
    """Minutes after midnight (0..1439) as a ``time``."""
    return time(minutes // 60, minutes % 60)


def parse_time_range(text: object) -> TimeRange:
    """Parse ``"08:00-12:30"`` or ``"22:00-02:00+1"``; raise ValueError with a readable reason."""
    if isinstance(text, TimeRange):
        return text
    if not isinstance(text, str):
        raise ValueError(f'a time range must be text like "08:00-12:30" (in quotes), got {text!r}')
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f'cannot read time range {text!r}; write it like "08:00-12:30"')
    h1, m1, h2, m2, next_day = match.groups()
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    for hour, minute in ((int(h1), int(m1)), (int(h2), int(m2))):
        if minute > 59 or hour > 24 or (hour == 24 and minute):
            raise ValueError(f"{text!r} has an impossible time of day")
    if start >= MINUTES_PER_DAY:
        raise ValueError(f"{text!r} starts at 24:00; start at 00:00 of the next day instead")
    if next_day:
        if end >= start:
            raise ValueError(f"{text!r} is marked +1 (next day) but ends after it starts")
        end += MINUTES_PER_DAY
    elif end <= start:
        raise ValueError(
            f"{text!r} ends before it starts; for a range past midnight write "
            f'"{fmt_minutes(start)}-{fmt_minutes(end)}+1"'
        )
    return TimeRange(start, end)


def check_no_overlap(ranges: list[TimeRange]) -> None:
    """Raise ValueError if any two ranges of one day overlap."""
    ordered = sorted(ranges)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"time ranges {before} and {after} overlap")


def parse_timezone(name: object) -> str:
    """Check an IANA time zone name such as ``America/New_York``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a time zone must be an IANA name like America/New_York, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like America/New_York"
        ) from None
    return name


@dataclass(frozen=True, slots=True)
class DateSpec:
    """A fixed date every year (``month``/``day``) or once (``year`` set)."""

    month: int
    day: int
    year: int | None = None

    def matches(self, day: date) -> bool:
        """True when ``day`` is this date."""
        return (
            day.month == self.month
            and day.day == self.day
            and (self.year is None or day.year == self.year)
        )


def parse_date_spec(text: object) -> DateSpec:
    """Parse ``"12-25"`` (every year) or ``"2026-12-24"`` (once)."""
    if isinstance(text, DateSpec):
        return text
    if isinstance(text, date):
        return DateSpec(text.month, text.day, text.year)
    if not isinstance(text, str):
        raise ValueError(f'a date must be "MM-DD" or "YYYY-MM-DD", got {text!r}')
    if match := _ANNUAL.match(text.strip()):
        month, day = int(match[1]), int(match[2])
        try:
            date(2024, month, day)  # a leap year, so 02-29 is allowed
        except ValueError:
            raise ValueError(f"{text!r} is not a day of the year") from None
        return DateSpec(month, day)
    if match := _ONCE.match(text.strip()):
        try:
            once = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
        return DateSpec(once.month, once.day, once.year)
    raise ValueError(f'cannot read date {text!r}; write "MM-DD" (every year) or "YYYY-MM-DD"')


@dataclass(frozen=True, slots=True)
class DayRule:
    """A date given by a rule such as "fourth thursday of november"."""

    ordinal: int
    """1..5 for first..fifth, -1 for last."""
    weekday: int
    """0 = Monday."""
    month: int
    """1..12."""

    def date_in(self, year: int) -> date | None:
        """The date the rule names in ``year``, or None (e.g. no fifth Monday)."""
        days = [
            week[self.weekday]
            for week in calendar.Calendar().monthdatescalendar(year, self.month)
            if week[self.weekday].month == self.month
        ]
        if self.ordinal == -1:
            return days[-1]
        return days[self.ordinal - 1] if self.ordinal <= len(days) else None

    def matches(self, day: date) -> bool:
        """True when ``day`` is the date the rule names in its year."""
        return day.month == self.month and self.date_in(day.year) == day


def parse_day_rule(text: object) -> DayRule:
    """Parse ``"fourth thursday of november"`` or ``"last monday of may"``."""
    if isinstance(text, DayRule):
        return text
    match = _RULE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f'cannot read rule {text!r}; write it like "fourth thursday of november"')
    ordinal, weekday, month = (g.lower() for g in match.groups())
    if weekday not in WEEKDAYS:
        raise ValueError(f"{weekday!r} is not a weekday (monday … sunday)")
    if month not in MONTHS:
        raise ValueError(f"{month!r} is not a month (january … december)")
    return DayRule(ORDINALS[ordinal], WEEKDAYS.index(weekday), MONTHS.index(month) + 1)
