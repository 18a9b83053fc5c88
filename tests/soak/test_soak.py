"""Soak in CI: 20 short calls in a row and 5 at once leave no tasks, descriptors, threads,
fake channels, bridges or RTP sockets behind, and memory grows by less than a stated bound.

Each call is real: the caller's channel enters Stasis, the runtime answers, opens external
media over UDP on loopback and starts the greeting; the caller hangs up once it has heard
200 ms of it. The full version (100 in a row, 20 at once) is ``ari-app bench --soak 100
--calls 20``, with its figures in BENCHMARKS.md.
"""

from __future__ import annotations

from pathlib import Path

from ari_app.bench.load import MOMENT, soak
from ari_app.simulation import Simulation

CONFIG = Path(__file__).resolve().parents[2] / "config"
MEMORY_BOUND_MIB = 40.0
"""Growth allowed for 25 calls in the second round (allocator slack, not a leak)."""


async def test_twenty_in_a_row_and_five_at_once_leave_nothing_behind(tmp_path: Path) -> None:
    """Counts after the calls are back to their values before them."""
    async with Simulation(
        CONFIG,
        cache_dir=Path("var/cache"),
        store_path=tmp_path / "soak.sqlite3",
        voicemail_dir=tmp_path / "voicemail",
    ) as sim:
        sim.moment = MOMENT
        # The first round also absorbs what this process allocates once (in the suite it
        # shares an xdist worker with other tests' models: once 45 MiB there, 2 MiB alone);
        # a leak grows again in the second.
        first_before, first_after, failed = await soak(sim, in_row=20, at_once=5)
        before, after, failed_again = await soak(sim, in_row=20, at_once=5)
        calls = sim.runtime.supervisor.calls_started if sim.runtime else 0

    assert failed == failed_again == 0
    assert first_after.sessions == first_after.fake_channels == 0, (first_before, first_after)
    assert calls >= 2 * (2 + 5 + 20 + 5)
    assert after.sessions == 0
    assert after.fake_channels == 0
    assert after.fake_bridges == 0
    assert after.fake_rtp_legs_open == 0
    assert after.tasks <= before.tasks, (before, after)
    assert after.fds <= before.fds, (before, after)
    assert after.threads <= before.threads, (before, after)
    assert after.rss_mib - before.rss_mib < MEMORY_BOUND_MIB, (before, after)
