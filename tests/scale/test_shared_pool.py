"""The pool on the shared PostgreSQL store (``store.url``): three ``ari-app run`` workers
behind HAProxy write their calls to one throwaway PostgreSQL (Debian's server, as in
tests/store); a round-robin team stays round-robin across workers; PostgreSQL restarted
under running workers loses no record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import pytest_asyncio

from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall
from ari_app.testing.pg_cluster import PgCluster, PgClusterError
from tests.scale.pool import AGENTS, APP, HAPROXY, Pool, dialplan_fallback

pytestmark = [
    pytest.mark.skipif(not Path(HAPROXY).exists(), reason="haproxy is not installed"),
    pytest.mark.timeout(900),
]
CALL_S = 120.0


def _tone(seconds: float, rate: int = 16000) -> bytes:
    """A 440 Hz tone, 16-bit little-endian PCM."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    try:
        pg = PgCluster().start()
    except PgClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield pg
    finally:
        pg.stop()


class Records:
    """The pool's call records, read from PostgreSQL."""

    def __init__(self, cluster: PgCluster, url: str) -> None:
        self.cluster = cluster
        self.url = url

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        try:
            with psycopg.connect(self.url, password=self.cluster.password) as conn:
                return conn.execute(sql, args).fetchall()
        except psycopg.Error:
            return []  # not migrated yet, or the server is restarting

    def outcome(self, call_id: str) -> str | None:
        rows = self.query("SELECT outcome FROM calls WHERE id = %s", call_id)
        return rows[0][0] if rows else None

    def bridged_agent(self, call_id: str) -> str | None:
        """The agent the caller was bridged with (``agent_answered``, written as it happens)."""
        rows = self.query(
            "SELECT data FROM events WHERE call_id = %s AND kind = 'agent_answered'", call_id
        )
        if not rows:
            return None
        data = rows[0][0]
        parsed = json.loads(data) if isinstance(data, str) else data
        return str(parsed.get("agent") or "") or None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(
    cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Pool, Records]]:
    url = cluster.database("pool")
    scale = Pool(
        tmp_path_factory.mktemp("shared-pool"),
        asterisks=1,
        store_url=url,
        store_password=cluster.password,
        strategy="round_robin",
    )
    try:
        await scale.start()
        yield scale, Records(cluster, url)
    finally:
        await scale.stop()


async def _talk_to_a_person(pool: Pool, records: Records, call: FakeCall) -> str:
    """Press 0, wait until an agent talks with the caller, hang up; the agent."""
    await pool.wait(lambda: call.state == "Up" and call.channel.bridge_id is not None, CALL_S)
    await call.send_dtmf("0")
    await pool.wait(lambda: records.bridged_agent(call.channel_id) is not None, CALL_S)
    agent = records.bridged_agent(call.channel_id)
    assert agent is not None
    await call.hangup()
    await pool.wait(lambda: records.outcome(call.channel_id) is not None, CALL_S)
    return agent


@pytest.mark.asyncio(loop_scope="module")
async def test_a_round_robin_team_stays_round_robin_across_workers(
    pool: tuple[Pool, Records],
) -> None:
    """Three calls one after another, each straight to a different worker (one fake
    Asterisk per worker, so which worker takes which call is certain): the team's
    position is shared, so the three calls are answered by three different agents. With a
    position per worker each would start at the first member."""
    scale, records = pool
    direct: list[FakeAsterisk] = []
    try:
        for n, worker in enumerate(scale.workers, 10):
            fake = scale.fake(n)
            direct.append(fake)
            await scale.connect(fake, worker.url)
        agents = []
        for n, fake in enumerate(direct):
            call = await fake.place_call("+16175550142", f"+1617556{n:04d}", app=APP, args=["main"])
            agents.append(await _talk_to_a_person(scale, records, call))
        assert len(set(agents)) == 3, agents
    finally:
        for fake in direct:
            await fake.stop()


@pytest.mark.asyncio(loop_scope="module")
async def test_postgresql_restarted_under_running_workers_loses_no_record(
    pool: tuple[Pool, Records], cluster: PgCluster
) -> None:
    scale, records = pool
    fake = scale.fakes[0]
    call = await fake.place_call("+16175550142", "+16175557777", app=APP, args=["main"])
    await scale.wait(lambda: call.state == "Up" and call.channel.bridge_id is not None, CALL_S)
    await asyncio.to_thread(cluster.restart)  # mid-call: the writes in between are retried
    agent = await _talk_to_a_person(scale, records, call)
    assert agent
    assert records.outcome(call.channel_id) == "handed_off"
    later = await fake.place_call("+16175550142", "+16175557778", app=APP, args=["main"])
    await _talk_to_a_person(scale, records, later)  # the workers reconnected
    assert records.outcome(later.channel_id) == "handed_off"
    with contextlib.suppress(Exception):
        await fake.wait_until(lambda: not fake.bridges, 30)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_worker_killed_mid_voicemail_loses_no_message(
    pool: tuple[Pool, Records],
) -> None:
    """Nobody answers, the caller is leaving a message when the worker that owns the call
    is killed: Asterisk reconnects the call's socket to a survivor, which takes the call
    (today it cannot bridge a caller Asterisk is still recording: 409, so it apologises
    and ends the call); the message Asterisk holds, which no job was written for, is found
    by a survivor's sweep, saved once and finished."""
    scale, records = pool
    fake = scale.fakes[0]
    for agent in AGENTS:
        fake.configure_endpoint(agent, "no_answer")
    try:
        call = await fake.place_call("+16175550142", "+16175558888", app=APP, args=["main"])
        await scale.wait(lambda: call.state == "Up" and call.channel.bridge_id is not None, CALL_S)
        await call.send_dtmf("0")
        await scale.wait(lambda: call.channel.recording is not None, CALL_S)  # after the beep
        await call.send_audio(_tone(1.5))  # the caller speaks (something to save)...
        await scale.wait(lambda: not call.channel.inbound, CALL_S)  # ...and has spoken
        owner = records.query(
            "SELECT worker_id FROM live_calls WHERE call_id = %s", call.channel_id
        )
        assert owner, "the worker owns the call in the shared store"
        victim = next(w for w in scale.workers if w.name == owner[0][0])
        bridge = call.channel.bridge_id
        victim.kill()
        assert victim.process is not None
        await victim.process.wait()

        # A survivor takes the call (a new bridge, or it ends the call), or Stasis() fails
        # to people.
        await scale.wait(
            lambda: (
                call.channel.bridge_id not in (None, bridge)
                or call.state == "Gone"
                or dialplan_fallback(call)
            ),
            CALL_S,
        )
        if call.state != "Gone":
            await call.hangup()
        prefix = f"voicemail-{call.channel_id.replace('.', '-')}-%"

        def finished() -> bool:
            rows = records.query(
                "SELECT state FROM voicemails WHERE recording_name LIKE %s", prefix
            )
            return len(rows) == 1 and rows[0][0] in ("done", "saved", "empty")

        # The survivors' sweep (every 60 s) adopts the recording that has no job.
        await scale.wait(finished, 240)
    finally:
        for agent in AGENTS:
            fake.configure_endpoint(agent, "answer", 0.3)
