"""The call store: records written as the call happens, crash recovery, migrations, errors."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ari_app.metrics.registry import Histogram
from ari_app.store import Outcome, Store, StoreError, StoreReader
from ari_app.store.db import Database
from ari_app.store.report import EVENT_AGENT_RING, build_report
from ari_app.store.schema import LATEST_VERSION, MIGRATIONS, migrate, schema_version
from ari_app.store.since import parse_since
from ari_app.store.sqlite_db import SqliteConn

T0 = datetime(2026, 11, 2, 14, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_records_appear_while_the_call_is_live(store_target: Path | Database) -> None:
    async with Store(store_target) as store:
        await store.calls.start_call("c1", "main", "+15550101", "+15550000", at(0))
        other = StoreReader(store_target)  # as another process (the CLI, the dashboard) would
        row = other.query("SELECT line, caller, outcome, ended_at FROM calls")[0]
        assert row == ("main", "+15550101", None, None)

        await store.calls.add_turn(
            "c1",
            "caller",
            "when are you open",
            confidence=0.91,
            start_ms=800,
            end_ms=2100,
            at=at(2.1),
        )
        await store.calls.add_turn(
            "c1",
            "assistant",
            "We are open 8 to 5.",
            start_ms=2600,
            end_ms=4000,
            latency_ms=500,
            at=at(2.6),
        )
        turns = other.query("SELECT speaker, text, latency_ms FROM turns ORDER BY id")
        assert turns == [
            ("caller", "when are you open", None),
            ("assistant", "We are open 8 to 5.", 500),
        ]
        await store.calls.note_handoff("c1", "asked_for_person", target="front_desk", at=at(5))
        assert other.query("SELECT handoff_reason, outcome FROM calls")[0] == (
            "asked_for_person",
            None,
        )
        live = await store.reader.run(store.reader.list_calls, live=True)
        assert [c.id for c in live] == ["c1"]

        assert await store.calls.finish_call(
            "c1", Outcome.HANDED_OFF, agent="alice", ended_at=at(9)
        )
        assert not await store.calls.finish_call("c1", Outcome.ABANDONED, ended_at=at(10))
        record = await store.reader.run(store.reader.get_call, "c1")
        assert record is not None
        assert record.outcome == "handed_off"
        assert record.agent == "alice"
        assert record.handoff_reason == "asked_for_person"
        assert record.duration_s == pytest.approx(9.0)
        assert [e.kind for e in record.events] == ["handoff"]
        assert record.events[0].data == {"reason": "asked_for_person", "target": "front_desk"}
        other.close()


async def test_a_bad_write_fails_alone_and_the_writer_goes_on(
    store_target: Path | Database,
) -> None:
    async with Store(store_target) as store:
        await store.calls.start_call("ok", "main", None, None, at(0))
        results = await asyncio.gather(
            store.calls.add_turn("ok", "caller", "one", at=at(1)),
            store.calls.add_turn("missing", "caller", "lost", at=at(1)),
            store.calls.add_turn("ok", "caller", "two", at=at(2)),
            store.calls.finish_call("ok", "no-such-outcome"),
            return_exceptions=True,
        )
        assert isinstance(results[1], StoreError)
        assert "no call 'missing'" in str(results[1])
        assert isinstance(results[3], StoreError)
        assert "unknown call outcome" in str(results[3])
        with pytest.raises(ValueError, match="no time zone"):
            await store.calls.start_call("naive", "main", None, None, datetime(2026, 1, 1))
        record = await store.reader.run(store.reader.get_call, "ok")
        assert record is not None
        assert [t.text for t in record.turns] == ["one", "two"]


async def test_many_concurrent_writers_all_commit_in_order(
    store_target: Path | Database,
) -> None:
    db = store_target
    async with Store(db) as store:
        await store.calls.start_call("busy", "main", None, None, at(0))
        await asyncio.gather(
            *(store.calls.add_turn("busy", "caller", f"turn {i}", at=at(i)) for i in range(200))
        )
    reader = StoreReader(db)
    record = reader.get_call("busy")
    reader.close()
    assert record is not None
    assert [t.text for t in record.turns] == [f"turn {i}" for i in range(200)]
    assert record.outcome is None  # closed cleanly: nothing marks it until the next start


def test_a_killed_app_leaves_an_interrupted_record(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("call_child.py")), str(db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "READY\n"
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    child.stdout.close()

    async def reopen() -> list[str]:
        async with Store(db) as store:
            return store.interrupted

    assert asyncio.run(reopen()) == ["crash-1"]
    reader = StoreReader(db)
    record = reader.get_call("crash-1")
    reader.close()
    assert record is not None
    assert record.outcome == "interrupted"
    assert record.ended_at == datetime(2026, 11, 3, 9, 0, 4, tzinfo=UTC).timestamp()
    assert [t.text for t in record.turns] == ["do you take new patients"]
    assert [e.kind for e in record.events] == ["interrupted"]


async def test_migrates_a_version_1_store_keeping_its_calls(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(SqliteConn(conn), target=1) == 1
    conn.execute(
        "INSERT INTO calls (id, line, caller, did, started_at, ended_at, outcome) "
        "VALUES ('old', 'main', '+1555', '+1000', ?, ?, 'resolved')",
        (at(0).timestamp(), at(30).timestamp()),
    )
    conn.execute(
        "INSERT INTO turns (call_id, speaker, text, at) VALUES ('old', 'caller', 'hi', ?)",
        (at(1).timestamp(),),
    )
    conn.close()

    with pytest.raises(StoreError, match="schema version 1"):
        StoreReader(db).open()

    async with Store(db) as store:
        assert store.interrupted == []
        await store.calls.add_knowledge_gap("old", "Do you whiten teeth?", at=at(31))
        job = await store.voicemails.create_job(
            "vm-old", call_id="old", line="main", caller="+1555", recorded_at=at(20)
        )
        assert job.state == "pending"
        record = await store.reader.run(store.reader.get_call, "old")
    assert record is not None
    assert record.updated_at == at(31).timestamp()  # backfilled by v2, then touched
    assert [t.text for t in record.turns] == ["hi"]
    check = sqlite3.connect(db)
    assert schema_version(SqliteConn(check)) == LATEST_VERSION == len(MIGRATIONS)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()


async def test_refuses_a_store_from_a_newer_version(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this ari_app"):
        await Store(db).open()


def test_reader_names_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no call store at"):
        StoreReader(tmp_path / "nothing.sqlite3").open()


async def test_report_counts_rates_agents_and_gaps(store_target: Path | Database) -> None:
    async with Store(store_target) as store:
        c = store.calls
        for i, (outcome, reason, agent) in enumerate(
            [
                ("resolved", None, None),
                ("resolved", None, None),
                ("resolved", None, None),
                ("handed_off", "asked_for_person", "alice"),
                ("handed_off", "keyword:refund", "bob"),
                ("voicemail", "asked_for_person", None),
                ("abandoned", None, None),
                ("failed", None, None),
            ]
        ):
            cid = f"c{i}"
            await c.start_call(cid, "main", f"+1555010{i}", "+15550000", at(i * 100))
            await c.add_turn(
                cid, "assistant", "hello", latency_ms=200 + i * 100, at=at(i * 100 + 1)
            )
            if reason:
                await c.note_handoff(cid, reason, at=at(i * 100 + 5))
                for rung in ("alice", "bob"):
                    await c.add_event(cid, EVENT_AGENT_RING, {"agent": rung}, at=at(i * 100 + 6))
            await c.finish_call(cid, outcome, agent=agent, ended_at=at(i * 100 + 60))
        await c.start_call("live", "main", None, None, at(900))
        for q in ("Do you whiten teeth?", "do you WHITEN teeth", "Is parking free?"):
            await c.add_knowledge_gap("c0", q, at=at(50))
        await store.voicemails.create_job("vm1", call_id="c5", line="main", caller="x")

        report = await store.reader.run(build_report, store.reader)
        assert report.ended_calls == 8
        assert report.live_calls == 1
        assert report.outcomes["resolved"] == 3
        assert report.resolution_rate == pytest.approx(3 / 8)
        assert report.deflection_rate == pytest.approx(3 / 6)
        assert report.handoff_calls == 3
        assert [(h.reason, h.calls) for h in report.handoffs] == [
            ("asked_for_person", 2),
            ("keyword:refund", 1),
        ]
        assert report.agent_answer_rate == pytest.approx(2 / 3)
        assert [(a.agent, a.rung, a.answered) for a in report.agents] == [
            ("alice", 3, 1),
            ("bob", 3, 1),
        ]
        assert report.voicemails == 1
        assert report.voicemails_pending == 1
        assert [(g.question, g.count) for g in report.knowledge_gaps] == [
            ("do you WHITEN teeth", 2),
            ("Is parking free?", 1),
        ]
        assert report.mean_turn_latency_ms == pytest.approx(550.0)

        later = await store.reader.run(build_report, store.reader, at(450).timestamp())
        assert later.ended_calls == 3
        assert later.outcomes["voicemail"] == 1


async def test_a_recovered_call_resumes_its_record(tmp_path: Path) -> None:
    """A call taken back after a restart goes on in its own row (not "already in the store")."""
    db = tmp_path / "r.sqlite3"
    async with Store(db) as store:
        assert await store.calls.start_call("back", "main", "+15550101", "100", at(0)) is False
        await store.calls.add_turn("back", "caller", "before the crash", at=at(1))
    async with Store(db) as store:  # the restart closes it as interrupted
        assert store.interrupted == ["back"]
        assert await store.calls.start_call("back", "main", "+15550101", "100", at(5)) is True
        await store.calls.add_turn("back", "caller", "after the restart", at=at(6))
        assert await store.calls.finish_call("back", Outcome.RESOLVED, ended_at=at(9))
        record = await store.reader.run(store.reader.get_call, "back")
    assert record is not None
    assert record.outcome == "resolved"
    assert record.started_at == at(0).timestamp()
    assert [t.text for t in record.turns] == ["before the crash", "after the restart"]
    assert [e.kind for e in record.events] == ["interrupted", "resumed"]
    assert record.events[1].data == {"previous_outcome": "interrupted"}


def test_histogram_buckets_are_cumulative() -> None:
    h = Histogram("t_seconds", "test", buckets=(0.1, 1.0), labels=("kind",))
    for value in (0.05, 0.5, 0.7, 3.0):
        h.observe(value, kind="a")
    lines = list(h.samples())
    assert lines == [
        't_seconds_bucket{kind="a",le="0.1"} 1',
        't_seconds_bucket{kind="a",le="1"} 3',
        't_seconds_bucket{kind="a",le="+Inf"} 4',
        't_seconds_sum{kind="a"} 4.25',
        't_seconds_count{kind="a"} 4',
    ]
    with pytest.raises(ValueError, match="takes labels"):
        h.observe(1.0)


def test_since_accepts_durations_and_dates() -> None:
    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot read --since"):
        parse_since("yesterday", now)
