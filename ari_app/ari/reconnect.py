"""The reconnect policy: connection states and capped exponential backoff with jitter.

Pure code: :meth:`Backoff.delay` takes the failure count and a random number in [0, 1),
so tests can check every delay without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ConnState(StrEnum):
    """States of the events connection."""

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKOFF = "backoff"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with +/- ``jitter`` (a fraction) around each step."""

    initial: float = 0.25
    """First delay in seconds."""
    factor: float = 2.0
    """Growth per further failure."""
    cap: float = 30.0
    """Longest delay in seconds, jitter included."""
    jitter: float = 0.2
    """Relative spread: 0.2 means each delay is within 80 %..120 % of its step."""

    def delay(self, failures: int, rand: float) -> float:
        """Seconds to wait after ``failures`` consecutive failures (``failures`` >= 1)."""
        step = min(self.cap, self.initial * self.factor ** max(0, failures - 1))
        return min(self.cap, step * (1.0 - self.jitter + 2.0 * self.jitter * rand))
