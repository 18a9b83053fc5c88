"""``ari-app demo``: three callers to Harbour Light Dental against the embedded fake Asterisk.

Real audio end to end: each caller's words are synthesised, sent over RTP through the fake
PBX, recognised, answered, and the replies sent back. One caller is resolved by the AI
agent, one is handed to an agent who answers, one reaches voicemail after hours. The
records go to the configured store, so ``ari-app calls``, ``report`` and ``voicemails``
show them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ari_app.call import events as ev
from ari_app.call.events import CallEvent, CallEventType
from ari_app.simulation import AfterBeep, CallResult, Press, Say, Simulation, WaitFor
from ari_app.testing import Behaviour
from ari_app.tts.base import VoiceSettings
from ari_app.tts.piper import PiperSynthesizer

PERSON = "i would like to speak with a person please"
"""What the demo's callers say to reach a person (the simulated espeak-ng voice's
"operator" is heard as "a for regular": callers ask in full)."""

AGENT_WORDS = "Hi, this is Maya at the front desk. How can I help?"


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    parser = sub.add_parser("demo", help="play three demo calls against the embedded fake PBX")
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("config"),
        help="config directory (default: config)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path("var/cache"),
        help="speech caches (default: var/cache)",
    )
    parser.set_defaults(handler=run)


class TranscriptPrinter:
    """Prints call events as a readable live transcript."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.numbers: dict[str, int] = {}

    def __call__(self, event: CallEvent) -> None:
        number = self.numbers.setdefault(event.call_id, len(self.numbers) + 1)
        text = describe(event)
        if text is not None:
            print(f"  [{number}] {event.at_ms / 1000:6.1f}s {text}", file=self.out, flush=True)


def describe(event: CallEvent) -> str | None:
    """One transcript line for a call event (None: not shown)."""
    match event:
        case ev.Greeting():
            return f"agent   greeting, first audio {event.latency_ms} ms after answer"
        case ev.CallerSaid():
            return f"caller  \u00ab{event.text}\u00bb (confidence {event.confidence})"
        case ev.AgentSaid():
            latency = f"[{event.latency_ms} ms] " if event.latency_ms is not None else ""
            return f"agent   {latency}{event.text}"
        case ev.BargeIn():
            return "caller  barged in; agent stopped speaking"
        case ev.Dtmf():
            return f"caller  pressed {event.digit}"
        case ev.Silence():
            return "caller  (silence)"
        case ev.Handoff():
            return f"handoff reason={event.reason} ({'open' if event.open else 'closed'})"
        case ev.Ringing():
            return f"ringing {event.target}: {', '.join(event.members)}"
        case ev.AgentAnswered():
            return f"agent {event.agent} answered at {event.endpoint}"
        case ev.Whisper():
            return f"whisper to {event.agent}: {event.text}"
        case ev.Bridged():
            return f"caller and {event.agent} are talking"
        case ev.VoicemailStarted():
            return "voicemail greeting" + (" (after hours)" if event.after_hours else "")
        case ev.VoicemailRecorded():
            return f"voicemail recorded, {event.duration_s} s"
        case ev.CallError():
            return f"ERROR {event.error}"
        case ev.Ended():
            return (
                f"ended: {event.outcome}"
                + (f", reason {event.reason}" if event.reason else "")
                + (f", agent {event.agent}" if event.agent else "")
            )
    return None


async def _agent_talks_then_hangs_up(sim: Simulation, result_events: list[CallEvent]) -> None:
    """The answering agent greets the caller and hangs up a few seconds later."""
    assert sim.fake is not None
    answered = [e for e in result_events if isinstance(e, ev.AgentAnswered)]
    channel = answered[-1].channel
    agent = sim.fake.call(channel)
    pcm = await sim.caller_voice.synthesize(AGENT_WORDS)
    await agent.send_audio(pcm + bytes(16000), 16000)
    await sim.fake.wait_until(lambda: not agent.channel.inbound, 30)
    await agent.hangup()


async def run(args: argparse.Namespace) -> int:
    """Play the three calls and print their transcripts."""
    out = sys.stdout
    printer = TranscriptPrinter(out)
    tz = ZoneInfo("America/New_York")
    began = time.monotonic()
    print(
        "ari-app demo: starting the fake Asterisk and loading speech and answer models…",
        file=out,
        flush=True,
    )
    agent_tasks: set[asyncio.Task[None]] = set()
    events: list[CallEvent] = []

    def on_event(event: CallEvent) -> None:
        events.append(event)
        if event.type is CallEventType.BRIDGED:
            task = asyncio.create_task(_agent_talks_then_hangs_up(sim, list(events)))
            agent_tasks.add(task)
            task.add_done_callback(agent_tasks.discard)

    # The demo's callers are synthesised wideband speech, as from an HD-voice softphone:
    # chan_websocket carries it at 16 kHz (slin16), as it would on Asterisk 22.
    sim = Simulation(
        args.config,
        cache_dir=args.cache_dir,
        listeners=[printer, on_event],
        media_transport="websocket",
        # Callers speak with the Piper voice: espeak-ng's is misheard often enough that the
        # transcripts would show the synthesiser, not the application.
        caller_voice=PiperSynthesizer(
            VoiceSettings(voice="piper", rate_wpm=160, sample_rate=16000), args.cache_dir / "tts"
        ),
    )
    async with sim:
        print(f"ready in {time.monotonic() - began:.1f} s\n", file=out, flush=True)
        sim.agents(Behaviour.ANSWER, "PJSIP/201", answer_delay=2.0)
        sim.agents(Behaviour.NO_ANSWER, "PJSIP/202")
        results: list[tuple[str, CallResult]] = []

        sim.moment = datetime(2026, 12, 1, 10, 30, tzinfo=tz)
        print("Call 1 — Tuesday 10:30, open: a question the AI agent answers", file=out, flush=True)
        results.append(
            (
                "resolved",
                await sim.run_call("main", [Say("where do I park"), Say("no thanks")]),
            )
        )

        sim.moment = datetime(2026, 12, 1, 10, 45, tzinfo=tz)
        print("\nCall 2 — Tuesday 10:45, open: the caller asks for a person", file=out, flush=True)
        results.append(
            (
                "handed_off",
                await sim.run_call(
                    "main",
                    [Say(PERSON)],
                    caller_number="+16175550111",
                ),
            )
        )

        sim.moment = datetime(2026, 12, 1, 23, 30, tzinfo=tz)
        print(
            "\nCall 3 — Tuesday 23:30, closed: the caller leaves a voicemail", file=out, flush=True
        )
        results.append(
            (
                "voicemail",
                await sim.run_call(
                    "main",
                    [
                        Say(PERSON),
                        WaitFor(CallEventType.VOICEMAIL),
                        AfterBeep(),
                        Say("this is a test message please call me back"),
                        Press("#"),
                    ],
                    caller_number="+16175550122",
                ),
            )
        )
        await asyncio.gather(*agent_tasks, return_exceptions=True)
        store = sim.runtime.store if sim.runtime is not None else None
        voicemails = await asyncio.to_thread(store.reader.list_voicemails) if store else []

    print("\nSummary", file=out)
    ok = True
    for number, (expected, result) in enumerate(results, 1):
        turns = [
            e.latency_ms
            for e in result.of(CallEventType.AGENT_SAID)
            if isinstance(e, ev.AgentSaid) and e.latency_ms is not None
        ]
        mark = "ok" if result.outcome == expected else f"EXPECTED {expected}"
        ok &= result.outcome == expected
        print(
            f"  call {number}: {result.outcome:<10} {mark:<4} turn latency ms: "
            f"{', '.join(map(str, turns)) or '-'}",
            file=out,
        )
    for vm in voicemails[:1]:
        print(f"  voicemail from {vm.caller}: {vm.duration_s} s, «{vm.transcript}»", file=out)
    print(
        f"  done in {time.monotonic() - began:.1f} s; see `ari-app calls`, `ari-app report`, "
        "`ari-app voicemails`",
        file=out,
    )
    return 0 if ok else 1
