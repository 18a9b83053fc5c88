"""``ari-app calls / call / voicemails / report`` on a real store file, text and --json."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ari_app.cli import main
from ari_app.store import Store
from ari_app.store.db import Database
from ari_app.store.report import EVENT_AGENT_RING
from ari_app.testing.pg_cluster import PgCluster
from tests.store.conftest import pg_database

NOW = datetime.now(UTC).replace(microsecond=0)


def at(hours_ago: float, plus_s: float = 0) -> datetime:
    return NOW - timedelta(hours=hours_ago) + timedelta(seconds=plus_s)


async def _seed(db: Path | Database) -> None:
    async with Store(db) as store:
        c = store.calls
        await c.start_call("old-1", "main", "+15550001", "+15550000", at(72))
        await c.finish_call("old-1", "resolved", ended_at=at(72, 30))

        await c.start_call("new-1", "main", "+15550002", "+15550000", at(2))
        await c.add_turn(
            "new-1",
            "caller",
            "can i speak to someone",
            confidence=0.84,
            start_ms=900,
            end_ms=2300,
            at=at(2, 2),
        )
        await c.add_turn(
            "new-1",
            "assistant",
            "Connecting you now.",
            start_ms=2800,
            latency_ms=500,
            at=at(2, 3),
        )
        await c.note_handoff("new-1", "asked_for_person", at=at(2, 4))
        await c.add_event("new-1", EVENT_AGENT_RING, {"agent": "alice"}, at=at(2, 5))
        await c.finish_call("new-1", "handed_off", agent="alice", ended_at=at(2, 90))

        await c.start_call("new-2", "after_hours", "+15550003", "+15550009", at(1))
        await c.add_knowledge_gap("new-2", "Do you do Saturday cleanings?", at=at(1, 5))
        await c.finish_call("new-2", "voicemail", handoff_reason="closed", ended_at=at(1, 60))
        job = await store.voicemails.create_job(
            "vm-x", call_id="new-2", line="after_hours", caller="+15550003", recorded_at=at(1, 30)
        )
        await store.voicemails.mark_stored(
            job.id,
            path="/srv/vm/000001-vm-x.wav",
            size_bytes=96044,
            duration_s=6.0,
            sample_rate=8000,
        )
        await store.voicemails.mark_saved(
            job.id, transcript="please call me about saturday", transcript_error=None
        )
        await store.voicemails.mark_done(job.id)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store.sqlite3"
    asyncio.run(_seed(path))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_calls_filters_by_since_and_outcome(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "calls", "--db", str(db))
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == ["new-2", "new-1", "old-1"]
    rows = run_json(capsys, "calls", "--db", str(db), "--since", "24h")
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == ["new-2", "new-1"]
    rows = run_json(capsys, "calls", "--db", str(db), "--outcome", "handed_off")
    assert isinstance(rows, list)
    assert [(r["id"], r["agent"]) for r in rows] == [("new-1", "alice")]

    assert main(["calls", "--db", str(db), "--since", "24h"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "STARTED",
        "(UTC)",
        "LINE",
        "CALLER",
        "OUTCOME",
        "HANDOFF",
        "AGENT",
        "LENGTH",
        "ID",
    ]
    assert "voicemail" in out[1]
    assert "closed" in out[1]
    started = at(2).strftime("%Y-%m-%d %H:%M:%S").split()
    assert out[2].split() == [
        *started,
        "main",
        "+15550002",
        "handed_off",
        "asked_for_person",
        "alice",
        "90",
        "s",
        "new-1",
    ]


def test_call_shows_the_transcript(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "new-1", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "handoff: asked_for_person, answered by alice" in out
    assert "caller: can i speak to someone  (conf 0.84)" in out
    assert "assistant: Connecting you now.  (latency 500 ms)" in out
    assert 'agent_ring {"agent": "alice"}' in out
    data = run_json(capsys, "call", "new-2", "--db", str(db))
    assert isinstance(data, dict)
    assert data["voicemails"][0]["transcript"] == "please call me about saturday"


def test_voicemails_and_report(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "voicemails", "--db", str(db))
    assert isinstance(rows, list)
    assert [(r["caller"], r["duration_s"], r["state"]) for r in rows] == [
        ("+15550003", 6.0, "done")
    ]
    report = run_json(capsys, "report", "--db", str(db), "--since", "1d")
    assert isinstance(report, dict)
    assert report["ended_calls"] == 2
    assert report["resolution_rate"] == 0.0
    assert report["handoffs"] == [
        {"reason": "asked_for_person", "calls": 1, "rate": 0.5},
        {"reason": "closed", "calls": 1, "rate": 0.5},
    ]
    assert report["knowledge_gaps"] == [{"question": "Do you do Saturday cleanings?", "count": 1}]
    assert main(["report", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "resolution rate: 33%" in out
    assert "alice: answered 1 of 1 (100%)" in out
    assert "Do you do Saturday cleanings?" in out


def test_bad_input_gets_a_clear_message(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calls", "--db", str(tmp_path / "none.sqlite3")]) == 1
    assert "no call store at" in capsys.readouterr().err
    assert main(["report", "--db", str(db), "--since", "last tuesday"]) == 2
    assert "cannot read --since 'last tuesday'" in capsys.readouterr().err
    assert main(["call", "nope", "--db", str(db)]) == 1
    assert "no call 'nope'" in capsys.readouterr().err


def test_default_store_path_comes_from_app_yaml(db: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "app.yaml").write_text(f"store:\n  path: {db}\n  voicemail_dir: {tmp_path}\n")
    done = subprocess.run(
        [sys.executable, "-m", "ari_app", "voicemails", "-c", str(config), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["recording_name"] == "vm-x"


def test_a_bad_store_section_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.yaml").write_text("store:\n  path: ''\n")
    assert main(["calls", "-c", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "app.yaml: store.path:" in err


def test_the_commands_read_a_postgresql_store_named_in_app_yaml(
    pg_cluster: PgCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = pg_database(pg_cluster)
    asyncio.run(_seed(database))
    (tmp_path / "app.yaml").write_text(
        f"store:\n  url: {database.url}\n  password_env: CLI_PG_PASSWORD\n"
    )
    monkeypatch.setenv("CLI_PG_PASSWORD", pg_cluster.password)
    rows = run_json(capsys, "calls", "-c", str(tmp_path))
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == ["new-2", "new-1", "old-1"]
    report = run_json(capsys, "report", "-c", str(tmp_path), "--since", "1d")
    assert isinstance(report, dict)
    assert report["agents"] == [{"agent": "alice", "rung": 1, "answered": 1, "answer_rate": 1.0}]
    assert main(["call", "new-1", "-c", str(tmp_path)]) == 0
    assert "caller: can i speak to someone  (conf 0.84)" in capsys.readouterr().out
    (tmp_path / "app.yaml").write_text("store:\n  url: postgresql://a:pw@h/db\n")
    assert main(["calls", "-c", str(tmp_path)]) == 1
    assert "store.url: Value error, store.url must not contain a password" in (
        capsys.readouterr().err
    )
