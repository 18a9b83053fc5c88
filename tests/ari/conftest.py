"""Fixtures: a fake Asterisk on a loopback port, an ARI client and its events listener."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.listener import EventListener
from ari_app.testing.event_log import APP, EventLog, listening
from ari_app.testing.fake_asterisk import FakeAsterisk


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    """A started fake Asterisk with recordings and sounds under ``tmp_path``."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    pbx = FakeAsterisk(recordings_dir=tmp_path / "recordings", sounds_dir=sounds)
    await pbx.start("127.0.0.1", 0)
    yield pbx
    await pbx.stop()


@pytest.fixture
async def client(fake: FakeAsterisk) -> AsyncIterator[AriClient]:
    """An ARI client pointed at the fake."""
    ari = AriClient(fake.ari_url, fake.username, fake.password, APP, timeout=5.0)
    yield ari
    await ari.close()


@pytest.fixture
async def events(client: AriClient) -> AsyncIterator[tuple[EventListener, EventLog]]:
    """A connected events listener and the log of what it received."""
    async with listening(client) as connected:
        yield connected
