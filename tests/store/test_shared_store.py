"""The shared store of a pool of workers (PostgreSQL): claims, shared routing state, restarts.

Each worker is a :class:`Store` of its own (its own connections and worker id) on the
same PostgreSQL database, as two processes on two machines would be.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from ari_app.call.capacity import AiCapacity
from ari_app.call.events import Ended, Started
from ari_app.config import load_config
from ari_app.config.models import StoreSettings
from ari_app.outcomes import Outcome
from ari_app.recorder import CallRecorder
from ari_app.routing.plan import Member, RingStep
from ari_app.routing.ring import ring_attempts
from ari_app.shared import SharedState
from ari_app.shared.stored import StoreAiSeats, StoreCallOwnership, StoreRoutingState
from ari_app.store import Store, StoreReader
from ari_app.store.db import Database
from ari_app.store.pg_db import PostgresDatabase
from ari_app.testing.pg_cluster import PgCluster
from tests.store.conftest import pg_database

Workers = Callable[..., Awaitable[Store]]
SAMPLE = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
async def workers(pg_cluster: PgCluster) -> AsyncIterator[Workers]:
    """Opens stores on one fresh PostgreSQL database, one per worker; closes them after."""
    db = pg_database(pg_cluster)
    opened: list[Store] = []

    async def open_worker(
        name: str, lease_s: float = 15.0, voicemail_lease_s: float = 300.0
    ) -> Store:
        store = Store(db, worker_id=name, lease_s=lease_s, voicemail_lease_s=voicemail_lease_s)
        await store.open()
        opened.append(store)
        return store

    yield open_worker
    for store in opened:
        await store.close()


async def jobs(store: Store, n: int) -> list[int]:
    made = [
        await store.voicemails.create_job(
            f"voicemail-c{i}-x", call_id=None, line="main", caller=None
        )
        for i in range(n)
    ]
    return [j.id for j in made]


async def test_a_job_locked_by_another_worker_is_skipped_not_waited_for(
    workers: Workers, pg_cluster: PgCluster
) -> None:
    a = await workers("a")
    first, second = await jobs(a, 2)
    assert isinstance(a.db, PostgresDatabase)
    with psycopg.connect(a.db.url, password=pg_cluster.password, autocommit=True) as other:
        other.execute("BEGIN")
        other.execute("SELECT id FROM voicemails WHERE id = %s FOR UPDATE", (first,))
        job = await asyncio.wait_for(a.voicemails.claim_next("a", 60.0), 5)
        assert job is not None
        assert job.id == second  # the locked row is passed over
        other.execute("ROLLBACK")
    job = await a.voicemails.claim_next("a", 60.0, after_id=0)
    assert job is not None
    assert job.id == first


async def test_workers_claiming_at_once_save_each_job_once(workers: Workers) -> None:
    pool = [await workers(name) for name in ("a", "b", "c", "d")]
    ids = await jobs(pool[0], 40)
    done: dict[str, list[int]] = {s.worker_id: [] for s in pool}

    async def work(store: Store) -> None:
        while True:
            job = await store.voicemails.claim_next(store.worker_id, 60.0)
            if job is None:
                return
            await store.voicemails.mark_done(job.id)
            done[store.worker_id].append(job.id)

    await asyncio.gather(*(work(s) for s in pool))
    assert sorted(j for taken in done.values() for j in taken) == ids  # each once, none twice
    assert sum(1 for taken in done.values() if taken) >= 2


async def test_a_dead_workers_job_is_finished_by_another_after_its_lease(
    workers: Workers,
) -> None:
    a = await workers("a", voicemail_lease_s=0.3)
    b = await workers("b", voicemail_lease_s=0.3)
    [job_id] = await jobs(a, 1)
    assert await a.voicemails.claim(job_id, "a", 0.3)  # a starts on it, then dies
    assert await b.voicemails.claim_next("b", 0.3) is None  # a's lease holds
    assert not await b.voicemails.claim(job_id, "b", 0.3)
    await asyncio.sleep(0.4)
    taken = await b.voicemails.claim_next("b", 0.3)
    assert taken is not None
    assert taken.id == job_id
    await b.voicemails.mark_done(job_id)
    rows = await b.reader.run(b.reader.query, "SELECT state, claimed_by FROM voicemails")
    assert rows == [("done", "b")]


async def test_round_robin_stays_round_robin_across_two_workers(workers: Workers) -> None:
    a, b = await workers("a"), await workers("b")
    members = tuple(Member(u, u.title(), f"PJSIP/{u}") for u in ("ann", "bob", "cat"))
    step = RingStep("front", "team", "Front desk", members, "round_robin", 20.0, 60.0)
    first_rung = []
    for store in (a, b, b, a, b, a):  # calls land on either worker
        routing = StoreRoutingState(store)
        history = await routing.history("front", [m.user for m in members])
        attempts = ring_attempts(step, lambda m: True, history)
        await routing.note_attempted("front", members, attempts[0].members[0])
        first_rung.append(attempts[0].members[0].user)
    assert first_rung == ["ann", "bob", "cat", "ann", "bob", "cat"]


async def test_longest_idle_and_busy_agents_are_shared(workers: Workers) -> None:
    a, b = await workers("a"), await workers("b")
    ra, rb = StoreRoutingState(a), StoreRoutingState(b)
    await ra.note_call_ended("ann", 200.0)
    await rb.note_call_ended("bob", 100.0)
    await ra.note_busy("cat", "call-1")
    assert await rb.busy_agents() == {"cat"}
    history = await rb.history("front", ["ann", "bob", "cat"])
    assert history.last_call_end == {"ann": 200.0, "bob": 100.0}
    await ra.note_call_ended("cat", 300.0)
    assert await rb.busy_agents() == set()


async def test_the_ai_capacity_is_counted_across_workers(workers: Workers) -> None:
    a, b = await workers("a", lease_s=0.5), await workers("b", lease_s=0.5)
    sa, sb = StoreAiSeats(a), StoreAiSeats(b)
    limits = {"line_limit": None, "total_limit": 2}
    assert await sa.try_acquire("c1", "main", **limits)
    assert await sb.try_acquire("c2", "main", **limits)
    assert not await sa.try_acquire("c3", "main", **limits)
    assert not await sb.try_acquire("c3", "sales", line_limit=5, total_limit=2)
    assert await sb.try_acquire("c2", "main", **limits)  # already holds one
    assert await sa.in_use() == 2
    assert await sb.in_use("main") == 2
    # a dies holding c1: once its heartbeat is older than the lease, its seat is free
    await a.heartbeat.stop()
    await asyncio.sleep(0.6)
    assert await sb.in_use() == 1  # b's own seat counts; a's no longer
    assert await sb.try_acquire("c3", "main", **limits)
    assert not await sb.try_acquire("c4", "main", **limits)
    await sb.release("c2")
    assert await sb.try_acquire("c4", "main", **limits)


async def test_concurrent_seat_requests_never_exceed_the_limit(workers: Workers) -> None:
    stores = [await workers(f"w{i}") for i in range(3)]
    seats = [StoreAiSeats(s) for s in stores]
    got = await asyncio.gather(
        *(
            seats[i % 3].try_acquire(f"c{i}", "main", line_limit=None, total_limit=4)
            for i in range(12)
        )
    )
    assert sum(got) == 4


async def test_a_survivor_lists_and_adopts_a_dead_workers_calls(workers: Workers) -> None:
    a = await workers("a", lease_s=0.3)
    b = await workers("b", lease_s=0.3)
    c = await workers("c", lease_s=0.3)
    oa, ob, oc = StoreCallOwnership(a), StoreCallOwnership(b), StoreCallOwnership(c)
    assert await oa.claim("call-1", "main")
    assert await oa.claim("call-2", "main")
    assert not await ob.claim("call-1", "main")  # a lives: it keeps its call
    assert await ob.owner("call-1") == "a"
    assert not await ob.adopt("call-1")
    await a.heartbeat.stop()  # a dies; b and c beat every 0.1 s
    await asyncio.sleep(0.4)
    assert await ob.dead_workers() == ["a"]
    calls = await ob.calls_of("a")
    assert [x.call_id for x in calls] == ["call-1", "call-2"]
    won = await asyncio.gather(ob.adopt("call-1"), oc.adopt("call-1"))
    assert sorted(won) == [False, True]  # exactly one survivor adopts it
    assert await ob.adopt("call-2")
    await ob.forget_worker("a")
    assert await oc.dead_workers() == []
    assert await oc.calls_of("a") == []


async def test_shared_state_follows_the_calls(workers: Workers) -> None:
    store = await workers("a")
    shared = SharedState.for_store(store)
    assert shared.shared
    await shared.start()
    assert await shared.ownership.claim("c1", "main")
    assert await shared.seats.try_acquire("c1", "main", line_limit=None, total_limit=None)
    await shared.routing.note_busy("ann", "c1")
    shared.on_event(Ended(call_id="c1", at_ms=9000, outcome="handed_off", reason=None, agent="ann"))
    await shared.stop()
    assert await shared.seats.in_use() == 0
    assert await shared.routing.busy_agents() == set()
    assert await shared.ownership.owner("c1") is None
    local = SharedState.for_store(None)
    assert not local.shared


async def test_postgresql_restarted_mid_writes_loses_no_record(
    workers: Workers, pg_cluster: PgCluster
) -> None:
    store = await workers("a")
    recorder = CallRecorder(store, first_retry_s=0.05, max_retry_s=0.5)
    restarted = threading.Event()

    def restart() -> None:
        pg_cluster.restart()
        restarted.set()

    def call(n: int) -> None:
        recorder(Started(call_id=f"r{n}", at_ms=0, line="main", caller="+1555", did="100"))
        resolved = Outcome.RESOLVED.value
        recorder(Ended(call_id=f"r{n}", at_ms=100, outcome=resolved, reason=None, agent=None))

    calls = 0
    for _ in range(20):  # before
        call(calls)
        calls += 1
        await asyncio.sleep(0.01)
    restarter = asyncio.create_task(asyncio.to_thread(restart))
    while not restarted.is_set():  # while the server stops and starts again
        call(calls)
        calls += 1
        await asyncio.sleep(0.02)
    for _ in range(20):  # after
        call(calls)
        calls += 1
    await restarter
    await recorder.drain(within_s=60)
    assert recorder.retries >= 1  # some writes failed while it was down, and were retried
    rows = await store.reader.run(
        store.reader.query,
        "SELECT COUNT(*), COUNT(DISTINCT id) FROM calls WHERE outcome = 'resolved'",
    )
    assert rows == [(calls, calls)]


def test_the_store_url_is_checked_and_never_holds_a_password() -> None:
    with pytest.raises(ValidationError, match="must not contain a password"):
        StoreSettings(url="postgresql://ari:secret@db:5432/ari")
    with pytest.raises(ValidationError, match="must start with postgresql://"):
        StoreSettings(url="mysql://ari@db/ari")
    with pytest.raises(ValidationError, match="needs a host and a database"):
        StoreSettings(url="postgresql://ari@db:5432")
    ok = StoreSettings(url="postgresql://ari@db:5432/ari", password_env="PG_PW")
    assert ok.url == "postgresql://ari@db:5432/ari"


def test_a_store_from_settings_reads_the_password_from_the_environment(
    pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = pg_cluster.database()
    monkeypatch.setenv("TEST_PG_PASSWORD", pg_cluster.password)
    settings = StoreSettings(url=url, password_env="TEST_PG_PASSWORD", worker_id="w9")

    async def roundtrip() -> list[tuple[object, ...]]:
        async with Store.from_settings(settings) as store:
            assert store.shared
            assert store.worker_id == "w9"
            await store.calls.start_call("x", "main", None, None)
            return await store.reader.run(store.reader.query, "SELECT id FROM calls")

    assert asyncio.run(roundtrip()) == [("x",)]
    monkeypatch.setenv("TEST_PG_PASSWORD", "wrong")
    with pytest.raises(Exception, match="password authentication failed"):
        StoreReader(Store.from_settings(settings).db).open()


def test_sqlite_stays_the_default(tmp_path: Path) -> None:
    store = Store.from_settings(StoreSettings(path=str(tmp_path / "one.sqlite3")))
    assert not store.shared
    assert isinstance(store.db, Database)
    assert store.path == tmp_path / "one.sqlite3"


async def test_admit_counts_max_calls_over_the_pool(workers: Workers) -> None:
    sample = load_config(SAMPLE)
    limits = sample.app.ai_agent.model_copy(update={"max_calls": 2})
    config = sample.model_copy(update={"app": sample.app.model_copy(update={"ai_agent": limits})})
    a, b = SharedState.for_store(await workers("a")), SharedState.for_store(await workers("b"))
    local = AiCapacity()
    assert await a.admit(config, "c1", "main", ai=True, fallback=local)
    assert await b.admit(config, "c2", "main", ai=True, fallback=local)
    assert not await b.admit(config, "c3", "main", ai=True, fallback=local)  # pool is full
    assert await a.admit(config, "c4", "main", ai=False, fallback=local)  # people only
    assert await a.ownership.owner("c3") == "b"
    a.on_event(Ended(call_id="c1", at_ms=5000, outcome="resolved", reason=None, agent=None))
    await a.stop()
    assert await b.admit(config, "c5", "main", ai=True, fallback=local)
    assert local.in_use() == 0


@pytest.mark.parametrize("earlier_calls", [0, 1])
async def test_calls_at_once_on_two_workers_start_with_different_members(
    workers: Workers, earlier_calls: int
) -> None:
    a, b = await workers("a"), await workers("b")
    members = tuple(Member(u, u.title(), f"PJSIP/{u}") for u in ("ann", "bob", "cat"))
    step = RingStep("front", "team", "Front desk", members, "round_robin", 20.0, 60.0)
    everyone = {"ann", "bob", "cat"}
    for _ in range(earlier_calls):
        await StoreRoutingState(a).ring_plan(step, everyone)
    plans = await asyncio.gather(
        *(StoreRoutingState(s).ring_plan(step, everyone) for s in (a, b, a, b, a, b))
    )
    firsts = [plan[0].members[0].user for plan in plans]
    assert sorted(firsts) == ["ann", "ann", "bob", "bob", "cat", "cat"]  # each twice


async def test_a_survivor_closes_only_the_calls_it_names_as_interrupted(workers: Workers) -> None:
    a, b = await workers("a"), await workers("b")
    for call_id in ("lost", "live"):
        await a.calls.start_call(call_id, "main", None, None)
    assert a.interrupted == []  # opening a shared store closes nobody's calls
    assert await b.calls.mark_interrupted(only=["lost", "unknown"]) == ["lost"]
    rows = await b.reader.run(b.reader.query, "SELECT id, outcome FROM calls ORDER BY id")
    assert rows == [("live", None), ("lost", "interrupted")]


async def test_forgetting_a_dead_worker_closes_the_calls_nobody_took_back(
    workers: Workers,
) -> None:
    a = await workers("a", lease_s=0.3)
    b = await workers("b", lease_s=0.3)
    oa, ob = StoreCallOwnership(a), StoreCallOwnership(b)
    for call_id in ("gone", "taken", "resumed"):
        await a.calls.start_call(call_id, "main", None, None)
        assert await oa.claim(call_id, "main")
    assert await ob.forget_worker("a", close_calls=True) == []  # a lives: nothing happens
    await a.heartbeat.stop()  # a dies
    await asyncio.sleep(0.4)
    assert await ob.adopt("taken")
    await b.calls.add_turn("resumed", "caller", "still here")  # back on b, not yet claimed
    assert await ob.forget_worker("a", close_calls=True) == ["gone"]
    rows = await b.reader.run(b.reader.query, "SELECT id, outcome FROM calls ORDER BY id")
    assert rows == [("gone", "interrupted"), ("resumed", None), ("taken", None)]
    assert await ob.calls_of("a") == []
    assert await ob.owner("taken") == "b"
