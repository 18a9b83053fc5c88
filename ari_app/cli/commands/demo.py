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

from ari_app.call.events import CallEvent, CallEventType
from ari_app.simulation import CallResult, Press, Say, Simulation
from ari_app.testing import Behaviour

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
        d = event.data
        tag = f"  [{number}] {event.at_ms / 1000:6.1f}s"
        lines = {
            CallEventType.GREETING: f"agent   greeting, first audio {d.get('latency_ms')} ms "
            "after answer",
            CallEventType.CALLER_SAID: f"caller  \u00ab{d.get('text')}\u00bb "
            f"(confidence {d.get('confidence')})",
            CallEventType.AGENT_SAID: f"agent   {_latency(d)}{d.get('text')}",
            CallEventType.BARGE_IN: "caller  barged in; agent stopped speaking",
            CallEventType.DTMF: f"caller  pressed {d.get('digit')}",
            CallEventType.SILENCE: "caller  (silence)",
            CallEventType.HANDOFF: f"handoff reason={d.get('reason')} "
            f"({'open' if d.get('open') else 'closed'})",
            CallEventType.RINGING: f"ringing {d.get('target')}: {', '.join(d.get('members', []))}",
            CallEventType.AGENT_ANSWERED: f"agent {d.get('agent')} answered at {d.get('endpoint')}",
            CallEventType.WHISPER: f"whisper to {d.get('agent')}: {d.get('text')}",
            CallEventType.BRIDGED: f"caller and {d.get('agent')} are talking",
            CallEventType.VOICEMAIL: "voicemail greeting"
            + (" (after hours)" if d.get("after_hours") else ""),
            CallEventType.VOICEMAIL_RECORDED: f"voicemail recorded, {d.get('duration_s')} s",
            CallEventType.ERROR: f"ERROR {d.get('error')}",
            CallEventType.ENDED: f"ended: {d.get('outcome')}"
            + (f", reason {d.get('reason')}" if d.get("reason") else "")
            + (f", agent {d.get('agent')}" if d.get("agent") else ""),
        }
        text = lines.get(event.type)
        if text is not None:
            print(f"{tag} {text}", file=self.out, flush=True)


def _latency(data: dict[str, Any]) -> str:
    latency = data.get("latency_ms")
    return f"[{latency} ms] " if latency is not None else ""


async def _agent_talks_then_hangs_up(sim: Simulation, result_events: list[CallEvent]) -> None:
    """The answering agent greets the caller and hangs up a few seconds later."""
    assert sim.fake is not None
    answered = [e for e in result_events if e.type is CallEventType.AGENT_ANSWERED]
    channel = str(answered[-1].data["channel"])
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

    sim = Simulation(args.config, cache_dir=args.cache_dir, listeners=[printer, on_event])
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
                await sim.run_call(
                    "main", [Say("do you take delta dental insurance"), Say("no thanks")]
                ),
            )
        )

        sim.moment = datetime(2026, 12, 1, 10, 45, tzinfo=tz)
        print("\nCall 2 — Tuesday 10:45, open: the caller asks for a person", file=out, flush=True)
        results.append(
            (
                "handed_off",
                await sim.run_call(
                    "main",
                    [Say("put me through to the operator please")],
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
                        Say("I need the operator"),
                        Say("hi this is john smith please call me back about my appointment"),
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
            e.data["latency_ms"]
            for e in result.of(CallEventType.AGENT_SAID)
            if e.data.get("latency_ms") is not None
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
