"""Soak: voicemail calls while the app is killed with SIGKILL at random moments; 0 lost.

The fake Asterisk runs here; the app runs in a child process (``bench.voicemail_soak_child``:
the real supervisor, call sessions, call recorder and voicemail service, with a silent
scripted voice instead of speech engines). Every call goes to voicemail (nobody is
available); the caller speaks for half a second and ends the message with ``#``. At random
moments the child is killed: during a recording (~10 % of calls) or 0-600 ms after a
message ended (~30 %), i.e. while the confirmation plays, the job row is being written, or
the worker fetches, verifies or deletes. Callers still on the line hang up, and the child
is started again. At the end every message Asterisk finished recording must be a saved
voicemail (``done``) in the store: "lost" counts those that are not.

Usage: ``.venv/bin/python -m bench.voicemail_soak [--calls 50] [--seed 1] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import yaml

from ari_app.store import StoreReader
from ari_app.testing.fake_asterisk import FakeAsterisk, FakeCall
from ari_app.testing.model import Behaviour, ChannelKind

CONFIG = Path(__file__).resolve().parents[1] / "config"
PASSWORD = "soak-password-0123456789"
AGENTS = ("PJSIP/201", "PJSIP/202", "PJSIP/301")


def soak_config(target: Path, ari_url: str, work: Path) -> Path:
    """The sample config aimed at the fake, with its store in ``work``."""
    shutil.copytree(CONFIG, target)
    app_file = target / "app.yaml"
    app = yaml.safe_load(app_file.read_text(encoding="utf-8"))
    app["ari"]["url"] = ari_url
    app["store"]["path"] = str(work / "calls.sqlite3")
    app["store"]["voicemail_dir"] = str(work / "voicemail")
    app_file.write_text(yaml.safe_dump(app, sort_keys=False), encoding="utf-8")
    lines_file = target / "lines.yaml"
    lines = yaml.safe_load(lines_file.read_text(encoding="utf-8"))
    for line in lines["lines"].values():
        for key in ("greeting_in_hours_audio", "greeting_after_hours_audio"):
            line["voicemail"].pop(key, None)
    lines_file.write_text(yaml.safe_dump(lines, sort_keys=False), encoding="utf-8")
    return target


class App:
    """The child process running the app."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.voicemail_soak_child",
            str(self.config),
            PASSWORD,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(60):
            line = await self.process.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"the app did not start: {line!r}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()


async def one_call(
    fake: FakeAsterisk, app: App, n: int, rng: random.Random, left: set[str]
) -> None:
    """Place one call and leave a message, killing the app at a random moment."""
    call: FakeCall = await fake.place_call(
        did="+16175550142", caller_number=f"+1617555{n:04d}", app="ari-app", args=["main"]
    )
    channel = call.channel
    try:
        await fake.wait_until(lambda: channel.recording is not None or channel.gone(), 20)
    except TimeoutError:
        return  # the app never got to the recording (it was killed): no message left
    name = channel.recording
    if name is None:
        return
    roll = rng.random()
    if roll < 0.1:
        await app.kill()  # killed while the caller is speaking
    fake.send_audio(call.channel_id, bytes(16000))  # half a second of the caller
    await asyncio.sleep(0.5)
    fake.press_dtmf(call.channel_id, "#")
    path = fake.recording_path(name, "wav")
    await fake.wait_until(lambda: name not in fake.recordings and path.exists(), 10)
    left.add(name)
    if app.alive and roll < 0.4:
        await asyncio.sleep(rng.uniform(0, 0.6))
        await app.kill()
    if app.alive:
        with contextlib.suppress(TimeoutError):
            await fake.wait_until(channel.gone, 10)  # confirmation, then we hang up


async def hang_up_callers(fake: FakeAsterisk) -> None:
    for channel in list(fake.channels.values()):
        if channel.kind is ChannelKind.CALLER and not channel.gone():
            await fake.hangup_from_party(channel.id)


async def soak(calls: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="vm-soak-") as tmp:
        work = Path(tmp)
        fake = FakeAsterisk(username="ari_app", password=PASSWORD, recordings_dir=work / "asterisk")
        await fake.start("127.0.0.1", 0)
        for endpoint in AGENTS:
            fake.configure_endpoint(endpoint, Behaviour.OFFLINE)
        app = App(soak_config(work / "config", fake.url, work))
        left: set[str] = set()
        saved: set[str] = set()
        started = durable_at = time.perf_counter()
        try:
            await app.start()
            for n in range(calls):
                await one_call(fake, app, n, rng, left)
                if not app.alive:
                    await hang_up_callers(fake)
                    await app.start()
            durable_at = time.perf_counter()
            reader = StoreReader(work / "calls.sqlite3")
            async with asyncio.timeout(120):
                while True:
                    rows = await asyncio.to_thread(
                        reader.query, "SELECT recording_name, state FROM voicemails"
                    )
                    saved = {name for name, state in rows if state == "done"}
                    if left <= saved:
                        break
                    await asyncio.sleep(0.5)
            reader.close()
        except TimeoutError:
            print("voicemail soak: gave up waiting", file=sys.stderr)
        finally:
            await app.stop()
            await fake.stop()
        lost = sorted(left - saved)
        return {
            "calls": calls,
            "messages_left": len(left),
            "kills": app.kills,
            "saved": len(left & saved),
            "lost": len(lost),
            "lost_names": lost,
            "settle_s": round(time.perf_counter() - durable_at, 1),
            "wall_s": round(time.perf_counter() - started, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(soak(args.calls, args.seed))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"voicemail soak: {report['calls']} calls, {report['messages_left']} messages, "
            f"{report['kills']} kill -9, {report['saved']} saved, {report['lost']} lost "
            f"({report['wall_s']} s)"
        )
    raise SystemExit(1 if report["lost"] else 0)


if __name__ == "__main__":
    main()
