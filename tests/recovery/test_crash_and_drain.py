"""``ari-app run`` killed mid-call and started again; SIGTERM while callers keep coming.

The app runs as a real process (the installed console script) against the fake Asterisk,
which keeps a dead app's bridge and media channel as a real Asterisk 22 does
(``../shared/ari-captures/s6_kill_and_recover.jsonl``): re-creating them under the same ids
would get 409/500. After the restart the caller must hear the agent again, and nothing of
the dead process may be left in Asterisk. A caller arriving while the app drains must
reach people through the dialplan's fallback, never a 603.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ari_app.call.ids import owner_of
from ari_app.testing import FakeAsterisk
from ari_app.web.auth import DEFAULT_TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]
ARI_APP = Path(sys.executable).with_name("ari-app")
USER, PASSWORD, APP = "ari_app", "recovery-secret", "ari-app"
pytestmark = pytest.mark.slow


def config_dir(tmp_path: Path, port: int) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    app: dict[str, Any] = yaml.safe_load((target / "app.yaml").read_text(encoding="utf-8"))
    app["ari"]["url"] = f"http://127.0.0.1:{port}"
    app["store"] = {
        "path": str(tmp_path / "var" / "calls.sqlite3"),
        "voicemail_dir": str(tmp_path / "var" / "voicemail"),
    }
    (target / "app.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    return target


class App:
    """One ``ari-app run`` process."""

    def __init__(self, config: Path, cwd: Path) -> None:
        self.config, self.cwd = config, cwd
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self, fake: FakeAsterisk) -> None:
        env = {**os.environ, "ARI_PASSWORD": PASSWORD}
        env.pop(DEFAULT_TOKEN_ENV, None)
        self.process = await asyncio.create_subprocess_exec(
            str(ARI_APP),
            "run",
            "-c",
            str(self.config),
            cwd=self.cwd,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stderr is not None
        async with asyncio.timeout(180):
            while not any("taking calls" in line for line in self.lines):
                raw = await self.process.stderr.readline()
                assert raw, f"ari-app run stopped early: {self.lines}"
                self.lines.append(raw.decode())
        self._reader = asyncio.create_task(self._read_on())
        await fake.wait_until(lambda: fake.app_registered(APP), 30)

    async def _read_on(self) -> None:
        """Keep reading stderr (what it says, and so the pipe never fills up)."""
        assert self.process is not None
        assert self.process.stderr is not None
        while raw := await self.process.stderr.readline():
            self.lines.append(raw.decode())

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self) -> int:
        assert self.process is not None
        async with asyncio.timeout(90):
            return await self.process.wait()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await self._reader


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    server = FakeAsterisk(username=USER, password=PASSWORD)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def ours(fake: FakeAsterisk, call_id: str) -> tuple[set[str], set[str]]:
    """(channels, bridges) the fake holds that belong to call ``call_id``."""
    channels = {c for c in fake.channels if owner_of(c) == call_id}
    bridges = {b for b in fake.bridges if owner_of(b) == call_id}
    return channels, bridges


async def test_sigkill_mid_call_restart_then_drain(fake: FakeAsterisk, tmp_path: Path) -> None:
    """Killed mid-call: the restarted app cleans up and gives the caller the agent again.
    Then SIGTERM: that call goes on, and a new caller reaches people, not a 603."""
    config = config_dir(tmp_path, fake.port)
    first = App(config, tmp_path)
    second = App(config, tmp_path)
    try:
        await first.start(fake)
        call = await fake.place_call(
            did="+16175550142", app=APP, args=["main"], context="ari-app-inbound"
        )
        await call.wait_heard_speech(500, within=30)
        before_channels, before_bridges = ours(fake, call.channel_id)
        assert before_channels, "the call has a media channel"
        assert before_bridges, "the call has a bridge"

        await first.kill()  # SIGKILL: no cleanup at all
        await fake.wait_until(lambda: not fake.app_registered(APP), 10)
        # Asterisk keeps what the dead app made, and the caller.
        assert ours(fake, call.channel_id) == (before_channels, before_bridges)
        assert call.state == "Up"

        call.heard(clear=True)
        await second.start(fake)
        await fake.wait_until(lambda: bool(ours(fake, call.channel_id)[0]), 30)
        call.heard(clear=True)
        await call.wait_heard_speech(500, within=30)  # the agent's greeting, anew
        # While the new process loaded its models the caller was on hold (Asterisk's own
        # prompt, then music), not in silence; the hold ended before our greeting.
        held = [
            (r["method"], str(r["path"]).rsplit("/", 1)[-1])
            for r in fake.request_log
            if f"/channels/{call.channel_id}/" in str(r.get("path", ""))
        ]
        for step in (("POST", "play"), ("POST", "moh"), ("DELETE", "moh")):
            assert step in held, held
        assert held.index(("POST", "moh")) < held.index(("DELETE", "moh"))
        after_channels, after_bridges = ours(fake, call.channel_id)
        assert after_channels, "the restarted app gave the call a new media channel"
        assert not after_channels & before_channels, "the dead app's media channel is gone"
        assert not after_bridges & before_bridges, "the dead app's bridge is gone"
        refused = [r for r in fake.request_log if r.get("status") in (409, 500)]
        assert refused == [], f"re-used ids: {refused}"

        second.signal(signal.SIGTERM)  # drains: the call in progress goes on
        await fake.wait_until(lambda: app_says(second, "stopping"), 30)
        newcomer = await fake.place_call(
            did="+16175550142",
            caller_number="+15550199",
            app=APP,
            args=["main"],
            context="ari-app-inbound",
        )
        await fake.wait_until(
            lambda: any("PJSIP/201" in step for step in newcomer.dialplan_log), 15
        )
        assert not any("603" in step for step in newcomer.dialplan_log), newcomer.dialplan_log
        assert call.state == "Up"

        await call.hangup()
        await fake.wait_until(lambda: ours(fake, call.channel_id) == (set(), set()), 30)
        assert await second.wait() == 0
    finally:
        await first.kill()
        await second.kill()


def app_says(app: App, text: str) -> bool:
    return any(text in line for line in app.lines)
