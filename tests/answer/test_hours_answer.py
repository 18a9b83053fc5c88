"""Hours answers come from the line's hours at the call's moment, never from text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ari_app.answer.hours_answer import (
    answer_hours,
    clock,
    day_list,
    holidays_sentence,
    lunch_sentence,
    weekly_summary,
)
from ari_app.config.models import Config
from ari_app.routing.hours import BusinessHours

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def hours(config: Config) -> BusinessHours:
    return BusinessHours.from_line(config.lines["main"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def test_clock_is_spoken() -> None:
    assert clock(8 * 60) == "8 AM"
    assert clock(12 * 60 + 30) == "12:30 PM"
    assert clock(12 * 60) == "noon"
    assert clock(18 * 60) == "6 PM"


def test_saturdays(hours: BusinessHours) -> None:
    text = answer_hours("what time do you open on saturdays", hours, at("2026-12-01T10:30"))
    assert text == "On Saturdays, we are open from 9 AM to 1 PM."


def test_open_now_depends_on_the_moment(hours: BusinessHours) -> None:
    open_text = answer_hours("are you open now", hours, at("2026-12-01T10:30"))
    assert open_text == "Yes, we are open right now until 12:30 PM."
    lunch = answer_hours("are you open now", hours, at("2026-12-01T12:45"))
    assert lunch == "We are closed right now. We open again today at 1:30 PM."
    night = answer_hours("are you open now", hours, at("2026-12-04T20:00"))
    assert night == "We are closed right now. We open again tomorrow, Saturday, at 9 AM."


def test_holiday_closure_and_next_opening(hours: BusinessHours) -> None:
    text = answer_hours("are you open right now", hours, at("2026-11-26T10:00"))
    assert text == (
        "We are closed right now for Thanksgiving. We open again tomorrow, Friday, at 8 AM."
    )


def test_tomorrow_uses_exceptions(hours: BusinessHours) -> None:
    text = answer_hours("when do you open tomorrow", hours, at("2026-11-25T09:00"))
    assert text == "Tomorrow, Thursday, we are closed for Thanksgiving."
    text = answer_hours("when do you open tomorrow", hours, at("2026-12-03T09:00"))
    assert text == "Tomorrow, Friday, we are open from 8 AM to 3 PM."


def test_named_and_calendar_days(hours: BusinessHours) -> None:
    now = at("2026-12-01T10:00")
    assert answer_hours("are you open on christmas eve", hours, now) == (
        "Thursday, December 24, we are open from 8 AM to noon for Christmas Eve."
    )
    assert answer_hours("are you open on christmas", hours, now) == (
        "Friday, December 25, we are closed for Christmas Day."
    )
    assert answer_hours("are you open on july 4th", hours, now) == (
        "Sunday, July 4, we are closed for Independence Day."
    )
    assert answer_hours("are you open on the fifth of january", hours, now) == (
        "Tuesday, January 5, we are open from 8 AM to 12:30 PM, and from 1:30 PM to 6 PM."
    )


def test_weekday_note_when_the_coming_one_is_a_holiday(hours: BusinessHours) -> None:
    text = answer_hours("are you open on thursday", hours, at("2026-11-23T10:00"))
    assert text.startswith("On Thursdays, we are open from 8 AM to 12:30 PM")
    assert text.endswith("Thursday, we are closed for Thanksgiving.")


def test_weekly_summary_groups_days(hours: BusinessHours) -> None:
    assert weekly_summary(hours) == (
        "We are open Monday to Thursday, from 8 AM to 12:30 PM, and from 1:30 PM to 6 PM. "
        "Friday, from 8 AM to 3 PM. Saturday, from 9 AM to 1 PM. We are closed on Sunday."
    )
    generic = answer_hours("what are your hours", hours, at("2026-12-01T10:30"))
    assert generic.startswith("We are open Monday to Thursday")
    assert generic.endswith("Yes, we are open right now until 12:30 PM.")


def test_lunch_and_holidays(hours: BusinessHours) -> None:
    assert lunch_sentence(hours) == (
        "Monday to Thursday, we close for lunch from 12:30 PM to 1:30 PM."
    )
    text = holidays_sentence(hours)
    assert "closed on New Year's Day, Independence Day, Thanksgiving" in text
    assert "On Christmas Eve, we are open from 8 AM to noon." in text


def test_lunch_days_that_are_not_consecutive() -> None:
    assert day_list(["monday", "tuesday", "wednesday"]) == "Monday to Wednesday"
    assert day_list(["monday", "wednesday", "friday"]) == "Monday, Wednesday and Friday"
    assert day_list(["monday", "tuesday"]) == "Monday and Tuesday"
    assert day_list(["sunday"]) == "Sunday"


def test_are_you_open_means_now(hours: BusinessHours) -> None:
    assert answer_hours("are you open", hours, at("2026-12-01T10:30")) == (
        "Yes, we are open right now until 12:30 PM."
    )
    assert answer_hours("when are you open", hours, at("2026-12-01T10:30")).startswith(
        "We are open Monday to Thursday"
    )


def test_closed_after_special_hours(hours: BusinessHours) -> None:
    assert answer_hours("are you open", hours, at("2026-12-24T13:00")) == (
        "We are closed right now. On Christmas Eve we are only open from 8 AM to noon. "
        "We open again on Monday at 8 AM."
    )
