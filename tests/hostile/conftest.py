"""Fixtures for the hostile-input tests: a fake Asterisk on loopback and a live listener."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.events import StasisStart
from ari_app.ari.listener import EventListener
from ari_app.testing.event_log import APP, EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk

CAPTURES = Path("/work/shared/ari-captures")
if not CAPTURES.is_dir():
    CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "ari-captures"


def captured_events() -> list[dict[str, Any]]:
    """Every event a real Asterisk 22.10.1 sent in the captures (the fuzzers' seeds)."""
    events: list[dict[str, Any]] = []
    for path in sorted(CAPTURES.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("kind") == "event":
                events.append(record["json"])
    return events


@dataclass
class Harness:
    """A fake Asterisk, a client and a listener dispatching into ``log``."""

    fake: FakeAsterisk
    client: AriClient
    listener: EventListener
    log: EventLog

    async def still_dispatches(self) -> None:
        """A real inbound call's StasisStart still reaches the handler, and it can answer."""
        call = await self.fake.place_call(did="5551000", caller_number="+15550199")
        event = await self.log.wait_for(StasisStart, channel__id=call.channel_id)
        assert event.channel.caller.number == "+15550199"
        await self.client.answer(call.channel_id)
        await call.wait_state("Up")
        assert self.listener._task is not None
        assert not self.listener._task.done()


@asynccontextmanager
async def harness(root: Path, log: EventLog | None = None) -> AsyncIterator[Harness]:
    """Start a fake Asterisk under ``root`` and a connected listener."""
    sounds = root / "sounds"
    sounds.mkdir(parents=True, exist_ok=True)
    fake = FakeAsterisk(recordings_dir=root / "recordings", sounds_dir=sounds)
    await fake.start("127.0.0.1", 0)
    client = AriClient(fake.ari_url, fake.username, fake.password, APP, timeout=5.0)
    events = log if log is not None else EventLog()
    listener = EventListener(client, events)
    try:
        await listener.start()
        async with asyncio.timeout(5):
            await listener.connected.wait()
        yield Harness(fake, client, listener, events)
    finally:
        await listener.stop()
        await client.close()
        await fake.stop()


@pytest.fixture
async def ari(tmp_path: Path) -> AsyncIterator[Harness]:
    """A fake Asterisk with a connected events listener."""
    async with harness(tmp_path) as h:
        yield h
