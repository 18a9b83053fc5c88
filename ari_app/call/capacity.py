"""How many calls the AI agent is talking with, per line and in all, against their limits.

The supervisor asks :meth:`AiCapacity.try_acquire` before a call starts; a call that gets
no seat takes its line's "AI unavailable: capacity" branch (people, then voicemail). A seat
is given back when the call leaves the AI agent — its ``handoff`` event (to people or
voicemail) or its ``ended`` event, whichever comes first — so calls ringing agents or
leaving a message do not hold the AI's recognition capacity. :meth:`on_event` is a
:data:`~ari_app.call.events.CallEventListener`.
"""

from __future__ import annotations

import collections

from ari_app.call.events import CallEvent, CallEventType
from ari_app.config.models import Config

RELEASING = frozenset({CallEventType.HANDOFF, CallEventType.ENDED})
"""Events after which a call no longer talks with the AI agent."""


class AiCapacity:
    """Seats of the AI agent: a per-line limit and a process-wide one (None: no limit)."""

    def __init__(self) -> None:
        self._seats: dict[str, str] = {}
        """call id -> line, for calls holding a seat."""
        self._per_line: collections.Counter[str] = collections.Counter()
        self.exhausted = False
        """True: every seat counts as taken (``ari-app simulate --ai-at-capacity``)."""

    def in_use(self, line: str | None = None) -> int:
        """Seats held on ``line``, or on all lines."""
        return len(self._seats) if line is None else self._per_line[line]

    def try_acquire(
        self, call_id: str, line: str, *, line_limit: int | None, total_limit: int | None
    ) -> bool:
        """Give ``call_id`` a seat on ``line`` if both limits allow; True when it has one."""
        if call_id in self._seats:
            return True
        if self.exhausted:
            return False
        if line_limit is not None and self._per_line[line] >= line_limit:
            return False
        if total_limit is not None and len(self._seats) >= total_limit:
            return False
        self._seats[call_id] = line
        self._per_line[line] += 1
        return True

    def try_acquire_for(self, config: Config, call_id: str, line: str) -> bool:
        """:meth:`try_acquire` with the limits ``config`` sets for ``line``."""
        return self.try_acquire(
            call_id,
            line,
            line_limit=config.lines[line].ai_agent.max_calls,
            total_limit=config.app.ai_agent.max_calls,
        )

    def release(self, call_id: str) -> None:
        """Give the seat of ``call_id`` back (nothing if it holds none)."""
        line = self._seats.pop(call_id, None)
        if line is not None:
            self._per_line[line] -= 1
            if self._per_line[line] <= 0:
                del self._per_line[line]

    def on_event(self, event: CallEvent) -> None:
        """Release the seat when the call hands off or ends."""
        if event.type in RELEASING:
            self.release(event.call_id)
