"""``connection_type = persistent`` behind HAProxy, with ``ari-app run`` processes: the fake
Asterisk keeps one WebSocket for all its calls, which HAProxy gives to one worker; that
worker is killed with ``kill -9`` mid-call; Asterisk reconnects (for ever, as
res_websocket_client does for a persistent connection) through HAProxy to the other worker,
which lists what is in the application and takes the caller back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from ari_app.testing.outbound import PERSISTENT
from tests.scale.pool import APP, HAPROXY, Pool

pytestmark = [
    pytest.mark.skipif(not Path(HAPROXY).exists(), reason="haproxy is not installed"),
    pytest.mark.timeout(900),
]
CALL_S = 120.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pool]:
    scale = Pool(
        tmp_path_factory.mktemp("persistent"), workers=2, asterisks=1, connection_type=PERSISTENT
    )
    try:
        await scale.start()
        yield scale
    finally:
        await scale.stop()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_persistent_socket_moves_to_a_survivor_which_takes_the_call_back(
    pool: Pool,
) -> None:
    fake = pool.fakes[0]
    (config,) = fake.outbound.configs
    call = await fake.place_call("+16175550142", "+16175556666", app=APP, args=["main"])
    await pool.wait(lambda: call.state == "Up" and pool.owner(call.channel_id) is not None, CALL_S)
    victim = pool.owner(call.channel_id)
    assert victim is not None
    survivor = next(w for w in pool.workers if w is not victim)
    connects = config.connects
    victim.kill()
    assert victim.process is not None
    await victim.process.wait()

    # The one socket comes back through HAProxy to the survivor, which recovers the
    # application's channels: the caller is taken back (its record there, a new bridge).
    await pool.wait(lambda: config.connects > connects, CALL_S)
    await pool.wait(lambda: call.channel_id in survivor.calls(), CALL_S)
    await pool.wait(lambda: call.channel.bridge_id is not None, CALL_S)
    await call.send_dtmf("0")
    await pool.wait(lambda: call.channel_id in survivor.answered(), CALL_S)
    await call.hangup()
    await pool.wait(lambda: survivor.calls()[call.channel_id][0] is not None, CALL_S)
    assert survivor.calls()[call.channel_id][0] == "handed_off"
    await fake.wait_until(lambda: not fake.bridges, 30)
