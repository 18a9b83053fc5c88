"""Child process for the crash test: opens the store, starts a call, adds a turn, says READY
on stdout and waits forever (the test kills it with SIGKILL)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from ari_app.store import Store


async def main(db: Path) -> None:
    store = Store(db)
    await store.open()
    started = datetime(2026, 11, 3, 9, 0, 0, tzinfo=UTC)
    await store.calls.start_call("crash-1", "main", "+15550100", "+15550000", started)
    await store.calls.add_turn(
        "crash-1",
        "caller",
        "do you take new patients",
        confidence=0.8,
        start_ms=1200,
        end_ms=2900,
        at=datetime(2026, 11, 3, 9, 0, 4, tzinfo=UTC),
    )
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
