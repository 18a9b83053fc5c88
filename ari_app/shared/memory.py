"""The shared-state protocols held in this process: one box, today's behaviour (the default).

:class:`MemoryRoutingState` keeps a :class:`~ari_app.routing.ring.RingHistory`,
:class:`MemoryAiSeats` wraps the supervisor's :class:`~ari_app.call.capacity.AiCapacity`,
:class:`MemoryCallOwnership` knows only this worker. Busy agents are not tracked here:
on one box Asterisk's device state already says who is on a call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ari_app.call.capacity import AiCapacity
from ari_app.routing.plan import Member, RingStep
from ari_app.routing.ring import RingAttempt, RingHistory, ring_attempts
from ari_app.shared.protocols import OwnedCall


class MemoryRoutingState:
    """Round-robin positions and idle times of this process."""

    def __init__(self, history: RingHistory | None = None) -> None:
        self.ring_history = history if history is not None else RingHistory()

    async def history(self, team: str, users: Sequence[str]) -> RingHistory:
        return self.ring_history

    async def ring_plan(self, step: RingStep, free: set[str]) -> list[RingAttempt]:
        attempts = ring_attempts(step, lambda m: m.user in free, self.ring_history)
        if attempts:
            self.ring_history.note_attempted(step.target, step.members, attempts[0].members[0])
        return attempts

    async def note_attempted(self, team: str, members: Sequence[Member], first: Member) -> None:
        self.ring_history.note_attempted(team, members, first)

    async def note_busy(self, user: str, call_id: str) -> None:
        return None

    async def note_call_ended(self, user: str, at: float) -> None:
        self.ring_history.note_call_ended(user, at)

    async def busy_agents(self) -> set[str]:
        return set()


class MemoryAiSeats:
    """The seats of this process (the supervisor's :class:`AiCapacity`)."""

    def __init__(self, capacity: AiCapacity | None = None) -> None:
        self.capacity = capacity if capacity is not None else AiCapacity()

    async def try_acquire(
        self, call_id: str, line: str, *, line_limit: int | None, total_limit: int | None
    ) -> bool:
        return self.capacity.try_acquire(
            call_id, line, line_limit=line_limit, total_limit=total_limit
        )

    async def release(self, call_id: str) -> None:
        self.capacity.release(call_id)

    async def in_use(self, line: str | None = None) -> int:
        return self.capacity.in_use(line)


class MemoryCallOwnership:
    """One worker owns every call it takes; there is nobody else to adopt from."""

    def __init__(self, worker_id: str = "local") -> None:
        self.worker_id = worker_id
        self._calls: dict[str, OwnedCall] = {}

    async def heartbeat(self) -> None:
        return None

    async def claim(self, call_id: str, line: str | None) -> bool:
        self._calls.setdefault(call_id, OwnedCall(call_id, self.worker_id, line, time.time()))
        return True

    async def release(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    async def owner(self, call_id: str) -> str | None:
        return self.worker_id if call_id in self._calls else None

    async def dead_workers(self) -> list[str]:
        return []

    async def calls_of(self, worker_id: str) -> list[OwnedCall]:
        return list(self._calls.values()) if worker_id == self.worker_id else []

    async def adopt(self, call_id: str) -> bool:
        return False

    async def forget_worker(self, worker_id: str, *, close_calls: bool = False) -> list[str]:
        return []
