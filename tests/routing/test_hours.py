"""Open/closed, reasons and next opening for the sample line, holidays and DST days."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ari_app.config.models import WeeklyHours
from ari_app.config.values import parse_time_range
from ari_app.routing.hours import BusinessHours, spoken_time

NEW_YORK = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    """``2026-12-01T10:30`` in New York."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("moment", "is_open", "reason"),
    [
        ("2026-12-01T10:30", True, "open: Tuesday 08:00-12:30"),
        ("2026-12-01T12:30", False, "closed: between today's opening ranges"),  # lunch starts
        ("2026-12-01T13:29:59", False, "closed: between today's opening ranges"),
        ("2026-12-01T13:30", True, "open: Tuesday 13:30-18:00"),
        ("2026-12-01T07:59", False, "closed: not open yet today"),
        ("2026-12-01T23:30", False, "closed: after today's hours"),
        ("2026-12-04T14:59", True, "open: Friday 08:00-15:00"),
        ("2026-12-04T15:00", False, "closed: after today's hours"),
        ("2026-11-28T09:00", True, "open: Saturday 09:00-13:00"),
        ("2026-11-28T13:00", False, "closed: after today's hours"),
        ("2026-11-29T10:00", False, "closed: closed all day on Sundays"),
        ("2026-11-26T10:30", False, "closed: Thanksgiving"),
        ("2026-12-24T11:59", True, "open: Christmas Eve 08:00-12:00"),
        ("2026-12-24T12:00", False, "closed: outside Christmas Eve hours"),
        ("2026-12-25T10:30", False, "closed: Christmas Day"),
        ("2027-07-04T10:00", False, "closed: Independence Day"),
        ("2027-01-01T10:00", False, "closed: New Year's Day"),
    ],
)
def test_open_state(hours: BusinessHours, moment: str, is_open: bool, reason: str) -> None:
    state = hours.state_at(local(moment))
    assert (state.is_open, state.reason) == (is_open, reason)


@pytest.mark.parametrize(
    ("moment", "next_opening"),
    [
        ("2026-12-01T12:45", "2026-12-01T13:30"),  # lunch
        ("2026-12-01T23:30", "2026-12-02T08:00"),
        ("2026-11-25T19:00", "2026-11-27T08:00"),  # Thanksgiving is skipped
        ("2026-11-28T13:00", "2026-11-30T08:00"),  # Saturday afternoon -> Monday
        ("2026-12-24T12:30", "2026-12-28T08:00"),  # Christmas Eve afternoon -> after Boxing Day
        ("2026-12-23T19:00", "2026-12-24T08:00"),
    ],
)
def test_next_opening(hours: BusinessHours, moment: str, next_opening: str) -> None:
    assert hours.state_at(local(moment)).next_opening == local(next_opening)


def test_thanksgiving_rule_finds_fourth_thursday(hours: BusinessHours) -> None:
    assert hours.state_at(local("2026-11-26T10:00")).exception == "Thanksgiving"
    assert hours.state_at(local("2026-11-19T10:00")).is_open
    assert hours.state_at(local("2027-11-25T10:00")).exception == "Thanksgiving"


def test_closing_time(hours: BusinessHours) -> None:
    assert hours.state_at(local("2026-12-01T10:30")).closes_at == local("2026-12-01T12:30")


def test_weekend_before_spring_forward_opens_on_daylight_time(hours: BusinessHours) -> None:
    # Saturday 7 March 2026, EST; Monday 9 March opens at 08:00 EDT = 12:00 UTC.
    state = hours.state_at(local("2026-03-07T14:00"))
    assert state.next_opening == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert state.next_opening is not None
    assert state.next_opening.utcoffset() is not None
    assert state.next_opening.strftime("%H:%M %Z") == "08:00 EDT"


def test_weekend_before_fall_back_opens_on_standard_time(hours: BusinessHours) -> None:
    state = hours.state_at(local("2026-10-31T14:00"))
    assert state.next_opening == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


def _night_line(sunday: list[str]) -> BusinessHours:
    weekly = WeeklyHours(sunday=[parse_time_range(r) for r in sunday])
    return BusinessHours(NEW_YORK, weekly, [])


def test_spring_forward_day_wall_clock() -> None:
    # 8 March 2026: clocks jump from 02:00 EST to 03:00 EDT.
    night = _night_line(["01:30-02:30", "05:00-06:00"])
    assert night.state_at(datetime(2026, 3, 8, 6, 45, tzinfo=UTC)).is_open  # 01:45 EST
    assert not night.state_at(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)).is_open  # 03:00 EDT
    # 02:30 never happens: the range closes when the clock jumps.
    closes = night.state_at(datetime(2026, 3, 8, 6, 45, tzinfo=UTC)).closes_at
    assert closes == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert night.state_at(datetime(2026, 3, 8, 9, 0, tzinfo=UTC)).is_open  # 05:00 EDT


def test_spring_forward_opening_inside_the_gap() -> None:
    night = _night_line(["02:30-04:00"])
    state = night.state_at(datetime(2026, 3, 8, 5, 0, tzinfo=UTC))  # 00:00 EST
    assert state.next_opening == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert night.state_at(datetime(2026, 3, 8, 7, 30, tzinfo=UTC)).is_open  # 03:30 EDT


def test_fall_back_day_wall_clock() -> None:
    # 1 November 2026: clocks go back from 02:00 EDT to 01:00 EST; 01:00-02:00 happens twice.
    night = _night_line(["01:30-02:30"])
    assert night.state_at(datetime(2026, 11, 1, 5, 45, tzinfo=UTC)).is_open  # 01:45 EDT
    assert not night.state_at(datetime(2026, 11, 1, 6, 10, tzinfo=UTC)).is_open  # 01:10 EST
    assert night.state_at(datetime(2026, 11, 1, 6, 40, tzinfo=UTC)).is_open  # 01:40 EST
    assert not night.state_at(datetime(2026, 11, 1, 7, 35, tzinfo=UTC)).is_open  # 02:35 EST
    state = night.state_at(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))  # 01:00 EDT
    assert state.next_opening == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # first 01:30


def test_overnight_range_spills_into_next_day() -> None:
    weekly = WeeklyHours(friday=[parse_time_range("22:00-02:00+1")])
    late = BusinessHours(NEW_YORK, weekly, [])
    state = late.state_at(local("2026-12-05T01:30"))  # Saturday early morning
    assert state.is_open
    assert state.reason == "open: Friday 22:00-02:00+1"
    assert state.closes_at == local("2026-12-05T02:00")
    assert not late.state_at(local("2026-12-05T02:00")).is_open


def test_round_the_clock_ranges_chain_closing_time() -> None:
    weekly = WeeklyHours(
        monday=[parse_time_range("00:00-24:00")], tuesday=[parse_time_range("00:00-12:00")]
    )
    state = BusinessHours(NEW_YORK, weekly, []).state_at(local("2026-11-30T10:00"))
    assert state.closes_at == local("2026-12-01T12:00")


def test_never_open_has_no_next_opening() -> None:
    state = BusinessHours(NEW_YORK, WeeklyHours(), []).state_at(local("2026-12-01T10:00"))
    assert not state.is_open
    assert state.next_opening is None


def test_naive_moment_is_refused(hours: BusinessHours) -> None:
    with pytest.raises(ValueError, match="aware"):
        hours.state_at(datetime(2026, 12, 1, 10, 30))


@pytest.mark.parametrize(
    ("when", "now", "words"),
    [
        ("2026-12-01T13:30", "2026-12-01T12:45", "today at 1:30 PM"),
        ("2026-12-02T08:00", "2026-12-01T23:30", "tomorrow, Wednesday, at 8 AM"),
        ("2026-12-28T08:00", "2026-12-25T10:00", "on Monday at 8 AM"),
        ("2027-01-04T08:00", "2026-12-25T10:00", "on Monday, January 4, at 8 AM"),
    ],
)
def test_spoken_time(when: str, now: str, words: str) -> None:
    assert spoken_time(local(when), local(now)) == words
