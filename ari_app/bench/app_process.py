"""The application under test in a process of its own, as it runs beside a real Asterisk.

In the benchmark the fake Asterisk and its twenty callers (mixing, resampling, pacing and
synthesising every caller's audio in Python) are the load generator; Asterisk does that
work in C in its own process. Sharing one event loop with them, the application would be
measured waiting for the generator's work. :class:`RemoteSimulation` keeps the fake and the
callers here and starts the runtime in a child process (``python -m
ari_app.bench.app_process``), which sends every call event back as one JSON line.

The child's protocol, one line each way:

- in: the parameters as JSON; then commands ``drift <seconds>`` (a paced talk spurt on the
  child's loop, its drift per frame) and ``usage`` (CPU seconds and peak RSS); end of input
  stops the runtime and the child.
- out: ``READY``; ``E <json>`` per call event; ``DRIFT <json list>``; ``USAGE <json>``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import os
import resource
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ari_app.app import start_runtime
from ari_app.asr.engines import loaded_engines
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.bench.probes import long_spurt_drift
from ari_app.call import events as call_events
from ari_app.call.events import CallEvent
from ari_app.config import ConfigHolder
from ari_app.heap import freeze_startup_heap
from ari_app.simulation import Simulation

log = logging.getLogger(__name__)


def event_kinds() -> dict[str, type[CallEvent]]:
    """Every kind of call event by its type name (the classes :mod:`ari_app.call.events`
    exports; ``__subclasses__`` also lists the pre-``slots`` copies dataclasses leave)."""
    return {
        str(value.type): value
        for value in vars(call_events).values()
        if isinstance(value, type) and issubclass(value, CallEvent) and value is not CallEvent
    }


def event_line(event: CallEvent) -> str:
    """``event`` as one line of JSON (its kind under ``type``)."""
    return json.dumps({"type": str(event.type), **dataclasses.asdict(event)})


def event_from_line(line: str) -> CallEvent:
    """The call event written by :func:`event_line`."""
    data = json.loads(line)
    kind = event_kinds()[data.pop("type")]
    return kind(**data)


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    """The application process's CPU time so far and its peak resident memory."""

    cpu_s: float
    peak_rss_mib: float
    recognition: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    threads: dict[str, float] = dataclasses.field(default_factory=dict)
    """CPU seconds by thread name (see :func:`thread_cpu`)."""
    """Each Whisper engine's :class:`~ari_app.asr.decode_queue.DecodeStats` as a dict."""


class AppProcess:
    """The runtime in a child process; its call events reach ``on_event``."""

    def __init__(self, on_event: Callable[[CallEvent], None], stderr_path: Path) -> None:
        self._on_event = on_event
        self._stderr_path = stderr_path
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._replies: dict[str, asyncio.Queue[Any]] = {
            "DRIFT": asyncio.Queue(),
            "USAGE": asyncio.Queue(),
        }
        """Replies by kind: a usage can be asked while a drift spurt is still running."""

    async def start(self, params: dict[str, Any], within: float = 180.0) -> None:
        """Start the child with ``params`` and wait until its runtime is connected."""
        self._stderr_path.parent.mkdir(parents=True, exist_ok=True)
        stderr = self._stderr_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ari_app.bench.app_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                limit=2**22,
            )
        finally:
            stderr.close()
        assert self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(params) + "\n").encode())
        await self._proc.stdin.drain()
        self._reader = asyncio.create_task(self._read())
        waiter = asyncio.create_task(self._ready.wait())
        try:
            async with asyncio.timeout(within):
                done, _ = await asyncio.wait({waiter, self._reader}, return_when="FIRST_COMPLETED")
        except BaseException:
            await self.stop()
            raise
        finally:
            waiter.cancel()
        if waiter not in done:
            await self.stop()
            raise RuntimeError(f"the application process stopped; see {self._stderr_path}")

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        while line := (await self._proc.stdout.readline()).decode():
            head, _, body = line.rstrip("\n").partition(" ")
            if head == "E":
                self._on_event(event_from_line(body))
            elif head == "READY":
                self._ready.set()
            elif head in self._replies:
                self._replies[head].put_nowait(json.loads(body))

    async def _ask(self, command: str, reply: str, within: float) -> Any:
        """Send ``command``; the next reply of kind ``reply`` (one ask of a kind at a time)."""
        assert self._proc is not None
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"{command}\n".encode())
        await self._proc.stdin.drain()
        async with asyncio.timeout(within):
            return await self._replies[reply].get()

    async def usage(self) -> Usage:
        """The child's CPU seconds so far and peak RSS."""
        data = await self._ask("usage", "USAGE", 30)
        return Usage(
            float(data["cpu_s"]), float(data["peak_rss_mib"]), data["recognition"], data["threads"]
        )

    async def drift(self, seconds: float) -> list[float]:
        """Drift in ms of each frame of a ``seconds`` long paced spurt on the child's loop."""
        return [float(d) for d in await self._ask(f"drift {seconds}", "DRIFT", seconds + 60)]

    async def stop(self, within: float = 60.0) -> None:
        """Close the child's input (it drains its calls and exits) and wait for it."""
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            async with asyncio.timeout(within):
                await self._proc.wait()
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


class RemoteSimulation(Simulation):
    """A :class:`Simulation` whose runtime runs in a child process (inbound ARI only)."""

    app: AppProcess | None = None

    async def __aenter__(self) -> Self:
        await self._start_fake()
        assert self.fake is not None
        listeners = [self._on_event, *self.listeners]

        def on_event(event: CallEvent) -> None:
            for listener in listeners:
                listener(event)

        self.app = AppProcess(on_event, self.cache_dir / "app-process.log")
        params = {
            "config_dir": str(self.config_dir),
            "cache_dir": str(self.cache_dir),
            "fake_url": self.fake.url,
            "password": self.password,
            "store_path": str(self.store_path) if self.store_path else None,
            "voicemail_dir": str(self.voicemail_dir) if self.voicemail_dir else None,
            "media_transport": self.media_transport,
            "moment": self.moment.isoformat() if self.moment else None,
        }
        try:
            await self.app.start(params)
        except BaseException:
            await self.app.stop(within=10)
            await self.fake.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.app is not None:
            await self.app.stop()
        if self.fake is not None:
            await self.fake.stop()


def recognition_stats() -> list[dict[str, Any]]:
    """What each loaded recognition engine's workers did (Whisper: batches, speculation)."""
    return [
        dataclasses.asdict(engine.stats())
        for engine in loaded_engines()
        if isinstance(engine, WhisperEngine)
    ]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads so far, by Python thread name (Linux).

    Threads Python did not start (CTranslate2's compute threads, onnxruntime's) go by
    ``native <kernel name>``;
    threads of one pool (``asyncio_3``, ``whisper-0``) are summed under the name's stem.
    """
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = collections.defaultdict(float)
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (task / "comm").read_text().strip()
        except OSError:  # the thread ended meanwhile
            continue
        name = names.get(int(task.name)) or f"native {comm}"
        stem = name.rstrip("0123456789").rstrip("-_ ") or name
        out[stem] += (int(fields[11]) + int(fields[12])) / tick
    return {name: round(cpu, 2) for name, cpu in sorted(out.items(), key=lambda kv: -kv[1])}


async def _child() -> None:
    """The child: run the runtime, report events, answer commands until input ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    params = json.loads(await reader.readline())
    out = sys.stdout

    def send(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    sim = Simulation(
        Path(params["config_dir"]),
        cache_dir=Path(params["cache_dir"]),
        store_path=Path(params["store_path"]) if params["store_path"] else None,
        voicemail_dir=Path(params["voicemail_dir"]) if params["voicemail_dir"] else None,
        media_transport=params["media_transport"],
    )
    holder = ConfigHolder(sim.config_dir)
    sim.configure(holder, params["fake_url"])
    moment = datetime.fromisoformat(params["moment"]) if params["moment"] else None
    runtime = await start_runtime(
        holder,
        params["password"],
        cache_dir=sim.cache_dir,
        now=(lambda: moment) if moment else (lambda: datetime.now().astimezone()),
        listeners=[lambda event: send("E " + event_line(event))],
    )
    freeze_startup_heap()
    listener = runtime.listener
    await asyncio.wait_for(listener.connected.wait(), 30)
    send("READY")
    drifts: set[asyncio.Task[None]] = set()

    async def drift(seconds: float) -> None:
        send("DRIFT " + json.dumps(await long_spurt_drift(seconds)))

    try:
        while line := (await reader.readline()).decode().strip():
            command, _, arg = line.partition(" ")
            if command == "drift":
                task = loop.create_task(drift(float(arg)))
                drifts.add(task)
                task.add_done_callback(drifts.discard)
            elif command == "usage":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                send(
                    "USAGE "
                    + json.dumps(
                        {
                            "cpu_s": usage.ru_utime + usage.ru_stime,
                            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
                            "recognition": recognition_stats(),
                            "threads": thread_cpu(),
                        }
                    )
                )
    finally:
        for task in drifts:
            task.cancel()
        await runtime.stop(drain_s=10)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    asyncio.run(_child())
