"""Business hours: open or closed at a moment, why, and when the line opens next.

Pure code: the moment is always an argument. Hours are local wall-clock time in the
line's IANA zone, so on daylight-saving days a range means what the clock on the wall
shows (on the spring-forward day 02:00-03:00 never happens; on fall-back day 01:00-02:00
happens twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ari_app.config.models import DateException, Line, WeeklyHours
from ari_app.config.values import MINUTES_PER_DAY, WEEKDAYS, TimeRange

SEARCH_DAYS = 400
"""How far ahead to look for the next opening before saying the line never opens."""


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether a line is open at a moment, and why."""

    is_open: bool
    reason: str
    """Plain words: "open: Monday 08:00-12:30" or "closed: Thanksgiving"."""
    now: datetime
    """The moment asked about, in the line's time zone."""
    exception: str | None = None
    """Name of the holiday or special day that decides today, if any."""
    open_range: TimeRange | None = None
    closes_at: datetime | None = None
    next_opening: datetime | None = None
    """When closed: the next moment the line opens (None if not within a year)."""


class BusinessHours:
    """The weekly table, the exceptions and the time zone of one line."""

    def __init__(self, tz: ZoneInfo, weekly: WeeklyHours, exceptions: list[DateException]) -> None:
        self.tz = tz
        self.weekly = weekly
        self.exceptions = exceptions

    @classmethod
    def from_line(cls, line: Line) -> BusinessHours:
        """Hours of a configured line."""
        return cls(ZoneInfo(line.timezone), line.hours, line.exceptions)

    def exception_on(self, day: date) -> DateException | None:
        """The first exception that applies to ``day`` (fixed dates before rules, in file order)."""
        for exc in self.exceptions:
            if exc.date is not None and exc.date.matches(day):
                return exc
        for exc in self.exceptions:
            if exc.rule is not None and exc.rule.matches(day):
                return exc
        return None

    def schedule(self, day: date) -> tuple[list[TimeRange], DateException | None]:
        """The ranges of ``day`` (sorted) and the exception that set them, if any."""
        exc = self.exception_on(day)
        if exc is None:
            return sorted(self.weekly.on(day.weekday())), None
        return sorted(exc.hours or []), exc

    def ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """``day``'s opening ranges as aware datetimes in the line's zone."""
        ranges, _ = self.schedule(day)
        return [(self.instant(day, r.start), self.instant(day, r.end)) for r in ranges]

    def instant(self, day: date, minutes: int) -> datetime:
        """The first moment the clock on ``day`` shows ``minutes`` past midnight, or later."""
        naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
        first = naive.replace(tzinfo=self.tz, fold=0)
        if _wall(first.astimezone(UTC), self.tz) == naive:
            return _fixed(first, self.tz)
        # The wall time does not exist (spring forward): find when the clock passes it.
        candidates = [naive.replace(tzinfo=self.tz, fold=f).astimezone(UTC) for f in (0, 1)]
        low, high = min(candidates), max(candidates)
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if _wall(middle, self.tz) >= naive:
                high = middle
            else:
                low = middle
        return _fixed(high.replace(microsecond=0), self.tz)

    def state_at(self, now: datetime) -> OpenState:
        """Open or closed at ``now`` (an aware datetime), with the reason and next change."""
        if now.tzinfo is None:
            raise ValueError("state_at needs an aware datetime (with a time zone)")
        local = now.astimezone(self.tz)
        today = local.date()
        minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
        ranges, exc = self.schedule(today)
        for r in ranges:
            if r.start <= minute < r.end:
                return self._open(local, today, r, exc)
        yesterday = today - timedelta(days=1)
        spill, spill_exc = self.schedule(yesterday)
        for r in spill:
            if r.overnight and minute < r.end - MINUTES_PER_DAY:
                return self._open(local, yesterday, r, spill_exc)
        if exc is not None:
            reason = f"closed: {exc.name}" if exc.closed else f"closed: outside {exc.name} hours"
        elif not ranges:
            reason = f"closed: closed all day on {WEEKDAYS[today.weekday()].capitalize()}s"
        elif minute < ranges[0].start:
            reason = "closed: not open yet today"
        elif minute >= ranges[-1].end:
            reason = "closed: after today's hours"
        else:
            reason = "closed: between today's opening ranges"
        return OpenState(
            False,
            reason,
            _fixed(now, self.tz),
            exc.name if exc else None,
            next_opening=self.next_opening(local),
        )

    def _open(
        self, local: datetime, day: date, r: TimeRange, exc: DateException | None
    ) -> OpenState:
        label = exc.name if exc else WEEKDAYS[day.weekday()].capitalize()
        return OpenState(
            True,
            f"open: {label} {r}",
            _fixed(local, self.tz),
            exc.name if exc else None,
            open_range=r,
            closes_at=self._closing(day, r),
        )

    def _closing(self, day: date, r: TimeRange) -> datetime:
        """When ``r`` ends, following ranges that continue it without a gap."""
        for _ in range(SEARCH_DAYS):
            end_day = day + timedelta(days=r.end // MINUTES_PER_DAY)
            end_minute = r.end % MINUTES_PER_DAY
            following = [x for x in self.schedule(end_day)[0] if x.start == end_minute]
            if not following or (following[0] == r and end_day == day):
                break
            day, r = end_day, following[0]
        return self.instant(day, r.end)

    def next_opening(self, after: datetime) -> datetime | None:
        """The first opening strictly after ``after`` (None if none within a year)."""
        local = after.astimezone(self.tz)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for r in self.schedule(day)[0]:
                start = self.instant(day, r.start)
                # A range wholly inside the hour the clocks skip (02:00-02:15 on the
                # spring-forward day) never happens: its start and end are the same moment.
                if start > local and self.instant(day, r.end) > start:
                    return start
        return None


def _fixed(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` in ``tz`` with a fixed-offset tzinfo.

    Datetimes in a fold (the repeated hour) never compare equal across zones (PEP 495);
    a fixed offset keeps every returned moment unambiguous and comparable.
    """
    local = moment.astimezone(tz)
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=timezone(offset, local.tzname() or str(tz)), fold=0)


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def spoken_time(when: datetime, now: datetime) -> str:
    """``when`` as a receptionist would say it relative to ``now``: "tomorrow, Tuesday, at 8 AM".

    Both are read as local times of the line (as ``OpenState`` gives them).
    """
    local_now = now
    clock = when.strftime("%I:%M %p").lstrip("0").replace(":00", "")
    days = (when.date() - local_now.date()).days
    weekday = when.strftime("%A")
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow, {weekday}, at {clock}"
    if days < 7:
        return f"on {weekday} at {clock}"
    return f"on {weekday}, {when.strftime('%B')} {when.day}, at {clock}"
