"""The app's own liveness: a heartbeat file a health check can read.

Asterisk cannot tell a live app from a dead one: it keeps answering 200 for
``GET /applications/NAME`` after the app's events socket died, as long as the app still
has channels. So ``ari-app run`` writes, every :data:`BEAT_EVERY_S` seconds from its event
loop, a small JSON file saying when it last beat, whether its events socket is connected
and whether it takes calls. A process that died, hangs, or lost Asterisk stops being
healthy within :data:`STALE_AFTER_S` seconds. ``dialplan/lab/app_healthcheck.py`` (the
compose lab's check) reads it with the standard library only; :func:`read_health` is the
same check for Python callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)
BEAT_EVERY_S = 2.0
STALE_AFTER_S = 10.0
DEFAULT_PATH = Path("var/health.json")


def write_beat(path: Path, state: dict[str, Any]) -> None:
    """Write one heartbeat atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**state, "pid": os.getpid(), "beat_at": time.time()}))
    os.replace(tmp, path)


async def beat_forever(
    path: Path, state: Callable[[], dict[str, Any]], every_s: float = BEAT_EVERY_S
) -> None:
    """Write a heartbeat every ``every_s`` seconds until cancelled; then mark it stopped."""
    try:
        while True:
            try:
                await asyncio.to_thread(write_beat, path, state())
            except OSError as err:
                _LOGGER.warning("cannot write the heartbeat %s: %s", path, err)
            await asyncio.sleep(every_s)
    finally:
        with contextlib.suppress(OSError):
            write_beat(path, {**state(), "stopped": True})


def read_health(
    path: Path, *, now: float | None = None, stale_after_s: float = STALE_AFTER_S
) -> tuple[bool, str]:
    """(healthy, reason) from the heartbeat file at ``path``."""
    try:
        beat = json.loads(path.read_text())
    except FileNotFoundError:
        return False, f"no heartbeat at {path}: ari-app run is not running (or not yet)"
    except (OSError, ValueError) as err:
        return False, f"unreadable heartbeat {path}: {err}"
    if not isinstance(beat, dict):
        return False, f"unreadable heartbeat {path}"
    age = (time.time() if now is None else now) - float(beat.get("beat_at", 0.0))
    if beat.get("stopped"):
        return False, "ari-app has stopped"
    if age > stale_after_s:
        return False, f"the last heartbeat is {age:.0f} s old: ari-app is dead or stuck"
    events = beat.get("events")
    if events not in ("connected", "listening"):
        return False, f"ari-app is running but its ARI events socket is {events}"
    taking = "taking calls" if beat.get("accepting") else "not taking new calls"
    where = (
        "connected to ARI"
        if events == "connected"
        else "listening for Asterisk's outbound ARI WebSockets"
    )
    return True, f"ari-app is alive, {where}, {taking} ({beat.get('calls', 0)} in progress)"
