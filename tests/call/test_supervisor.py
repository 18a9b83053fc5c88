"""The supervisor, on this module's own simulation (draining ends it): reload keeps the
last good config; drain lets calls finish and sends new ones back to the dialplan; unknown
lines go back to the dialplan too."""

from __future__ import annotations

import asyncio

import pytest

from ari_app.call.events import CallEventType as E
from ari_app.simulation import Simulation

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_reload_keeps_last_good_config(sim: Simulation) -> None:
    assert sim.runtime is not None
    supervisor = sim.runtime.supervisor
    lines = sim.config_dir / "lines.yaml"
    good = lines.read_text()
    lines.write_text(good.replace("America/New_York", "Nowhere/Town"))
    supervisor.reload()
    assert supervisor.holder.generation == 1
    lines.write_text(good.replace("how can I help?", "what can I do for you?"))
    supervisor.reload()
    assert supervisor.holder.generation == 2
    assert "what can I do for you?" in supervisor.holder.current.lines["main"].ai_agent.greeting


async def test_unknown_line_goes_back_to_the_dialplan(sim: Simulation) -> None:
    assert sim.fake is not None
    assert sim.runtime is not None
    call = await sim.fake.place_call(app=sim.runtime.ari.app, args=["no-such-line"])
    fake = sim.fake
    await fake.wait_until(lambda: any("rang" in step for step in call.dialplan_log), 10)
    continued = [r for r in fake.request_log if str(r.get("path", "")).endswith("/continue")]
    assert continued
    assert call.channel.variables["ARI_APP_FALLBACK"] == "unknown_line"
    assert not any("603" in step for step in call.dialplan_log), call.dialplan_log


async def test_drain_finishes_calls_and_refuses_new_ones(sim: Simulation) -> None:
    assert sim.runtime is not None
    assert sim.fake is not None
    supervisor = sim.runtime.supervisor
    call = await sim.place("main")
    await sim.wait_event(call.channel_id, E.GREETING)
    supervisor.stop_accepting()
    drain = asyncio.create_task(supervisor.drain(30))
    late = await sim.place("main", caller_number="+16175550199")
    fake = sim.fake
    await fake.wait_until(lambda: any("rang" in step for step in late.dialplan_log), 10)
    assert late.channel.variables["ARI_APP_FALLBACK"] == "draining"
    assert late.channel_id not in supervisor.sessions
    assert not drain.done()
    await call.hangup()
    await asyncio.wait_for(drain, 10)
    assert supervisor.tasks == {}
    assert sim.result(call.channel_id).outcome == "abandoned"
