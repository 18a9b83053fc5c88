"""What workers must share for routing to stay right across a pool: three small protocols.

- :class:`RoutingState`: round-robin positions per team, agents' last call ends (longest
  idle) and the agents busy on a call anywhere in the pool.
- :class:`AiSeats`: the AI agent's seats against ``ai_agent.max_calls`` (per line and in
  all), counted across workers.
- :class:`CallOwnership`: which worker owns which live call, with a heartbeat per worker,
  so a survivor can list a dead worker's calls and adopt them.

:mod:`ari_app.shared.memory` holds them in this process (one box, the default);
:mod:`ari_app.shared.stored` holds them in the store (PostgreSQL, ``store.url``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ari_app.routing.plan import Member, RingStep
from ari_app.routing.ring import RingAttempt, RingHistory


class RoutingState(Protocol):
    """What ring strategies remember between calls, and who is busy."""

    async def history(self, team: str, users: Sequence[str]) -> RingHistory:
        """``team``'s round-robin position and ``users``' last call ends, as a snapshot."""
        ...

    async def ring_plan(self, step: RingStep, free: set[str]) -> list[RingAttempt]:
        """The attempts for ``step`` among the ``free`` users, decided atomically: round
        robin moves past the member rung first, so two calls at once (on any workers)
        start with different members."""
        ...

    async def note_attempted(self, team: str, members: Sequence[Member], first: Member) -> None:
        """Round robin moves past ``first``, the member rung first this time."""
        ...

    async def note_busy(self, user: str, call_id: str) -> None:
        """``user`` is talking on ``call_id`` (skipped by every worker until it ends)."""
        ...

    async def note_call_ended(self, user: str, at: float) -> None:
        """``user``'s call ended at ``at`` (epoch seconds): free, idle from then."""
        ...

    async def busy_agents(self) -> set[str]:
        """Users talking on a call now (of a live worker)."""
        ...


class AiSeats(Protocol):
    """The AI agent's seats: a per-line limit and a total one (None: no limit)."""

    async def try_acquire(
        self, call_id: str, line: str, *, line_limit: int | None, total_limit: int | None
    ) -> bool:
        """Give ``call_id`` a seat on ``line`` if both limits allow; True when it has one."""
        ...

    async def release(self, call_id: str) -> None:
        """Give the seat of ``call_id`` back (nothing if it holds none)."""
        ...

    async def in_use(self, line: str | None = None) -> int:
        """Seats held on ``line``, or on all lines."""
        ...


@dataclass(frozen=True, slots=True)
class OwnedCall:
    """A live call and the worker that owns it."""

    call_id: str
    worker_id: str
    line: str | None
    claimed_at: float


class CallOwnership(Protocol):
    """Which worker owns which live call; workers prove they live by a heartbeat."""

    worker_id: str

    async def heartbeat(self) -> None:
        """Register this worker or renew its lease (call every ``lease_s / 3``)."""
        ...

    async def claim(self, call_id: str, line: str | None) -> bool:
        """Make ``call_id`` this worker's; False when a live worker owns it already."""
        ...

    async def release(self, call_id: str) -> None:
        """The call is over (or handed back): nobody owns it."""
        ...

    async def owner(self, call_id: str) -> str | None:
        """The worker owning ``call_id``, or None."""
        ...

    async def dead_workers(self) -> list[str]:
        """Workers whose heartbeat is older than the lease."""
        ...

    async def calls_of(self, worker_id: str) -> list[OwnedCall]:
        """The live calls ``worker_id`` owns."""
        ...

    async def adopt(self, call_id: str) -> bool:
        """Take over a dead worker's call; False when its owner lives or another survivor
        adopted it first (exactly one survivor wins)."""
        ...

    async def forget_worker(self, worker_id: str, *, close_calls: bool = False) -> list[str]:
        """Remove a dead worker (its calls adopted or ended): its seats, busy marks and
        live calls go. ``close_calls``: its calls nobody took back (nothing written since it
        died) are closed as ``interrupted``; their ids are returned. A live worker is kept."""
        ...
