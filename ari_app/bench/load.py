"""The load benchmark and the soak: simulated callers over real RTP through one
:class:`~ari_app.simulation.Simulation`, the figures they produce (``ari-app bench``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import resource
import shutil
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml

from ari_app.bench.app_process import AppProcess, RemoteSimulation, Usage
from ari_app.bench.probes import (
    QUIET_RUN_FRAMES,
    PacingProbe,
    barge_stop_ms,
    end_frame,
    long_spurt_drift,
    onset_frame,
    reply_onset_ms,
)
from ari_app.bench.report import Figures, stats_delta, summarise
from ari_app.call.events import (
    AgentSaid,
    CallError,
    CallerSaid,
    CallEvent,
    CallEventType,
    Greeting,
)
from ari_app.simulation import Simulation
from ari_app.testing.fake_asterisk import FakeCall
from ari_app.testing.model import RATE
from ari_app.testing.scripted_caller import ScriptedCaller
from ari_app.tts.base import VoiceSettings
from ari_app.tts.piper import PiperSynthesizer

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


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


CALL_LIMIT_S = 240.0
"""A call still going after this long counts as failed (misheard turns make calls long)."""


LINE = "main"


MOMENT = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/New_York"))
"""A Tuesday morning: the sample line is open and the AI agent answers."""


class Bench:
    """The load generator: callers, event collection and figures."""

    def __init__(self, sim: Simulation, end_silence_ms: int, seed: int) -> None:
        self.sim = sim
        self.end_silence_ms = end_silence_ms
        self.rng = random.Random(seed)
        self.figures = Figures()
        self.probe = PacingProbe()
        self.probe.recording = False
        self.recording = False
        self.stages: dict[str, str] = {}
        """What each call's caller is doing (named in failures)."""
        # Steady renditions: the same words sound the same in every run, so the figures do
        # not hang on one random rendition (one of "do you see children" was heard as
        # "B.C. children" even offline).
        self.caller_voice = PiperSynthesizer(
            VoiceSettings(voice="piper", rate_wpm=170, sample_rate=RATE),
            sim.cache_dir / "tts",
            steady=True,
        )

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
            if event.action not in ("answer", "goodbye"):  # "no thanks" gets a goodbye
                self.figures.misheard += 1
        elif isinstance(event, CallerSaid):
            self.figures.heard_texts.append(event.text)
            if event.recognised_ms is not None:
                self.figures.recognised_ms.append(event.recognised_ms)

    async def speak(self, text: str) -> bytes:
        """The caller's voice for ``text`` (cached on disk after the first time): the Piper
        voice, which the recogniser hears as a caller would be heard (espeak-ng's voice is
        misheard about a third of the time, which measures espeak, not the application)."""
        return await self.caller_voice.synthesize(text)

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
            end = end_frame(await self.speak(question))
            await caller.say(question)
            await caller.wait_said()
            await self._time_reply(call, end)
            if barge and index == 0 and call.state != "Gone":
                self.stages[call.channel_id] = "barging in"
                await self._barge_in(call)

    async def _time_reply(self, call: FakeCall, end: int) -> None:
        """Record when the caller first heard our reply after their words ended (frame
        ``end`` of what they said, counted from its start like what they hear)."""
        levels = call.channel.heard_levels
        try:
            await call.fake.wait_until(
                lambda: reply_onset_ms(levels, end) is not None or call.state == "Gone", 30
            )
        except TimeoutError:
            return  # no reply (counted as a failed or misheard call elsewhere)
        heard = reply_onset_ms(levels, end)
        if heard is not None and self.recording:
            self.figures.heard_turn_ms.append(heard)

    async def _barge_in(self, call: FakeCall) -> None:
        """Talk over the answer once the caller has heard 600 ms of it; time our stop."""
        await call.wait_heard_speech(600, within=20)
        pcm = await self.speak(BARGE_WORDS)
        levels = call.channel.heard_levels
        onset = len(levels) + onset_frame(pcm)
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

    async def caller(self, number: int, ramp_s: float, until: float) -> None:
        """One caller: first calls at a random moment within ``ramp_s`` seconds from now, then
        again and again until loop time ``until``."""
        loop = asyncio.get_running_loop()
        rng = random.Random(self.rng.random())
        await asyncio.sleep(rng.uniform(0, ramp_s))
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

    async def measure(
        self, app: AppProcess | None, start: float, until: float
    ) -> tuple[float, float, Usage | None, Usage | None]:
        """Record figures from loop time ``start`` (every caller has called) to ``until`` (the
        callers stop calling again): the moments when all of them are in a call, which
        neither the stagger of their first calls nor their last calls ending would be.

        Returns the window's wall seconds, this process's CPU seconds over it, and the
        application's usage at its start and end (None in one process).
        """
        loop = asyncio.get_running_loop()
        await _until(start)
        self.recording = self.probe.recording = True
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        before = await app.usage() if app is not None else None
        wall0 = loop.time()
        await _until(until)
        self.probe.finish()
        self.recording = self.probe.recording = False
        usage = resource.getrusage(resource.RUSAGE_SELF)
        after = await app.usage() if app is not None else None
        return loop.time() - wall0, usage.ru_utime + usage.ru_stime - cpu0, before, after

    async def warm_up(self) -> None:
        """One untimed call that loads the models; caller voices synthesised ahead."""
        for text in (*QUESTIONS, BARGE_QUESTION, BARGE_WORDS, GOODBYE):
            await self.speak(text)
        await self.one_call([QUESTIONS[0]], barge=False)


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


async def _until(moment: float) -> None:
    """Return at loop time ``moment`` (at once if it has passed)."""
    await asyncio.sleep(max(0.0, moment - asyncio.get_running_loop().time()))


async def _after(moment: float, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` from loop time ``moment`` on."""
    await _until(moment)
    return await work


def prepare_config(args: argparse.Namespace, work: Path) -> tuple[Path, int]:
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


async def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark described by ``args``; returns the report.

    The application runs in a process of its own (:class:`RemoteSimulation`), as beside a
    real Asterisk, unless ``args.in_process``: then it shares this process's event loop with
    the fake Asterisk and the callers, and is measured waiting for their work too.
    """
    with tempfile.TemporaryDirectory(prefix="ari-bench-") as tmp:
        work = Path(tmp)
        config, end_silence = prepare_config(args, work)
        holder: list[Bench] = []
        kind = Simulation if getattr(args, "in_process", False) else RemoteSimulation
        sim = kind(
            config,
            cache_dir=args.cache_dir,
            store_path=work / "bench.sqlite3",
            voicemail_dir=work / "voicemail",
            listeners=[lambda event: holder[0].on_event(event) if holder else None],
        )
        sim.moment = MOMENT
        async with sim:
            app = sim.app if isinstance(sim, RemoteSimulation) else None
            bench = Bench(sim, end_silence, args.seed)
            holder.append(bench)
            await bench.warm_up()
            loop = asyncio.get_running_loop()
            ramp = args.ramp
            measured = loop.time() + ramp
            until = measured + args.duration
            spurt = min(args.duration, 60.0)
            async with asyncio.TaskGroup() as group:
                for number in range(args.calls):
                    group.create_task(bench.caller(number + 1, ramp, until))
                window = group.create_task(bench.measure(app, measured, until))
                drift_probe = app.drift(spurt) if app is not None else long_spurt_drift(spurt)
                long_drift = group.create_task(_after(measured, drift_probe))
            wall, cpu, before, app_usage = window.result()
            if app is not None:
                assert before is not None
                assert app_usage is not None
                report = summarise(
                    bench.figures,
                    bench.probe,
                    end_silence,
                    args,
                    wall,
                    app_usage.cpu_s - before.cpu_s,
                )
                report["app_thread_cpu_s"] = {
                    name: round(cpu - before.threads.get(name, 0.0), 2)
                    for name, cpu in app_usage.threads.items()
                    if cpu - before.threads.get(name, 0.0) >= 0.05
                }
                report["recognition"] = [
                    stats_delta(b, a)
                    for b, a in zip(before.recognition, app_usage.recognition, strict=True)
                ]
                report["peak_rss_mib"] = app_usage.peak_rss_mib
                report["application"] = "own process"
                report["load_generator_cpu_percent_of_one_core"] = round(100 * cpu / wall, 1)
            else:
                report = summarise(bench.figures, bench.probe, end_silence, args, wall, cpu)
                report["application"] = "in the load generator's process"
            report["ramp_s"] = ramp
            drift = long_drift.result()
            report["long_spurt_drift_ms"] = {
                "seconds": round(len(drift) * 0.02, 1),
                "end": round(drift[-1], 1),
                "max_abs": round(max(abs(d) for d in drift), 1),
            }
            return report
