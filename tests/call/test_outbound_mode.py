"""`ari.mode: outbound` end to end: the fake Asterisk connects to the real runtime over a
persistent ARI outbound WebSocket; a call is greeted and answered by the AI agent, with
every REST request carried over that socket (none over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.ari.outbound import OutboundEvents
from ari_app.call import events as ev
from ari_app.simulation import Say, Simulation
from tests.call.conftest import short_config


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(
    tmp_path_factory: pytest.TempPathFactory, sim_cache: Callable[[Path], Path]
) -> AsyncIterator[Simulation]:
    root = tmp_path_factory.mktemp("outbound")
    simulation = Simulation(
        short_config(root / "config"),
        cache_dir=sim_cache(root),
        store_path=root / "var" / "calls.sqlite3",
        voicemail_dir=root / "var" / "voicemail",
        ari_mode="outbound",
    )
    async with simulation:
        yield simulation


@pytest.mark.asyncio(loop_scope="module")
async def test_a_call_over_the_outbound_websocket(sim: Simulation) -> None:
    assert sim.fake is not None
    assert sim.runtime is not None
    listener = sim.runtime.listener
    assert isinstance(listener, OutboundEvents)
    assert listener.state.value == "connected"
    before = len(sim.fake.request_log)

    result = await sim.run_call("main", [Say("where do I park"), Say("no thanks")])

    assert result.outcome == "resolved"
    said = result.of(ev.AgentSaid)
    assert "park" in said[0].text.lower()
    # The runtime's REST requests went over the outbound socket (the fake ran them as the
    # local ARI user through its routes); its client never opened an HTTP session.
    served = list(sim.fake.request_log)[before:]
    assert "/channels/{channelId}/answer" in {e["template"] for e in served}
    assert sim.runtime.ari.transport is listener.link
    assert sim.runtime.ari._session is None
