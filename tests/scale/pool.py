"""A scaled-out front desk on loopback, from real parts: HAProxy (Debian's ``haproxy``) in
front of ``ari-app run`` worker processes in ``ari.mode: outbound``; the fake Asterisks
(in the test's process) connect to HAProxy per call (``per_call_config``), as Asterisk 22's
res_websocket_client does, so the load balancer spreads calls over the workers.

Workers use the lightest real engines the config offers (pocketsphinx, webrtcvad,
espeak-ng) and hours open all day, so calls take seconds and do not depend on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ari_app.testing import FakeAsterisk
from ari_app.testing.fake_asterisk import FakeCall
from ari_app.testing.outbound import PER_CALL, OutboundWebsocket

ROOT = Path(__file__).resolve().parents[2]
ARI_APP = Path(sys.executable).with_name("ari-app")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
APP = "ari-app"
OUT_USER = "asterisk"
OUT_PASSWORD = "scale-outbound-secret"
HTTP_PASSWORD = "scale-http-ari-secret"
"""HTTP ARI (ari.password_env) of the first fake: voicemail recordings' audio."""
AGENTS = ("PJSIP/201", "PJSIP/202", "PJSIP/301")
RING_S = 10
"""Each agent's ring time (the agents answer after 0.3 s): room for a busy two-core
machine, where the full suite once sent every call of both pool tests to voicemail."""
POLL_S = 0.1
"""How often :meth:`Pool.wait` reads the stores."""
START_TIMEOUT_S = 300.0
"""Three workers load their models at once on two shared cores: be generous."""


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def haproxy_config(port: int, workers: list[int]) -> str:
    """HAProxy in HTTP mode passes the WebSocket upgrade (and the Authorization and
    Sec-WebSocket-Protocol headers) through; ``timeout tunnel`` covers a long call. A dead
    worker is taken out by the health check, and a refused connection is sent to another
    worker at once (``option redispatch 1``, ``retries``)."""
    servers = "\n".join(
        f"  server w{i} 127.0.0.1:{p} check inter 300ms fall 1 rise 2"
        for i, p in enumerate(workers, 1)
    )
    return f"""global
  maxconn 2000

defaults
  mode http
  timeout connect 1s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  retries 3
  option redispatch 1

frontend ari_outbound
  bind 127.0.0.1:{port}
  default_backend ari_workers

backend ari_workers
  balance roundrobin
{servers}
"""


class HAProxy:
    """``haproxy -db -f haproxy.cfg`` (foreground) on a free loopback port."""

    def __init__(self, folder: Path, workers: list[int]) -> None:
        self.port = free_port()
        self.config = folder / "haproxy.cfg"
        self.config.write_text(haproxy_config(self.port, workers))
        self.process: asyncio.subprocess.Process | None = None
        self.log = folder / "haproxy.log"

    @property
    def url(self) -> str:
        """websocket_client.conf's ``uri``."""
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        """Start and wait until it accepts connections."""
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                HAPROXY, "-db", "-f", str(self.config), stdout=log, stderr=log
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"haproxy did not start: {self.log.read_text()}") from None
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return

    async def stop(self) -> None:
        """Stop it."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


def worker_config(
    folder: Path,
    port: int,
    index: int,
    store_url: str | None = None,
    strategy: str | None = None,
    shared_dir: Path | None = None,
    ari_url: str | None = None,
) -> Path:
    """The sample config as one worker of the pool: outbound mode on ``port``; with
    ``store_url`` on the shared PostgreSQL store; ``strategy`` for the front desk team."""
    target = folder / "config"
    shutil.copytree(ROOT / "config", target)
    app: dict[str, Any] = yaml.safe_load((target / "app.yaml").read_text())
    app["ari"]["mode"] = "outbound"
    if ari_url is not None:
        app["ari"]["url"] = ari_url
    app["ari"]["outbound"] = {
        "host": "127.0.0.1",
        "port": port,
        "path": "/",
        "username": OUT_USER,
        "password_env": "ARI_OUTBOUND_PASSWORD",
    }
    low = 42000 + index * 200
    app["media"].update(port_range=[low, low + 199])
    app["speech"].update(asr_engine="pocketsphinx", vad="webrtc", no_input_ms=4000)
    app["store"] = {
        "path": str(folder / "var" / "calls.sqlite3"),
        "voicemail_dir": str((shared_dir or folder / "var") / "voicemail"),
    }
    if store_url is not None:
        app["store"].update(
            url=store_url, password_env="ARI_APP_STORE_PASSWORD", worker_id=folder.name
        )
    app["notifications"] = {**app.get("notifications", {}), "enabled": False}
    (target / "app.yaml").write_text(yaml.safe_dump(app, sort_keys=False))
    lines = yaml.safe_load((target / "lines.yaml").read_text())
    for line in lines["lines"].values():
        line["hours"] = {day: ["00:00-23:59"] for day in line["hours"]}
        line["exceptions"] = []
        line["ai_agent"]["voice"] = "en-us"  # espeak-ng: no model to load
        line["ai_agent"]["greeting"] = "Harbour Light Dental, how can I help?"
        line["voicemail"]["greeting_in_hours"] = "Please leave a message."
        line["voicemail"]["silence_seconds"] = 3
    (target / "lines.yaml").write_text(yaml.safe_dump(lines, sort_keys=False))
    people = yaml.safe_load((target / "people.yaml").read_text())
    for team in people["teams"].values():
        team["attempt_timeout"] = team["overall_timeout"] = RING_S
    if strategy is not None:
        front_desk = people["teams"]["front_desk"]
        front_desk.update(members=list(people["users"]), strategy=strategy)
        front_desk["overall_timeout"] = RING_S * len(people["users"])
    (target / "people.yaml").write_text(yaml.safe_dump(people, sort_keys=False))
    return target


@dataclass
class Worker:
    """One ``ari-app run`` process of the pool."""

    name: str
    folder: Path
    port: int
    store_url: str | None = None
    store_password: str = ""
    strategy: str | None = None
    shared_dir: Path | None = None
    ari_url: str | None = None
    process: asyncio.subprocess.Process | None = None
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = worker_config(
            self.folder,
            self.port,
            int(self.name[-1]),
            self.store_url,
            self.strategy,
            self.shared_dir,
            self.ari_url,
        )

    @property
    def url(self) -> str:
        """This worker's own outbound endpoint (not through the balancer)."""
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def health_file(self) -> Path:
        return self.folder / "health.json"

    @property
    def log(self) -> Path:
        return self.folder / "ari-app.log"

    async def start(self) -> None:
        """Start ``ari-app run`` (it listens at once, then loads its models)."""
        env = {k: v for k, v in os.environ.items() if k not in ("ARI_PASSWORD",)}
        env["ARI_OUTBOUND_PASSWORD"] = OUT_PASSWORD
        env["ARI_APP_STORE_PASSWORD"] = self.store_password
        if self.ari_url is not None:
            env["ARI_PASSWORD"] = HTTP_PASSWORD
        env.pop("ARI_APP_DASHBOARD_TOKEN", None)
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(ARI_APP),
                "run",
                "-c",
                str(self.config),
                "--health-file",
                str(self.health_file),
                cwd=self.folder,
                env=env,
                stdout=log,
                stderr=log,
            )

    def beat(self) -> dict[str, Any]:
        """The last heartbeat ({} before the first)."""
        try:
            data = json.loads(self.health_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def ready(self) -> bool:
        """Models loaded and taking calls (the log's start-up line is out)."""
        if self.process is not None and self.process.returncode is not None:
            raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
        return self.log.exists() and "taking calls for Stasis(" in self.log.read_text()

    def calls(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Call records in this worker's store: id -> (outcome, handoff reason, agent)."""
        path = self.folder / "var" / "calls.sqlite3"
        if not path.exists():
            return {}
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            try:
                rows = db.execute("SELECT id, outcome, handoff_reason, agent FROM calls").fetchall()
            except sqlite3.OperationalError:
                return {}
        return {str(r[0]): (r[1], r[2], r[3]) for r in rows}

    def answered(self) -> set[str]:
        """Calls an agent answered, from this worker's store (written as it happens)."""
        path = self.folder / "var" / "calls.sqlite3"
        if not path.exists():
            return set()
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            try:
                query = "SELECT call_id FROM events WHERE kind = 'agent_answered'"
                return {str(r[0]) for r in db.execute(query)}
            except sqlite3.OperationalError:
                return set()

    def kill(self) -> None:
        """kill -9."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM (drain) and wait; kill -9 if it does not stop within 30 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class Pool:
    """HAProxy, workers and two fake Asterisks connecting per call through HAProxy."""

    def __init__(
        self,
        folder: Path,
        workers: int = 3,
        asterisks: int = 2,
        store_url: str | None = None,
        store_password: str = "",
        strategy: str | None = None,
        connection_type: str = PER_CALL,
    ) -> None:
        self.connection_type = connection_type
        """websocket_client.conf ``connection_type`` of the fakes that go through HAProxy."""
        ports = [free_port() for _ in range(workers)]
        self.fake_ports = [free_port() for _ in range(asterisks)]
        self.workers = [
            Worker(
                f"w{i}",
                folder / f"w{i}",
                port,
                store_url,
                store_password,
                strategy,
                folder / "shared",
                f"http://127.0.0.1:{self.fake_ports[0]}",
            )
            for i, port in enumerate(ports, 1)
        ]
        self.lb = HAProxy(folder, ports)
        self.folder = folder
        self.fakes = [self.fake(i) for i in range(1, asterisks + 1)]

    def fake(self, index: int) -> FakeAsterisk:
        """A fake Asterisk (systemname ``ast<index>``), not started."""
        return FakeAsterisk(
            username="ari_app",
            password=HTTP_PASSWORD,
            recordings_dir=self.folder / f"ast{index}-recordings",
            system_name=f"ast{index}",
            asterisk_id=f"02:42:ac:11:00:{index:02d}",
            agents=AGENTS,
        )

    @staticmethod
    async def connect(
        fake: FakeAsterisk, uri: str, *, started: bool = False, connection_type: str = PER_CALL
    ) -> None:
        """Start ``fake`` (unless ``started``), connecting to ``uri`` (per call, or
        ``persistent``); its agents answer."""
        if not started:
            await fake.start()
        fake.outbound.add(
            OutboundWebsocket(
                uri=uri,
                apps=[APP],
                connection_type=connection_type,
                username=OUT_USER,
                password=OUT_PASSWORD,
                reconnect_attempts=4,
                reconnect_interval=500,
                connection_timeout=2000,
                close_delay=0.5,
            )
        )
        for agent in AGENTS:
            fake.configure_endpoint(agent, "answer", 0.3)

    async def start(self) -> None:
        """Start everything; return once every worker takes calls."""
        for fake, port in zip(self.fakes, self.fake_ports, strict=True):
            await fake.start("127.0.0.1", port)  # workers check HTTP ARI at start-up
        await asyncio.gather(*(w.start() for w in self.workers))
        await self.lb.start()
        for fake in self.fakes:
            await self.connect(
                fake, self.lb.url, started=True, connection_type=self.connection_type
            )
        await self.wait(lambda: all(w.ready() for w in self.workers), START_TIMEOUT_S)

    async def stop(self) -> None:
        """Stop everything (workers drain)."""
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        await self.lb.stop()
        for fake in self.fakes:
            await fake.stop()

    async def wait(self, predicate: Any, within: float) -> None:
        """Wait until ``predicate()`` holds, asking it every :data:`POLL_S` seconds.

        The predicates read the workers' stores (SQLite files, PostgreSQL), which other
        processes write: there is no event to wait for, so they are polled. Asked on every
        20 ms tick of the fakes' clock, as before, six callers' predicates opened dozens of
        connections a second (each a forked PostgreSQL backend) on the loop that also runs
        the fake Asterisks; on a busy machine their agents then answered too late.
        """
        async with asyncio.timeout(within):
            while not predicate():  # noqa: ASYNC110 - other processes' stores: no event
                await asyncio.sleep(POLL_S)

    def owner(self, call_id: str) -> Worker | None:
        """The worker whose store has a record of ``call_id``."""
        return next((w for w in self.workers if call_id in w.calls()), None)

    def agent(self, call_id: str) -> bool:
        """An agent answered ``call_id`` (an ``agent_answered`` event in any worker's store,
        written as it happens)."""
        return any(call_id in w.answered() for w in self.workers)

    def outcome(self, call_id: str) -> str | None:
        """The outcome recorded for ``call_id`` by any worker (the last one to finish it)."""
        found = [w.calls()[call_id][0] for w in self.workers if call_id in w.calls()]
        return next((o for o in found if o), None)


def dialplan_fallback(call: FakeCall) -> bool:
    """The call went on in the dialplan after Stasis() (to the line's fallback)."""
    return any("FAILED" in line or "rang PJSIP" in line for line in call.dialplan_log)
