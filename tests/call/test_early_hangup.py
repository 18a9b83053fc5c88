"""Callers who hang up within moments of arriving leave nothing behind (issue 14, fault 6).

Answer, bridge and externalMedia are set up at once; a hang-up during any of them must
still end with no bridge and no media channel of the call left in Asterisk. Before the fix
``asyncio.gather`` left its sibling steps running unowned, and an externalMedia request
cut off mid-flight was created by Asterisk after the clean-up had already tried it.
"""

from __future__ import annotations

import asyncio

import pytest

from ari_app.simulation import Simulation

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]


@pytest.mark.parametrize("after_ms", [0, 5, 20, 50, 120, 200])
async def test_hang_up_during_set_up_leaves_nothing(sim: Simulation, after_ms: int) -> None:
    assert sim.fake is not None
    assert sim.runtime is not None
    fake = sim.fake
    call = await sim.place("main")
    await asyncio.sleep(after_ms / 1000)  # the moment of the hang-up is what is varied
    await call.hangup()
    result = await sim.wait_ended(call.channel_id)
    assert result.outcome == "abandoned"
    task = sim.runtime.supervisor.tasks.get(call.channel_id)
    if task is not None:
        await task

    def left() -> tuple[list[str], list[str]]:
        channels = [c.id for c in fake.channels.values() if c.id.startswith(call.channel_id)]
        channels = [c for c in channels if not fake.channels[c].destroyed]
        bridges = [b for b in fake.bridges if b.startswith(call.channel_id)]
        return channels, bridges

    try:
        await fake.wait_until(lambda: left() == ([], []), 10)
    except TimeoutError:
        pytest.fail(f"left behind: {left()}")
    assert call.channel_id not in sim.runtime.supervisor.sessions
