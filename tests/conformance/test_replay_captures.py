"""Every captured call with a real Asterisk 22.10.1, replayed against the fake Asterisk.

The captures (``../shared/ari-captures/*.jsonl``, beside the repository clone) are the
truth about Asterisk's behaviour. Each one is replayed by :func:`ari_app.testing.replay.
replay`: the same requests in the same order, the caller's and agents' actions through
the fake's control API where the capture shows them. The fake must answer with the same
HTTP statuses (and channel states) and send the same events, per channel and bridge, in
the same order — ids, times and ``ChannelVarset`` events aside. A new capture file is
picked up without changing this test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.testing.fake_asterisk import FakeAsterisk
from ari_app.testing.replay import replay

CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "ari-captures"
FILES = (sorted(CAPTURES.glob("*.jsonl")) if CAPTURES.is_dir() else []) or [CAPTURES / "missing"]
"""Every capture; a placeholder that fails with a clear message when there is none."""
MISSING = (
    f"the ARI captures are missing: expected *.jsonl in {CAPTURES} (shared/ari-captures "
    "beside the repository clone, as in CI)"
)


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk with the lab dialplan, recordings under ``tmp_path``."""
    pbx = FakeAsterisk(recordings_dir=tmp_path / "recordings")
    await pbx.start("127.0.0.1", 0)
    yield pbx
    await pbx.stop()


@pytest.mark.parametrize("capture", FILES, ids=lambda p: p.stem)
async def test_fake_replays_the_capture(fake: FakeAsterisk, capture: Path) -> None:
    assert capture.name != "missing", MISSING
    result = await replay(fake, capture)
    assert result.actual_statuses == result.expected_statuses
    assert sorted(result.actual_events) == sorted(result.expected_events)
    for obj, expected in result.expected_events.items():
        assert result.actual_events[obj] == expected, obj
    assert fake.channels == {} or capture.stem.startswith("s6_"), list(fake.channels)
