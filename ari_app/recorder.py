"""The call recorder: writes the store from the call event stream, in order, never losing a call.

Each call gets its own queue and writer task, so one call's events are written in the
order they happened and a slow call never holds up another. A write that fails because
the store is busy (another process holds its lock), full or unreadable for a moment is
retried with backoff until it succeeds: the call's record is never lost, and no later
write of the call fails with "start_call first". At shutdown ``drain`` waits for every
queued write (up to a limit).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ari_app.call.events import (
    AgentSaid,
    Bridged,
    CallError,
    CallerSaid,
    CallEvent,
    Ended,
    Greeting,
    Handoff,
    KnowledgeGap,
    Ringing,
    Started,
    VoicemailRecorded,
)
from ari_app.store.errors import is_transient
from ari_app.store.store import Store

_LOGGER = logging.getLogger(__name__)
FIRST_RETRY_S = 0.05
MAX_RETRY_S = 2.0


@dataclass(slots=True)
class _CallQueue:
    queue: asyncio.Queue[tuple[CallEvent, datetime]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class CallRecorder:
    """A call event listener that keeps each call's record in the store."""

    def __init__(
        self,
        store: Store,
        *,
        first_retry_s: float = FIRST_RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
        on_retry: Callable[[CallEvent, BaseException], None] | None = None,
    ) -> None:
        self.store = store
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self.retries = 0
        """Writes tried again after a transient failure."""
        self.on_retry = on_retry
        """Called before each retry (what is being written, why it failed)."""
        self._calls: dict[str, _CallQueue] = {}

    def __call__(self, event: CallEvent) -> None:
        """Queue ``event`` for its call's writer (never blocks)."""
        calls = self._calls.get(event.call_id)
        if calls is None:
            calls = self._calls[event.call_id] = _CallQueue()
            calls.task = asyncio.create_task(
                self._run(event.call_id, calls), name=f"record-{event.call_id}"
            )
        calls.queue.put_nowait((event, datetime.now(UTC)))

    @property
    def pending(self) -> int:
        """Calls whose record is still being written."""
        return len(self._calls)

    async def drain(self, within_s: float | None = None) -> None:
        """Wait until every queued write is in the store; give up after ``within_s``."""
        tasks = [c.task for c in self._calls.values() if c.task is not None]
        if not tasks:
            return
        _done, late = await asyncio.wait(tasks, timeout=within_s)
        for task in late:
            task.cancel()
        if late:
            _LOGGER.error("%d call record(s) not fully written at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self, call_id: str, calls: _CallQueue) -> None:
        try:
            while True:
                event, at = await calls.queue.get()
                await self._write(event, at)
                if isinstance(event, Ended) and calls.queue.empty():
                    break
        finally:
            if self._calls.get(call_id) is calls:
                del self._calls[call_id]

    async def _write(self, event: CallEvent, at: datetime) -> None:
        for write in self._writes(event, at):
            await self._retry(event, write)

    async def _retry(self, event: CallEvent, write: Callable[[], Awaitable[object]]) -> None:
        delay = self.first_retry_s
        while True:
            try:
                await write()
                return
            except Exception as exc:
                if not is_transient(exc):
                    _LOGGER.exception("call %s: %s not recorded", event.call_id, event.type)
                    return
                self.retries += 1
                if self.on_retry is not None:
                    self.on_retry(event, exc)
                _LOGGER.warning(
                    "call %s: store busy (%s); retrying %s in %.2f s",
                    event.call_id,
                    exc,
                    event.type,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(self.max_retry_s, delay * 2)

    def _writes(self, event: CallEvent, at: datetime) -> list[Callable[[], Awaitable[object]]]:
        """The store writes that record ``event`` (each retried on its own)."""
        if isinstance(event, Ringing):
            calls, cid = self.store.calls, event.call_id
            return [
                functools.partial(calls.add_event, cid, "agent_ring", {"agent": agent}, at)
                for agent in event.agents
            ]
        write = self._write_of(event, at)
        return [] if write is None else [write]

    def _write_of(self, event: CallEvent, at: datetime) -> Callable[[], Awaitable[object]] | None:
        calls = self.store.calls
        cid = event.call_id
        match event:
            case Started():
                return lambda: calls.start_call(cid, event.line, event.caller, event.did, at)
            case Greeting():
                return lambda: calls.add_turn(
                    cid, "agent", event.text, confidence=1.0, start_ms=event.at_ms,
                    end_ms=event.at_ms, at=at,
                )  # fmt: skip
            case CallerSaid():
                return lambda: calls.add_turn(
                    cid, "caller", event.text, confidence=event.confidence,
                    start_ms=event.at_ms, end_ms=event.at_ms, at=at,
                )  # fmt: skip
            case AgentSaid():
                return lambda: calls.add_turn(
                    cid, "agent", event.text, confidence=event.confidence,
                    start_ms=event.at_ms, end_ms=event.at_ms, latency_ms=event.latency_ms, at=at,
                )  # fmt: skip
            case KnowledgeGap():
                return lambda: calls.add_knowledge_gap(cid, event.question, at)
            case Handoff():
                return lambda: calls.note_handoff(cid, event.reason, at=at)
            case Bridged():
                return lambda: calls.add_event(cid, "agent_answered", {"agent": event.agent}, at)
            case VoicemailRecorded():
                data = {"recording": event.name, "duration_s": event.duration_s}
                return lambda: calls.add_event(cid, "voicemail_recorded", data, at)
            case CallError():
                data = {"error": event.error, "stage": event.stage}
                return lambda: calls.add_event(cid, "failed", data, at)
            case Ended():
                return lambda: calls.finish_call(
                    cid, event.outcome, handoff_reason=event.reason, agent=event.agent, ended_at=at
                )
        return None
