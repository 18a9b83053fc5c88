"""The call recorder and the call metrics: the store and /metrics fed by call events alone.

Real SQLite files; the "other process" holding the store's lock is a second real
connection; a full disk is SQLite's own limit on the file's pages.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from ari_app.call import events as ev
from ari_app.metrics.calls import CallMetrics
from ari_app.metrics.registry import Counter, Gauge, Histogram, Registry
from ari_app.recorder import CallRecorder
from ari_app.store import Store
from ari_app.store.db import Conn

CALL = "1700000000.7"


def a_call(call_id: str = CALL) -> list[ev.CallEvent]:
    """The events of one call that failed after a handoff, in order."""
    c: dict[str, Any] = {"call_id": call_id}
    return [
        ev.Started(**c, at_ms=0, line="main", caller="+15550101", did="100"),
        ev.Answered(**c, at_ms=5),
        ev.Greeting(**c, at_ms=10, text="Hello, how can I help?", latency_ms=90),
        ev.CallerSaid(**c, at_ms=2000, text="do you do implants", confidence=0.8),
        ev.KnowledgeGap(**c, at_ms=2001, question="do you do implants"),
        ev.AgentSaid(
            **c,
            at_ms=2500,
            text="Let me find someone.",
            action="handoff",
            confidence=0.2,
            latency_ms=480,
            interrupted=False,
        ),
        ev.Handoff(**c, at_ms=2600, reason="no_match", topic=None, open=True),
        ev.Ringing(**c, at_ms=2700, target="front_desk", members=("PJSIP/201",), agents=("maya",)),
        ev.CallError(**c, at_ms=3000, error="MediaError: media: no port", stage="media"),
        ev.Ended(**c, at_ms=3100, outcome="failed", reason="no_match", agent=None, error="x"),
    ]


async def test_a_call_is_recorded_from_its_events_alone(tmp_path: Path) -> None:
    async with Store(tmp_path / "calls.sqlite3") as store:
        recorder = CallRecorder(store)
        for event in a_call():
            recorder(event)
        await recorder.drain()
        assert recorder.pending == 0
        record = await store.reader.run(store.reader.get_call, CALL)
        gaps = await store.reader.run(
            store.reader.query, "SELECT question FROM knowledge_gaps WHERE call_id = ?", (CALL,)
        )
    assert record is not None
    assert record.outcome == "failed"
    assert record.handoff_reason == "no_match"
    assert [(t.speaker, t.text) for t in record.turns] == [
        ("agent", "Hello, how can I help?"),
        ("caller", "do you do implants"),
        ("agent", "Let me find someone."),
    ]
    assert record.turns[2].latency_ms == 480
    assert [e.kind for e in record.events] == ["handoff", "agent_ring", "failed"]
    # A failed call says why, and where.
    assert record.events[2].data == {"error": "MediaError: media: no port", "stage": "media"}
    assert gaps == [("do you do implants",)]


async def test_a_store_locked_by_another_process_loses_nothing(tmp_path: Path) -> None:
    """The lock is held as the call starts: every write waits and retries, in order."""
    db = tmp_path / "calls.sqlite3"
    async with Store(db, busy_timeout_ms=20) as store:
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        retried = asyncio.Event()
        recorder = CallRecorder(store, first_retry_s=0.01, on_retry=lambda e, x: retried.set())
        for event in a_call():
            recorder(event)
        await retried.wait()
        assert "locked" in why_a_write_fails(store)
        other.execute("ROLLBACK")
        other.close()
        await recorder.drain()
        record = await store.reader.run(store.reader.get_call, CALL)
    assert recorder.retries >= 1
    assert record is not None
    assert record.outcome == "failed"
    assert len(record.turns) == 3


def why_a_write_fails(store: Store) -> str:
    """Why a write fails right now (a direct attempt on a connection of our own)."""
    probe = sqlite3.connect(store.path, isolation_level=None, timeout=0.01)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        probe.close()
    return ""


async def test_a_full_store_keeps_the_call_until_there_is_room(tmp_path: Path) -> None:
    async with Store(tmp_path / "calls.sqlite3") as store:

        def fill(conn: Conn) -> None:
            pages = conn.execute("PRAGMA page_count").fetchall()[0][0]
            conn.execute(f"PRAGMA max_page_count = {pages}")

        await store.writer.write(fill)
        retried = asyncio.Event()
        recorder = CallRecorder(store, first_retry_s=0.01, on_retry=lambda e, x: retried.set())
        for n in range(30):  # enough rows to need a new page
            for event in a_call(f"{CALL}{n}"):
                recorder(event)
        await retried.wait()
        await store.writer.write(lambda conn: conn.execute("PRAGMA max_page_count = 1000000"))
        await recorder.drain()
        calls = await store.reader.run(store.reader.list_calls)
    assert len(calls) == 30
    assert {c.outcome for c in calls} == {"failed"}


def test_call_metrics_follow_the_events() -> None:
    registry = Registry()
    calls = registry.register(Counter("t_calls_total", "calls", labels=("outcome",)))
    active = registry.register(Gauge("t_active", "active"))
    latency = registry.register(Histogram("t_latency_seconds", "latency", buckets=(0.5, 1.0)))
    metrics = CallMetrics(calls, active, latency)
    events = a_call()
    for event in events[:3]:
        metrics(event)
    assert active.value() == 1
    for event in events[3:]:
        metrics(event)
    assert active.value() == 0
    assert calls.value(outcome="failed") == 1
    assert latency.count() == 1
    metrics.interrupted(2)
    text = registry.render()
    assert 't_calls_total{outcome="interrupted"} 2' in text
    assert 't_latency_seconds_bucket{le="0.5"} 1' in text
