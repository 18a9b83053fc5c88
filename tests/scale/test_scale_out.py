"""Scale-out on loopback with real processes: two fake Asterisks open one ARI outbound
WebSocket per call (``per_call_config``) to HAProxy, which spreads them over three
``ari-app run`` workers; every call reaches an outcome; a worker killed with ``kill -9``
mid-call loses nothing: Asterisk reconnects the call's socket through HAProxy to a live
worker, which takes the call back (or, failing that, Stasis() fails and the dialplan rings
people).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall
from tests.scale.pool import APP, HAPROXY, Pool, dialplan_fallback

pytestmark = [
    pytest.mark.skipif(not Path(HAPROXY).exists(), reason="haproxy is not installed"),
    pytest.mark.timeout(900),
]
CALL_S = 120.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pool]:
    scale = Pool(tmp_path_factory.mktemp("scale"))
    try:
        await scale.start()
        yield scale
    finally:
        await scale.stop()


async def _no_bridges(fake: FakeAsterisk) -> None:
    await fake.wait_until(lambda: not fake.bridges, 30)


async def _person_now(pool: Pool, call: FakeCall) -> None:
    """Once the worker answered, the caller presses 0 (a person now); once an agent took
    the call (the worker recorded who) the caller hangs up. With every agent busy the
    call goes to voicemail and ends by itself after the caller's silence."""
    await pool.wait(lambda: call.state == "Up" and call.channel.bridge_id is not None, CALL_S)
    await call.send_dtmf("0")
    await pool.wait(lambda: pool.agent(call.channel_id) or call.state == "Gone", CALL_S)
    if call.state != "Gone":
        await call.hangup()


@pytest.mark.asyncio(loop_scope="module")
async def test_calls_spread_over_the_workers_and_all_reach_an_outcome(pool: Pool) -> None:
    calls: list[FakeCall] = []
    for n in range(6):
        fake = pool.fakes[n % 2]
        calls.append(
            await fake.place_call("+16175550142", f"+1617555{n:04d}", app=APP, args=["main"])
        )
    await asyncio.gather(*(_person_now(pool, call) for call in calls))

    ids = [call.channel_id for call in calls]
    assert len(set(ids)) == len(ids)  # systemname keeps the two Asterisks' ids apart
    await pool.wait(lambda: all(pool.outcome(i) for i in ids), CALL_S)
    detail = {i: [w.calls().get(i) for w in pool.workers] for i in ids}
    outcomes = [pool.outcome(i) for i in ids]
    # Three agents for six callers at once: some find every agent busy -> voicemail.
    assert set(outcomes) <= {"handed_off", "voicemail"}, detail
    assert "handed_off" in outcomes, detail
    owners = [pool.owner(i) for i in ids]
    per_worker = {w.name: sum(o is w for o in owners) for w in pool.workers}
    assert all(n >= 1 for n in per_worker.values()), per_worker
    for call in calls:
        assert not dialplan_fallback(call), call.dialplan_log
    for fake in pool.fakes:  # nothing left behind in either Asterisk
        await _no_bridges(fake)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_worker_killed_mid_call_loses_nothing(pool: Pool) -> None:
    fake = pool.fakes[0]
    call = await fake.place_call("+16175550142", "+16175559999", app=APP, args=["main"])
    await pool.wait(lambda: call.state == "Up" and pool.owner(call.channel_id) is not None, CALL_S)
    victim = pool.owner(call.channel_id)
    assert victim is not None
    victim.kill()
    assert victim.process is not None
    await victim.process.wait()

    # Asterisk reconnects the call's socket (through HAProxy, to a live worker), which
    # takes the caller back with a new session: answered, greeted, in a new bridge.
    await pool.wait(
        lambda: (
            any(w is not victim and call.channel_id in w.calls() for w in pool.workers)
            or dialplan_fallback(call)
        ),
        CALL_S,
    )
    await _person_now(pool, call)
    survivors = [w for w in pool.workers if w is not victim]
    await pool.wait(
        lambda: (
            any(w.calls().get(call.channel_id, (None,))[0] for w in survivors)
            or dialplan_fallback(call)
        ),
        CALL_S,
    )
    if not dialplan_fallback(call):
        outcomes = {
            w.calls()[call.channel_id][0] for w in survivors if call.channel_id in w.calls()
        }
        assert outcomes == {"handed_off"}
    await fake.wait_until(lambda: not fake.bridges, 30)
