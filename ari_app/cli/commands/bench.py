"""``ari-app bench``: concurrent simulated callers over real RTP, with latency figures to beat.

N callers loop for S seconds through one :class:`~ari_app.simulation.Simulation` (the fake
Asterisk on loopback plus the real runtime): each places a call, asks two or three
sample-business questions with synthesised speech, says "no thanks" and waits for the end,
then calls again until the duration has passed (calls under way finish). Every third call
its caller talks over the answer to its first question.

Measured: voice-to-voice turn latency (end of the caller's speech to our first reply frame,
from ``AGENT_SAID``), processing after the end-of-speech window (that latency minus
``speech.end_silence_ms``), greeting latency, outbound pacing drift (the RTP timestamps of our
packets against their arrival times at the fake's socket, per talk spurt), barge-in stop time
(from the fake's per-frame record of what the caller heard: the caller's speech onset to the
end of our last frame), process CPU time over wall time, peak RSS, calls completed and failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import yaml

from ari_app.call.events import (
    AgentSaid,
    CallError,
    CallerSaid,
    CallEvent,
    CallEventType,
    Greeting,
)
from ari_app.media.pacer import FramePacer
from ari_app.media.rtp import RtpError
from ari_app.media.rtp import decode as decode_rtp
from ari_app.simulation import Simulation
from ari_app.testing.fake_asterisk import SILENCE_RMS, FakeCall
from ari_app.testing.media import RtpLeg
from ari_app.testing.model import FRAME_BYTES, RATE
from ari_app.testing.scripted_caller import ScriptedCaller

_LOGGER = logging.getLogger(__name__)
FRAME_MS = 20
QUESTIONS = (
    "where do I park",
    "do you take delta dental insurance",
    "what time do you open on saturday",
    "how much is a cleaning",
    "do you see children",
    "where are you located",
)
"""Caller questions from the sample business that get answers."""
BARGE_QUESTION = "do you take delta dental insurance"
"""Asked first on barge-in calls: its answer is long enough to talk over."""
BARGE_WORDS = "where do I park"
GOODBYE = "no thanks"
GOODBYE_S = 10.0
"""How long the caller waits for the agent's goodbye and hang-up before hanging up."""
BARGE_EVERY = 3
"""Every third call of a caller barges in (caller n first on its call n % 3 - 1)."""
SPURT_GAP_S = 0.2
"""Our RTP timestamps run on through pauses; a packet 200 ms later than its timestamp says
starts a new talk spurt (the speaker paused between utterances)."""
QUIET_RUN_FRAMES = 30
"""600 ms of quiet after the caller's onset mark the end of our (stopped) speech."""
ONSET_RMS = 30.0
"""The caller's speech starts at the first frame above this level (espeak pads with zeros)."""
CALL_LIMIT_S = 240.0
"""A call still going after this long counts as failed (misheard turns make calls long)."""
LINE = "main"
MOMENT = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/New_York"))
"""A Tuesday morning: the sample line is open and the AI agent answers."""


def register(sub: Any) -> None:
    """Add the ``bench`` command."""
    parser = sub.add_parser(
        "bench", help="concurrent simulated calls: turn latency, pacing, barge-in, CPU, memory"
    )
    parser.add_argument("--calls", type=int, default=4, help="concurrent callers (default 4)")
    parser.add_argument(
        "--duration", type=float, default=40.0, help="seconds of load after warm-up (default 40)"
    )
    parser.add_argument(
        "--engine", choices=("pocketsphinx", "vosk"), default=None, help="ASR engine override"
    )
    parser.add_argument("--vosk-model", type=Path, default=None, help="vosk model directory")
    parser.add_argument("--end-silence-ms", type=int, default=None, help="override the turn end")
    parser.add_argument("-c", "--config", type=Path, default=Path("config"))
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--soak",
        type=int,
        default=None,
        metavar="N",
        help="instead: N short calls in a row and --calls at once; report resource growth",
    )
    parser.set_defaults(handler=run)


# --- measurements ---------------------------------------------------------------------


@dataclass(slots=True)
class _Spurt:
    first_arrival: float
    first_ts: int
    last_ts: int
    last_arrival: float
    drifts_ms: list[float] = field(default_factory=list)


class PacingProbe:
    """Arrival times of our RTP packets at the fake's sockets, against their timestamps."""

    def __init__(self) -> None:
        self.wrapped: set[int] = set()
        self.drifts_ms: list[float] = []
        """|arrival offset - timestamp offset| of every packet, within its talk spurt."""
        self.spurt_end_drifts_ms: list[float] = []
        self.spurt_lengths_s: list[float] = []
        self._legs_spurts: list[tuple[list[_Spurt], int]] = []

    def attach(self, leg: RtpLeg) -> None:
        """Start timing the packets ``leg`` receives."""
        if id(leg) in self.wrapped:
            return
        self.wrapped.add(id(leg))
        inner = leg.on_datagram
        rate = leg.fmt.sample_rate
        spurt: list[_Spurt] = []

        def timed(data: bytes) -> None:
            now = time.perf_counter()
            try:
                packet = decode_rtp(data)
            except RtpError:
                inner(data)
                return
            current = spurt[0] if spurt else None
            pause = 0.0
            if current is not None:
                sent_gap = ((packet.timestamp - current.last_ts) & 0xFFFFFFFF) / rate
                pause = now - current.last_arrival - sent_gap
            if current is None or packet.marker or pause > SPURT_GAP_S:
                if current is not None:
                    self._close(current, rate)
                current = _Spurt(now, packet.timestamp, packet.timestamp, now)
                spurt[:] = [current]
            current.last_ts = packet.timestamp
            current.last_arrival = now
            expected = ((packet.timestamp - current.first_ts) & 0xFFFFFFFF) / rate
            drift = (now - current.first_arrival - expected) * 1000
            current.drifts_ms.append(drift)
            inner(data)

        leg.on_datagram = timed  # type: ignore[method-assign]
        self._legs_spurts.append((spurt, rate))

    def _close(self, spurt: _Spurt, rate: int) -> None:
        if len(spurt.drifts_ms) < 2:
            return
        self.drifts_ms.extend(abs(d) for d in spurt.drifts_ms)
        self.spurt_end_drifts_ms.append(abs(spurt.drifts_ms[-1]))
        self.spurt_lengths_s.append(((spurt.last_ts - spurt.first_ts) & 0xFFFFFFFF) / rate)

    def finish(self) -> None:
        """Close every open talk spurt."""
        for spurts, rate in self._legs_spurts:
            if spurts:
                self._close(spurts[0], rate)
                spurts.clear()


async def long_spurt_drift(seconds: float) -> list[float]:
    """Push ``seconds`` of audio through a :class:`FramePacer` (one long talk spurt, as a long
    answer would be) while the load runs; the send times' drift from the 20 ms grid, in ms,
    frame by frame."""
    loop = asyncio.get_running_loop()
    times: list[float] = []
    pacer = FramePacer(lambda frame: times.append(loop.time()), 640, name="bench-drift")
    try:
        pacer.push(bytes(640 * int(seconds * 50)))
        await pacer.wait_idle()
    finally:
        await pacer.close()
    return [(at - times[0] - n * 0.02) * 1000 for n, at in enumerate(times)]


@dataclass(slots=True)
class Figures:
    """Everything measured during the load period."""

    turn_ms: list[int] = field(default_factory=list)
    greeting_ms: list[int] = field(default_factory=list)
    barge_stop_ms: list[int] = field(default_factory=list)
    barge_missed: int = 0
    completed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    misheard: int = 0
    turns_heard: int = 0
    heard_texts: list[str] = field(default_factory=list)


def percentile(values: list[float] | list[int], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation), None when there is nothing."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def _rounded(value: float | None, digits: int = 0) -> float | None:
    return None if value is None else round(value, digits)


# --- the callers ----------------------------------------------------------------------


def _onset_frame(pcm: bytes) -> int:
    """Index of the first 20 ms frame of ``pcm`` (16 kHz) that is not near-digital silence."""
    for index in range(len(pcm) // FRAME_BYTES):
        frame = np.frombuffer(pcm[index * FRAME_BYTES : (index + 1) * FRAME_BYTES], dtype="<i2")
        samples = frame.astype(np.float64)
        if float(np.sqrt(np.mean(samples * samples))) > ONSET_RMS:
            return index
    return 0


def barge_stop_ms(levels: list[float], onset: int) -> int | None:
    """Milliseconds from frame ``onset`` to the end of the last loud frame before a quiet run."""
    quiet = 0
    for index in range(onset, len(levels)):
        if levels[index] > SILENCE_RMS:
            quiet = 0
            continue
        quiet += 1
        if quiet >= QUIET_RUN_FRAMES:
            first_quiet = index - QUIET_RUN_FRAMES + 1
            return max(0, first_quiet - onset) * FRAME_MS
    return None


class Bench:
    """The load generator: callers, event collection and figures."""

    def __init__(self, sim: Simulation, end_silence_ms: int, seed: int) -> None:
        self.sim = sim
        self.end_silence_ms = end_silence_ms
        self.rng = random.Random(seed)
        self.figures = Figures()
        self.probe = PacingProbe()
        self.recording = False
        self.stages: dict[str, str] = {}
        """What each call's caller is doing (named in failures)."""

    def on_event(self, event: CallEvent) -> None:
        """Collect latencies from call events (a Simulation listener)."""
        if event.type is CallEventType.ANSWERED and self.sim.fake is not None:
            for leg in list(self.sim.fake.rtp_legs.values()):
                if leg.transport is not None:
                    self.probe.attach(leg)
        if not self.recording:
            return
        if isinstance(event, Greeting) and event.latency_ms is not None:
            self.figures.greeting_ms.append(event.latency_ms)
        elif isinstance(event, AgentSaid) and event.latency_ms is not None:
            self.figures.turn_ms.append(event.latency_ms)
            self.figures.turns_heard += 1
            if event.action != "answer":
                self.figures.misheard += 1
        elif isinstance(event, CallerSaid):
            self.figures.heard_texts.append(event.text)

    async def speak(self, text: str) -> bytes:
        """The caller's voice for ``text`` (cached on disk after the first time)."""
        return await self.sim.caller_voice.synthesize(text)

    async def one_call(self, questions: list[str], *, barge: bool) -> str:
        """Play one call; returns its outcome. A handoff to a person ends it (caller hangs up)."""
        call = await self.sim.place(LINE)
        script = asyncio.create_task(self._script(call, questions, barge=barge))
        handoff = asyncio.create_task(
            self.sim.wait_event(call.channel_id, CallEventType.HANDOFF, within=180)
        )
        self.stages[call.channel_id] = "placed"
        try:
            async with asyncio.timeout(CALL_LIMIT_S):
                await asyncio.wait({script, handoff}, return_when=asyncio.FIRST_COMPLETED)
                if handoff.done() and not script.done():
                    script.cancel()
                    if call.state != "Gone":
                        await call.hangup()
                elif script.done():
                    script.result()
                    await self._hang_up_unless_ended(call)
                self.stages[call.channel_id] = "waiting for the end"
                result = await self.sim.wait_ended(call.channel_id, 60)
        except Exception as exc:
            events = ",".join(e.type.value for e in self.sim.result(call.channel_id).events)
            stage = self.stages.get(call.channel_id)
            raise RuntimeError(f"{exc!r} while {stage}; events {events}") from exc
        finally:
            for task in (script, handoff):
                task.cancel()
            self.stages.pop(call.channel_id, None)
        if result.of(CallError):
            raise RuntimeError(result.of(CallError)[0].error)
        return result.outcome

    async def _hang_up_unless_ended(self, call: FakeCall) -> None:
        """After "no thanks" the agent says goodbye and hangs up; if it does not, we do."""
        try:
            await self.sim.wait_event(call.channel_id, CallEventType.ENDED, within=GOODBYE_S)
        except TimeoutError:
            if call.state != "Gone":
                await call.hangup()

    async def _script(self, call: FakeCall, questions: list[str], *, barge: bool) -> None:
        caller = ScriptedCaller(call, self.speak)
        for index, question in enumerate([*questions, GOODBYE]):
            self.stages[call.channel_id] = f"waiting for the agent before {question!r}"
            await caller.wait_agent_done()
            if call.state == "Gone":
                return
            self.stages[call.channel_id] = f"saying {question!r}"
            await caller.say(question)
            await caller.wait_said()
            if barge and index == 0 and call.state != "Gone":
                self.stages[call.channel_id] = "barging in"
                await self._barge_in(call)

    async def _barge_in(self, call: FakeCall) -> None:
        """Talk over the answer once the caller has heard 600 ms of it; time our stop."""
        await call.wait_heard_speech(600, within=20)
        pcm = await self.speak(BARGE_WORDS)
        levels = call.channel.heard_levels
        onset = len(levels) + _onset_frame(pcm)
        await call.send_audio(pcm + bytes(RATE * 2), RATE)
        await call.fake.wait_until(lambda: not call.channel.inbound, 30)
        await call.fake.wait_until(
            lambda: len(levels) >= onset + QUIET_RUN_FRAMES + 50 or call.state == "Gone", 30
        )
        stopped = barge_stop_ms(list(levels), onset)
        barged = self.sim.result(call.channel_id).of(CallEventType.BARGE_IN)
        if self.recording:
            if stopped is None or not barged:
                self.figures.barge_missed += 1
            else:
                self.figures.barge_stop_ms.append(stopped)

    async def caller(self, number: int, until: float) -> None:
        """One caller: calls again and again until loop time ``until``."""
        loop = asyncio.get_running_loop()
        rng = random.Random(self.rng.random())
        await asyncio.sleep(rng.uniform(0, 3))
        made = 0
        while loop.time() < until:
            barge = (made + number) % BARGE_EVERY == 1
            questions = rng.sample(QUESTIONS, rng.choice((2, 3)))
            if barge:
                questions = [BARGE_QUESTION, *questions[:1]]
            made += 1
            try:
                await self.one_call(questions, barge=barge)
            except Exception as exc:
                self.figures.failed += 1
                self.figures.failures.append(f"caller {number}: {exc}")
                _LOGGER.warning("caller %d: call failed: %r", number, exc)
                continue
            self.figures.completed += 1

    async def warm_up(self) -> None:
        """One untimed call that loads the models; caller voices synthesised ahead."""
        for text in (*QUESTIONS, BARGE_QUESTION, BARGE_WORDS, GOODBYE):
            await self.speak(text)
        await self.one_call([QUESTIONS[0]], barge=False)


# --- soak -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resources:
    """What a leak would make grow."""

    tasks: int
    fds: int
    threads: int
    rss_mib: float
    fake_channels: int
    fake_bridges: int
    fake_rtp_legs_open: int
    sessions: int

    @classmethod
    def now(cls, sim: Simulation) -> Resources:
        """A snapshot of this process and the simulation."""
        assert sim.fake is not None
        assert sim.runtime is not None
        pages = int(Path("/proc/self/statm").read_text(encoding="utf-8").split()[1])
        return cls(
            tasks=len(asyncio.all_tasks()),
            fds=len(os.listdir("/proc/self/fd")),
            threads=threading.active_count(),
            rss_mib=round(pages * resource.getpagesize() / 2**20, 1),
            fake_channels=len(sim.fake.channels),
            fake_bridges=len(sim.fake.bridges),
            fake_rtp_legs_open=sum(
                1 for leg in sim.fake.rtp_legs.values() if leg.transport is not None
            ),
            sessions=len(sim.runtime.supervisor.sessions),
        )


async def short_call(sim: Simulation) -> str:
    """Place a call, hang up once the caller has heard 200 ms of the greeting; the outcome."""
    call = await sim.place(LINE)
    await call.wait_heard_speech(200, within=30)
    await call.hangup()
    try:
        result = await sim.wait_ended(call.channel_id, 30)
    except TimeoutError:
        events = ",".join(e.type.value for e in sim.result(call.channel_id).events)
        assert sim.runtime is not None
        alive = call.channel_id in sim.runtime.supervisor.sessions
        raise RuntimeError(
            f"call {call.channel_id} not ended 30 s after the caller hung up "
            f"(session alive: {alive}; events {events})"
        ) from None
    return result.outcome


async def settled(sim: Simulation, baseline: Resources, within: float = 10.0) -> Resources:
    """Resources once no call is left and the task count is back to ``baseline`` (checked
    on every fake state change and media tick), or after ``within`` seconds."""
    assert sim.fake is not None

    def quiet() -> bool:
        now = Resources.now(sim)
        idle = now.sessions == 0 and now.fake_channels == 0 and now.fake_bridges == 0
        return idle and now.tasks <= baseline.tasks

    with contextlib.suppress(TimeoutError):
        await sim.fake.wait_until(quiet, within)
    return Resources.now(sim)


async def soak(sim: Simulation, in_row: int, at_once: int) -> tuple[Resources, Resources, int]:
    """Warm up, then ``in_row`` short calls one after another and ``at_once`` concurrently;
    returns (resources before, after, failed calls)."""
    for _ in range(2):
        await short_call(sim)
    warm = await asyncio.gather(*(short_call(sim) for _ in range(at_once)), return_exceptions=True)
    failed = sum(1 for outcome in warm if isinstance(outcome, BaseException))
    before = await settled(sim, Resources.now(sim))
    for _ in range(in_row):
        try:
            await short_call(sim)
        except Exception as exc:
            _LOGGER.error("soak call failed: %s", exc)
            failed += 1
    outcomes = await asyncio.gather(
        *(short_call(sim) for _ in range(at_once)), return_exceptions=True
    )
    failed += sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
    for outcome in (*warm, *outcomes):
        if isinstance(outcome, BaseException):
            _LOGGER.error("soak call failed: %s", outcome)
    after = await settled(sim, before)
    return before, after, failed


# --- the command ----------------------------------------------------------------------


def _prepare_config(args: argparse.Namespace, work: Path) -> tuple[Path, int]:
    """A copy of the config directory with the command's overrides; returns it and the
    end-of-turn silence in ms."""
    config = work / "config"
    shutil.copytree(args.config, config)
    app_file = config / "app.yaml"
    app = yaml.safe_load(app_file.read_text(encoding="utf-8")) or {}
    speech = app.setdefault("speech", {})
    if args.engine is not None:
        speech["asr_engine"] = args.engine
    if args.vosk_model is not None:
        speech["vosk_model"] = str(args.vosk_model.resolve())
    if args.end_silence_ms is not None:
        speech["end_silence_ms"] = args.end_silence_ms
    app_file.write_text(yaml.safe_dump(app, sort_keys=False), encoding="utf-8")
    return config, int(speech.get("end_silence_ms", 500))


def summarise(
    bench: Bench, args: argparse.Namespace, wall_s: float, cpu_s: float
) -> dict[str, Any]:
    """The figures as one JSON-ready dict."""
    f = bench.figures
    probe = bench.probe
    processing = [t - bench.end_silence_ms for t in f.turn_ms]
    load1 = Path("/proc/loadavg").read_text(encoding="utf-8").split()[0]
    return {
        "calls": args.calls,
        "duration_s": args.duration,
        "engine": args.engine or "config",
        "end_silence_ms": bench.end_silence_ms,
        "turns": len(f.turn_ms),
        "turns_not_answered": f.misheard,
        "recognised": dict(Counter(f.heard_texts).most_common(12)),
        "turn_latency_ms": {
            "p50": _rounded(percentile(f.turn_ms, 50)),
            "p95": _rounded(percentile(f.turn_ms, 95)),
            "max": max(f.turn_ms) if f.turn_ms else None,
        },
        "processing_after_window_ms": {
            "p50": _rounded(percentile(processing, 50)),
            "p95": _rounded(percentile(processing, 95)),
        },
        "greeting_latency_ms": {
            "p50": _rounded(percentile(f.greeting_ms, 50)),
            "p95": _rounded(percentile(f.greeting_ms, 95)),
            "n": len(f.greeting_ms),
        },
        "pacing_drift_ms": {
            "p95": _rounded(percentile(probe.drifts_ms, 95), 1),
            "max": _rounded(max(probe.drifts_ms) if probe.drifts_ms else None, 1),
            "spurt_end_max": _rounded(
                max(probe.spurt_end_drifts_ms) if probe.spurt_end_drifts_ms else None, 1
            ),
            "longest_spurt_s": _rounded(
                max(probe.spurt_lengths_s) if probe.spurt_lengths_s else None, 1
            ),
            "spurts": len(probe.spurt_lengths_s),
        },
        "barge_in_stop_ms": {
            "p50": _rounded(percentile(f.barge_stop_ms, 50)),
            "max": max(f.barge_stop_ms) if f.barge_stop_ms else None,
            "n": len(f.barge_stop_ms),
            "missed": f.barge_missed,
        },
        "cpu_percent_of_one_core": round(100 * cpu_s / wall_s, 1) if wall_s else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "calls_completed": f.completed,
        "calls_failed": f.failed,
        "failures": f.failures[:10],
        "load_average_1min_at_end": float(load1),
    }


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any]) -> None:
    """Human-readable figures."""
    t, p, g = (
        report["turn_latency_ms"],
        report["processing_after_window_ms"],
        report["greeting_latency_ms"],
    )
    d, b = report["pacing_drift_ms"], report["barge_in_stop_ms"]
    lines = [
        f"ari-app bench: {report['calls']} concurrent callers, {report['duration_s']:g} s, "
        f"engine {report['engine']}, end-of-turn silence {report['end_silence_ms']} ms",
        f"  turn latency (end of speech -> first reply frame): p50 {_fmt(t['p50'])} ms, "
        f"p95 {_fmt(t['p95'])} ms, max {_fmt(t['max'])} ms over {report['turns']} turns "
        f"({report['turns_not_answered']} not answered as asked)",
        f"  processing after the end-of-speech window: p50 {_fmt(p['p50'])} ms, "
        f"p95 {_fmt(p['p95'])} ms",
        f"  greeting latency (answer -> first frame): p50 {_fmt(g['p50'])} ms, "
        f"p95 {_fmt(g['p95'])} ms (n={g['n']})",
        f"  outbound pacing drift: p95 {_fmt(d['p95'])} ms, max {_fmt(d['max'])} ms, at spurt end "
        f"max {_fmt(d['spurt_end_max'])} ms ({d['spurts']} spurts, longest "
        f"{_fmt(d['longest_spurt_s'])} s)",
        f"  barge-in stop (caller onset -> our last frame): p50 {_fmt(b['p50'])} ms, "
        f"max {_fmt(b['max'])} ms (n={b['n']}, missed {b['missed']})",
        f"  CPU {_fmt(report['cpu_percent_of_one_core'])} % of one core, peak RSS "
        f"{_fmt(report['peak_rss_mib'])} MiB, load average {report['load_average_1min_at_end']}",
        f"  calls completed {report['calls_completed']}, failed {report['calls_failed']}",
    ]
    long = report.get("long_spurt_drift_ms")
    if long:
        lines.insert(
            5,
            f"  pacer drift over one {long['seconds']:g} s spurt under this load: at its end "
            f"{long['end']:g} ms, max {long['max_abs']:g} ms",
        )
    lines.extend(f"    failure: {text}" for text in report["failures"])
    print("\n".join(lines))


async def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark described by ``args``; returns the report."""
    with tempfile.TemporaryDirectory(prefix="ari-bench-") as tmp:
        work = Path(tmp)
        config, end_silence = _prepare_config(args, work)
        holder: list[Bench] = []
        sim = Simulation(
            config,
            cache_dir=args.cache_dir,
            store_path=work / "bench.sqlite3",
            voicemail_dir=work / "voicemail",
            listeners=[lambda event: holder[0].on_event(event) if holder else None],
        )
        async with sim:
            sim.moment = MOMENT
            bench = Bench(sim, end_silence, args.seed)
            holder.append(bench)
            await bench.warm_up()
            loop = asyncio.get_running_loop()
            bench.recording = True
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu0 = usage.ru_utime + usage.ru_stime
            wall0 = loop.time()
            until = wall0 + args.duration
            async with asyncio.TaskGroup() as group:
                for number in range(args.calls):
                    group.create_task(bench.caller(number + 1, until))
                long_drift = group.create_task(long_spurt_drift(min(args.duration, 60.0)))
            wall = loop.time() - wall0
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime - cpu0
            bench.recording = False
            bench.probe.finish()
            report = summarise(bench, args, wall, cpu)
            drift = long_drift.result()
            report["long_spurt_drift_ms"] = {
                "seconds": round(len(drift) * 0.02, 1),
                "end": round(drift[-1], 1),
                "max_abs": round(max(abs(d) for d in drift), 1),
            }
            return report


async def run_soak(args: argparse.Namespace) -> int:
    """``--soak N``: resource growth over N calls in a row plus ``--calls`` at once."""
    with tempfile.TemporaryDirectory(prefix="ari-soak-") as tmp:
        work = Path(tmp)
        config, _ = _prepare_config(args, work)
        async with Simulation(
            config,
            cache_dir=args.cache_dir,
            store_path=work / "soak.sqlite3",
            voicemail_dir=work / "voicemail",
        ) as sim:
            sim.moment = MOMENT
            started = time.perf_counter()
            before, after, failed = await soak(sim, args.soak, args.calls)
            wall = time.perf_counter() - started
    report = {
        "in_row": args.soak,
        "at_once": args.calls,
        "wall_s": round(wall, 1),
        "failed": failed,
        "before": asdict(before),
        "after": asdict(after),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"ari-app bench --soak: {args.soak} calls in a row, {args.calls} at once, "
            f"{wall:.0f} s, {failed} failed"
        )
        for name, value in asdict(before).items():
            print(f"  {name:20s} {value!s:>8} -> {asdict(after)[name]!s:>8}")
    return 0 if failed == 0 else 1


async def run(args: argparse.Namespace) -> int:
    """Entry point of ``ari-app bench``."""
    if args.calls < 1 or args.duration <= 0:
        print("ari-app bench: --calls must be >= 1 and --duration > 0", file=sys.stderr)
        return 2
    if args.engine == "vosk" and (args.vosk_model is None or not args.vosk_model.is_dir()):
        print(
            "ari-app bench: --engine vosk needs --vosk-model DIR, an unpacked English vosk "
            f"model directory (got {args.vosk_model})",
            file=sys.stderr,
        )
        return 2
    if args.soak is not None:
        return await run_soak(args)
    report = await run_bench(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0 if report["calls_failed"] == 0 else 1
