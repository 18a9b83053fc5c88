"""Spoken answers to opening-hours questions, built from the line's hours at the call's moment.

The knowledge base never holds opening times: the line's ``hours`` and ``exceptions`` are the
one source of truth. This module reads which day the caller means ("now", "tomorrow",
"on saturdays", "this weekend", "christmas eve", "july 4th") and phrases that day's ranges
for the ear. Pure code: the moment is an argument.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from itertools import pairwise

from ari_app.config.values import MINUTES_PER_DAY, MONTHS, WEEKDAYS, TimeRange
from ari_app.routing.hours import BusinessHours, spoken_time

_NOW_WORDS = frozenset({"now", "currently", "still", "moment", "tonight", "yet"})
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_SCHEDULE_WORDS = frozenset(
    {"hours", "hour", "when", "time", "times", "days", "week", "weekdays", "schedule", "usually"}
)
_DAY_NUMBER = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")
_GENERIC_NAME_WORDS = frozenset({"day", "days", "s", "the", "of"})


def clock(minutes: int) -> str:
    """Minutes after midnight as spoken: 480 -> "8 AM", 750 -> "12:30 PM", 720 -> "noon"."""
    minutes %= MINUTES_PER_DAY
    if minutes == 12 * 60:
        return "noon"
    if minutes == 0:
        return "midnight"
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"


def spoken_ranges(ranges: list[TimeRange]) -> str:
    """Ranges as spoken: "from 8 AM to 12:30 PM, and from 1:30 PM to 6 PM"."""
    parts = [f"from {clock(r.start)} to {clock(r.end)}" for r in ranges]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def _day_label(day: date, today: date) -> str:
    offset = (day - today).days
    weekday = day.strftime("%A")
    if offset == 0:
        return "today"
    if offset == 1:
        return f"tomorrow, {weekday}"
    if 0 < offset < 7:
        return weekday
    return f"{weekday}, {day.strftime('%B')} {day.day}"


def day_sentence(hours: BusinessHours, day: date, today: date) -> str:
    """What the line's hours are on one date, with the holiday's name if one applies."""
    ranges, exc = hours.schedule(day)
    label = _day_label(day, today)
    head = label[0].upper() + label[1:]
    if not ranges:
        why = f" for {exc.name}" if exc is not None else ""
        return f"{head}, we are closed{why}."
    special = f" for {exc.name}" if exc is not None else ""
    return f"{head}, we are open {spoken_ranges(ranges)}{special}."


def weekday_sentence(hours: BusinessHours, weekday: int, today: date) -> str:
    """The regular hours of a weekday, plus a note if the coming one is a holiday."""
    name = WEEKDAYS[weekday].capitalize()
    ranges = sorted(hours.weekly.on(weekday))
    if ranges:
        sentence = f"On {name}s, we are open {spoken_ranges(ranges)}."
    else:
        sentence = f"We are closed on {name}s."
    coming = today + timedelta(days=(weekday - today.weekday()) % 7)
    exc = hours.exception_on(coming)
    if exc is not None:
        sentence += " " + day_sentence(hours, coming, today)
    return sentence


def weekly_summary(hours: BusinessHours) -> str:
    """The regular week, with days of equal hours grouped: "Monday to Thursday, ..."."""
    groups: list[tuple[int, int, list[TimeRange]]] = []
    for weekday in range(7):
        ranges = sorted(hours.weekly.on(weekday))
        if groups and groups[-1][2] == ranges and groups[-1][1] == weekday - 1:
            groups[-1] = (groups[-1][0], weekday, ranges)
        else:
            groups.append((weekday, weekday, ranges))
    open_parts: list[str] = []
    closed_days: list[str] = []
    for first, last, ranges in groups:
        days = WEEKDAYS[first].capitalize()
        if last > first:
            joiner = " and " if last == first + 1 else " to "
            days += joiner + WEEKDAYS[last].capitalize()
        if ranges:
            open_parts.append(f"{days}, {spoken_ranges(ranges)}.")
        else:
            closed_days.append(days)
    text = "We are open " + " ".join(open_parts) if open_parts else "We have no opening hours."
    if closed_days:
        text += " We are closed on " + " and ".join(closed_days) + "."
    return text


def state_sentence(hours: BusinessHours, now: datetime) -> str:
    """Open or closed right now, until when, or when the line opens again."""
    state = hours.state_at(now)
    if state.is_open:
        until = f" until {clock(_minutes(state.closes_at))}" if state.closes_at else ""
        return f"Yes, we are open right now{until}."
    why = ""
    exc = hours.exception_on(state.now.date()) if state.exception else None
    if exc is not None and not exc.closed and exc.hours:
        ranges = spoken_ranges(sorted(exc.hours))
        why = f". On {exc.name} we are only open {ranges}"
    elif state.exception:
        why = f" for {state.exception}"
    if state.next_opening is None:
        return f"We are closed right now{why}."
    return f"We are closed right now{why}. We open again {spoken_time(state.next_opening, now)}."


def _minutes(moment: datetime | None) -> int:
    return 0 if moment is None else moment.hour * 60 + moment.minute


def _next_with_exception(hours: BusinessHours, name: str, today: date) -> date | None:
    for offset in range(400):
        day = today + timedelta(days=offset)
        exc = hours.exception_on(day)
        if exc is not None and exc.name == name:
            return day
    return None


def _named_day(hours: BusinessHours, words: list[str], today: date) -> date | None:
    """A holiday named by its configured name ("thanksgiving", "christmas eve")."""
    said = set(words) | {w.rstrip("s") for w in words}
    best: tuple[int, str] | None = None
    for exc in hours.exceptions:
        tokens = re.findall(r"[a-z0-9]+", exc.name.lower().replace("'", ""))
        key = [t for t in tokens if t not in _GENERIC_NAME_WORDS]
        if not key or not all(t in said or t.rstrip("s") in said for t in key):
            continue
        score = len(key) + sum(1 for t in tokens if t in said)
        if best is None or score > best[0]:
            best = (score, exc.name)
    return None if best is None else _next_with_exception(hours, best[1], today)


def _calendar_day(words: list[str], today: date) -> date | None:
    """A date said as "july 4th", "the fourth of july" or "december 24"."""
    for i, word in enumerate(words):
        if word not in MONTHS:
            continue
        month = MONTHS.index(word) + 1
        for j in (i + 1, i - 1, i - 2):
            if not 0 <= j < len(words):
                continue
            number = _ORDINAL_WORDS.get(words[j])
            match = _DAY_NUMBER.match(words[j])
            if match:
                number = int(match[1])
            if number is None:
                continue
            for year in (today.year, today.year + 1):
                try:
                    day = date(year, month, number)
                except ValueError:
                    break
                if day >= today:
                    return day
    return None


def answer_hours(question: str, hours: BusinessHours, now: datetime) -> str:
    """A spoken answer to an hours question (``question`` normalised) at ``now``."""
    words = question.split()
    said = set(words)
    today = now.astimezone(hours.tz).date()
    holiday = _named_day(hours, words, today) or _calendar_day(words, today)
    if holiday is not None:
        return day_sentence(hours, holiday, today)
    if "holiday" in said or "holidays" in said:
        return holidays_sentence(hours)
    if "lunch" in said:
        return lunch_sentence(hours)
    weekdays = [i for i, name in enumerate(WEEKDAYS) if name in said or name + "s" in said]
    if "weekend" in said or "weekends" in said:
        weekdays += [5, 6]
    if "tomorrow" in said:
        return day_sentence(hours, today + timedelta(days=1), today)
    if weekdays:
        if weekdays == [today.weekday()] and "today" in said:
            return day_sentence(hours, today, today) + " " + state_sentence(hours, now)
        return " ".join(weekday_sentence(hours, w, today) for w in dict.fromkeys(weekdays))
    if said & _NOW_WORDS:
        return state_sentence(hours, now)
    if "today" in said or "tonight" in said:
        return day_sentence(hours, today, today) + " " + state_sentence(hours, now)
    if said & {"open", "closed"} and not said & _SCHEDULE_WORDS:
        return state_sentence(hours, now)  # "are you open?" means now
    return weekly_summary(hours) + " " + state_sentence(hours, now)


def holidays_sentence(hours: BusinessHours) -> str:
    """Which holidays close the line and which have special hours."""
    closed = [e.name for e in hours.exceptions if e.closed or not e.hours]
    special = [e for e in hours.exceptions if not e.closed and e.hours]
    parts: list[str] = []
    if closed:
        names = closed[0] if len(closed) == 1 else ", ".join(closed[:-1]) + " and " + closed[-1]
        parts.append(f"We are closed on {names}.")
    for exc in special:
        parts.append(f"On {exc.name}, we are open {spoken_ranges(sorted(exc.hours or []))}.")
    return " ".join(parts) if parts else "We keep our regular hours on holidays."


def lunch_sentence(hours: BusinessHours) -> str:
    """When the line closes between two ranges of a day, grouped by weekday."""
    breaks: dict[tuple[int, int], list[str]] = {}
    for weekday in range(7):
        ranges = sorted(hours.weekly.on(weekday))
        for before, after in pairwise(ranges):
            breaks.setdefault((before.end, after.start), []).append(WEEKDAYS[weekday])
    if not breaks:
        return "We do not close for lunch. " + weekly_summary(hours)
    parts = []
    for (start, end), days in breaks.items():
        parts.append(f"{day_list(days)}, we close for lunch from {clock(start)} to {clock(end)}.")
    return " ".join(parts)


def day_list(days: list[str]) -> str:
    """Weekday names as spoken: "Monday to Thursday" when consecutive, else a list."""
    names = [d.capitalize() for d in days]
    indexes = [WEEKDAYS.index(d) for d in days]
    if len(names) > 2 and indexes == list(range(indexes[0], indexes[0] + len(indexes))):
        return f"{names[0]} to {names[-1]}"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
