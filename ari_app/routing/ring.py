"""Ring strategies: which members of a team are rung, in which order, for how long.

Pure code: availability and history are passed in; the call session carries out the
attempts and reports back who answered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ari_app.routing.plan import Member, RingStep


@dataclass(frozen=True, slots=True)
class RingAttempt:
    """Members rung at the same time, for ``timeout`` seconds."""

    members: tuple[Member, ...]
    timeout: float


@dataclass(slots=True)
class RingHistory:
    """What strategies remember between calls: round-robin positions and idle times."""

    next_index: dict[str, int] = field(default_factory=dict)
    """Per team: where round robin starts next time."""
    last_call_end: dict[str, float] = field(default_factory=dict)
    """Per user: when their last call ended (any monotonic clock, seconds)."""

    def note_attempted(self, team: str, members: Sequence[Member], first: Member) -> None:
        """Round robin moves past the member rung first this time."""
        names = [m.user for m in members]
        if first.user in names:
            self.next_index[team] = (names.index(first.user) + 1) % len(names)

    def note_call_ended(self, user: str, at: float) -> None:
        """Longest idle counts from here."""
        self.last_call_end[user] = at


def ring_attempts(
    step: RingStep, available: Callable[[Member], bool], history: RingHistory
) -> list[RingAttempt]:
    """The attempts for ``step``: unavailable members (offline, busy) are skipped."""
    members = list(step.members)
    if step.strategy == "round_robin" and members:
        start = history.next_index.get(step.target, 0) % len(members)
        members = members[start:] + members[:start]
    elif step.strategy == "longest_idle":
        members.sort(key=lambda m: history.last_call_end.get(m.user, float("-inf")))
    members = [m for m in members if available(m)]
    if not members:
        return []
    if step.strategy == "ringall":
        return [RingAttempt(tuple(members), min(step.attempt_timeout, step.overall_timeout))]
    attempts, left = [], step.overall_timeout
    for member in members:
        if left <= 0:
            break
        timeout = min(step.attempt_timeout, left)
        attempts.append(RingAttempt((member,), timeout))
        left -= timeout
    return attempts
