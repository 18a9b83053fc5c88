"""The shared state a worker uses, picked by the store: in memory (one box) or in the store.

``SharedState.for_store(store, capacity=..., history=...)`` gives the store-backed
implementations when the store is shared (PostgreSQL, ``store.url``) and the in-memory
ones otherwise (today's behaviour). :meth:`SharedState.on_event` is a call event
listener that keeps busy agents, idle times, seats and call ownership up to date;
the worker's heartbeat is the store's (:class:`~ari_app.store.workers.Heartbeat`, started
when a shared store opens).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ari_app.call.capacity import RELEASING, AiCapacity
from ari_app.call.events import Bridged, CallEvent, Ended
from ari_app.config.models import Config
from ari_app.routing.ring import RingHistory
from ari_app.shared.memory import MemoryAiSeats, MemoryCallOwnership, MemoryRoutingState
from ari_app.shared.protocols import AiSeats, CallOwnership, RoutingState
from ari_app.shared.stored import StoreAiSeats, StoreCallOwnership, StoreRoutingState
from ari_app.store.errors import is_transient
from ari_app.store.store import Store

log = logging.getLogger(__name__)
RETRY_S = 0.2
GIVE_UP_S = 60.0
"""A state update still failing (store unreachable) after this long is dropped, logged."""


@dataclass(slots=True)
class SharedState:
    """Routing state, AI seats and call ownership of one worker."""

    routing: RoutingState
    seats: AiSeats
    ownership: CallOwnership
    shared: bool = False
    """True when the state is in a shared store (PostgreSQL)."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def local(
        cls, *, capacity: AiCapacity | None = None, history: RingHistory | None = None
    ) -> SharedState:
        """This process only (one box): today's behaviour."""
        return cls(MemoryRoutingState(history), MemoryAiSeats(capacity), MemoryCallOwnership())

    @classmethod
    def for_store(
        cls,
        store: Store | None,
        *,
        capacity: AiCapacity | None = None,
        history: RingHistory | None = None,
    ) -> SharedState:
        """In ``store`` when it is shared (PostgreSQL); in memory otherwise."""
        if store is None or not store.shared:
            return cls.local(capacity=capacity, history=history)
        return cls(
            StoreRoutingState(store),
            StoreAiSeats(store),
            StoreCallOwnership(store),
            shared=True,
        )

    async def start(self) -> None:
        """Register this worker (a shared store's heartbeat then keeps it alive)."""
        await self.ownership.heartbeat()

    async def stop(self) -> None:
        """Finish the state updates under way."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def admit(
        self, config: Config, call_id: str, line: str, *, ai: bool, fallback: AiCapacity
    ) -> bool:
        """A new call on this worker: own it and, if the line's AI agent is on, give it a
        seat against ``ai_agent.max_calls`` (the line's and app.yaml's) counted over the
        pool. False when the AI agent has no seat for it (the line's ``capacity`` branch).
        If the store cannot be reached, this process's own count (``fallback``) decides."""
        limits = {
            "line_limit": config.lines[line].ai_agent.max_calls,
            "total_limit": config.app.ai_agent.max_calls,
        }
        try:
            await self.ownership.claim(call_id, line)
            if not ai:
                return True
            if fallback.exhausted:  # ari-app simulate --ai-at-capacity
                return False
            return await self.seats.try_acquire(call_id, line, **limits)
        except Exception as exc:
            log.warning("call %s: shared store unreachable (%s); seats counted here", call_id, exc)
            return not ai or fallback.try_acquire(call_id, line, **limits)

    def forget(self, call_id: str) -> None:
        """The call's task is over: its seat and ownership go (in case no event said so)."""
        if self.shared:
            self._spawn(lambda: self.seats.release(call_id))
            self._spawn(lambda: self.ownership.release(call_id))

    def on_event(self, event: CallEvent) -> None:
        """A call event listener: busy agents, idle times, seats and ownership follow calls."""
        if isinstance(event, Bridged):
            self._spawn(lambda: self.routing.note_busy(event.agent, event.call_id))
        if isinstance(event, Ended):
            if event.agent is not None:
                agent, now = event.agent, time.time()
                self._spawn(lambda: self.routing.note_call_ended(agent, now))
            if self.shared:
                self._spawn(lambda: self.ownership.release(event.call_id))
        if self.shared and event.type in RELEASING:
            self._spawn(lambda: self.seats.release(event.call_id))

    def _spawn(self, update: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.create_task(_retrying(update), name="shared-state-update")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _retrying(update: Callable[[], Awaitable[None]]) -> None:
    deadline = time.monotonic() + GIVE_UP_S
    delay = RETRY_S
    while True:
        try:
            await update()
            return
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() > deadline:
                log.warning("shared state not updated: %s", exc)
                return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
