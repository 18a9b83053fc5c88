"""The app's own liveness: the heartbeat ``ari-app run`` writes and ``ari-app health`` reads.

Asterisk keeps a dead app listed (GET /applications/NAME answers 200 while it still has
channels), so the compose lab's health check reads the app's heartbeat instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from ari_app.cli import main
from ari_app.health import STALE_AFTER_S, beat_forever, read_health, write_beat


def test_a_fresh_connected_beat_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_beat(path, {"events": "connected", "accepting": True, "calls": 2})
    healthy, reason = read_health(path)
    assert healthy, reason
    assert "2 in progress" in reason


@pytest.mark.parametrize(
    ("state", "age_s", "says"),
    [
        ({"events": "connected", "accepting": True}, STALE_AFTER_S + 5, "dead or stuck"),
        ({"events": "backoff", "accepting": True}, 0.0, "socket is backoff"),
        ({"events": "connected", "stopped": True}, 0.0, "stopped"),
    ],
)
def test_stale_disconnected_or_stopped_is_unhealthy(
    tmp_path: Path, state: dict[str, object], age_s: float, says: str
) -> None:
    path = tmp_path / "health.json"
    write_beat(path, state)
    healthy, reason = read_health(path, now=time.time() + age_s)
    assert not healthy
    assert says in reason


def test_no_file_or_garbage_is_unhealthy(tmp_path: Path) -> None:
    assert read_health(tmp_path / "missing.json")[0] is False
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    healthy, reason = read_health(garbage)
    assert not healthy
    assert "unreadable" in reason


async def test_beat_forever_keeps_the_file_fresh_and_marks_the_stop(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    beats: list[float] = []
    written = asyncio.Event()

    def state() -> dict[str, object]:
        beats.append(time.time())
        if len(beats) >= 3:
            written.set()
        return {"events": "connected", "accepting": True, "calls": 0}

    task = asyncio.create_task(beat_forever(path, state, every_s=0.01))
    await written.wait()
    assert read_health(path)[0] is True
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert json.loads(path.read_text())["stopped"] is True
    assert read_health(path)[0] is False


def test_health_command_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "health.json"
    assert main(["health", "--file", str(path)]) == 1
    write_beat(path, {"events": "connected", "accepting": False, "calls": 0})
    assert main(["health", "--file", str(path)]) == 0
    assert "not taking new calls" in capsys.readouterr().out
