"""`ari.mode: outbound` with `connection_type = per_call_config`, end to end: the fake
Asterisk opens one WebSocket per call at Stasis() (application `<app>:<channel name>`);
the supervisor starts the call's session with that socket's client, so every request of a
call goes back over the socket its call came on; a socket lost mid-call comes back (the
fake reconnects, queued events first, then ApplicationRegistered) and the call goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ari_app.ari.outbound import OutboundEvents
from ari_app.call import events as ev
from ari_app.simulation import HangUp, Press, Simulation, Step, WaitFor
from ari_app.testing.model import Behaviour
from tests.call.conftest import AGENTS, OPEN, short_config

PERSON_NOW: list[Step] = [Press("0"), WaitFor(ev.CallEventType.BRIDGED), HangUp()]
"""The caller asks for a person (no speech: the test is about sockets), talks, hangs up."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Simulation]:
    root = tmp_path_factory.mktemp("per-call")
    simulation = Simulation(
        short_config(root / "config"),
        cache_dir=root / "cache",
        store_path=root / "var" / "calls.sqlite3",
        voicemail_dir=root / "var" / "voicemail",
        ari_mode="outbound",
        connection_type="per_call_config",
    )
    simulation.moment = OPEN  # in hours, whatever the clock says
    async with simulation:
        simulation.agents(Behaviour.ANSWER, *AGENTS, answer_delay=0.3)
        yield simulation


def _events(sim: Simulation) -> OutboundEvents:
    assert sim.runtime is not None
    listener = sim.runtime.listener
    assert isinstance(listener, OutboundEvents)
    return listener


@pytest.mark.asyncio(loop_scope="module")
async def test_two_calls_each_over_its_own_socket(sim: Simulation) -> None:
    assert sim.runtime is not None
    supervisor = sim.runtime.supervisor
    calls = [await sim.place("main", "+16175550101"), await sim.place("main", "+16175550102")]
    for call in calls:
        await sim.wait_event(call.channel_id, ev.Answered)
    clients = [supervisor.clients[call.channel_id] for call in calls]
    assert [c.app for c in clients] == [f"ari-app:{call.channel.name}" for call in calls]
    assert clients[0] is not clients[1]
    assert all(c is not supervisor.ari for c in clients)

    # Both calls are live, each on its own socket; they ask for a person one after the
    # other. (At the same moment, the second would find both agents ringing for the first
    # and go to voicemail: a race of the front desk's two agents, not of the sockets.)
    results = [await sim.run_call_on(call, PERSON_NOW, within=240) for call in calls]
    assert [r.outcome for r in results] == ["handed_off", "handed_off"]
    # Each call's requests went over its own socket: each route's client answered once.
    for client in clients:
        assert [r.operation for r in client.request_log].count("answer") == 1
    config = sim.fake.outbound.configs[0] if sim.fake else None
    assert config is not None
    assert config.connects >= 2


@pytest.mark.asyncio(loop_scope="module")
async def test_a_socket_lost_mid_call_reconnects_and_the_call_goes_on(sim: Simulation) -> None:
    events = _events(sim)
    call = await sim.place("main", "+16175550103")
    await sim.wait_event(call.channel_id, ev.Answered)
    route = next(
        r for (_, app), r in events.link.calls.items() if app.endswith(f":{call.channel.name}")
    )
    first = route.conns[-1]
    adopted = events.link.adopted
    assert sim.fake is not None
    config = sim.fake.outbound.configs[0]
    connects = config.connects
    await first.ws.close()  # the worker's side drops; Asterisk reconnects the call's socket
    await sim.fake.wait_until(lambda: config.connects > connects, 30)

    result = await sim.run_call_on(call, PERSON_NOW, within=240)
    assert result.outcome == "handed_off"
    assert len(result.of(ev.Ended)) == 1  # one session all along: no failure, no restart
    assert route.conns[-1] is not first
    assert events.link.adopted == adopted + 1  # the reconnection was recognised as one
    assert any("entered as ari-app:" in line for line in call.dialplan_log)
    assert not any("FAILED" in line for line in call.dialplan_log)
