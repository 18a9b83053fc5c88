"""Benchmark: the call store's write path (one writer task, WAL, synchronous=FULL).

Runs CALLS concurrent simulated calls, each writing start, TURNS turns, one event and
its outcome, and reports the latency of ``add_turn`` (enqueue to committed) and the
throughput. Usage: ``.venv/bin/python -m bench.store_writes [--calls 20] [--turns 30] [--dir var]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ari_app.store import Store


async def one_call(store: Store, n: int, turns: int, latencies: list[float]) -> None:
    """A call writing as it happens."""
    call_id = f"bench-{n}"
    await store.calls.start_call(call_id, "main", f"+1555{n:06d}", "+15550000")
    for i in range(turns):
        t0 = time.perf_counter()
        await store.calls.add_turn(
            call_id,
            "caller" if i % 2 else "assistant",
            f"turn {i} of call {n}",
            confidence=0.9,
            start_ms=i * 1000,
            end_ms=i * 1000 + 800,
            latency_ms=400,
        )
        latencies.append(time.perf_counter() - t0)
        await asyncio.sleep(0)  # let other calls interleave, as real calls would
    await store.calls.add_event(call_id, "bench", {"n": n})
    await store.calls.finish_call(call_id, "resolved", ended_at=datetime.now(UTC))


async def main(calls: int, turns: int, where: str | None) -> None:
    """Run the benchmark and print the figures."""
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        latencies: list[float] = []
        async with Store(Path(tmp) / "bench.sqlite3") as store:
            t0 = time.perf_counter()
            await asyncio.gather(*(one_call(store, n, turns, latencies) for n in range(calls)))
            elapsed = time.perf_counter() - t0
        latencies.sort()
        writes = calls * (turns + 3)
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        print(
            f"{calls} concurrent calls x {turns} turns: {writes} writes in {elapsed:.2f} s "
            f"= {writes / elapsed:.0f} writes/s; add_turn latency p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--dir", help="where to put the database (default: the temp dir)")
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.turns, args.dir))
