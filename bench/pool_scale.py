"""Calls per worker and in total with 1, 2, 3 ``ari-app run`` workers behind HAProxy.

    .venv/bin/python bench/pool_scale.py --workers 1 2 3 --callers 6 --duration 90

For each pool size: HAProxy in front of that many ``ari-app run`` processes in
``ari.mode: outbound`` (the set-up of tests/scale: pocketsphinx, webrtcvad, espeak-ng,
SQLite per worker), one fake Asterisk connecting per call through HAProxy, and
``--callers`` simulated callers calling back to back for ``--duration`` seconds: each
waits for the greeting, asks one sample question with espeak-ng speech, waits for the
answer, says "no thanks" and hangs up. Reported per pool: calls completed per minute
(total and per worker), how many calls each worker took, and the reply delay (end of the
caller's words to the first audio heard back, in media time, p50/p95: it includes the
end-of-turn silence window, 500 ms). All processes share this
machine's cores, so the figures are a ratio, not what N machines give.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ari_app.bench.stats import percentile  # noqa: E402
from ari_app.testing.fake_asterisk import SILENCE_RMS, FakeCall  # noqa: E402
from ari_app.testing.model import FRAME_MS, FakeError  # noqa: E402
from ari_app.testing.scripted_caller import ScriptedCaller  # noqa: E402
from ari_app.tts.base import VoiceSettings  # noqa: E402
from ari_app.tts.espeak import EspeakSynthesizer  # noqa: E402
from tests.scale.pool import APP, Pool  # noqa: E402

QUESTIONS = ("where do I park", "what time do you open on saturday", "do you take delta dental")
CALL_S = 120.0


class Caller:
    """One caller calling back to back until the deadline."""

    def __init__(self, pool: Pool, speak: EspeakSynthesizer, index: int) -> None:
        self.pool = pool
        self.speak = speak
        self.index = index
        self.done: list[str] = []
        self.failed = 0
        self.delays: list[float] = []

    async def run(self, deadline: float) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            number = f"+1617{self.index:03d}{n:04d}"
            call = await self.pool.fakes[0].place_call(
                "+16175550142", number, app=APP, args=["main"]
            )
            try:
                await self.one_call(call, QUESTIONS[(self.index + n) % len(QUESTIONS)])
                self.done.append(call.channel_id)
            except (TimeoutError, AssertionError, FakeError):  # FakeError: the call was gone
                self.failed += 1
                if call.state != "Gone":
                    await call.hangup()

    async def one_call(self, call: FakeCall, question: str) -> None:
        caller = ScriptedCaller(call, self.speak.synthesize)
        await caller.wait_agent_done(within=CALL_S)  # the greeting
        spoken_s = await caller.say(question)
        await caller.wait_said(CALL_S)
        await caller.wait_speech(200, within=CALL_S)
        # What the caller heard, one level per 20 ms since it began to speak: the reply
        # delay is from the end of its words to the first loud frame after them.
        levels = list(call.channel.heard_levels)
        start = int(spoken_s * 1000 / FRAME_MS)
        first = next((i for i in range(start, len(levels)) if levels[i] > SILENCE_RMS), None)
        if first is not None:
            self.delays.append((first - start) * FRAME_MS / 1000)
        await caller.wait_agent_done(within=CALL_S)
        await caller.say("no thanks")
        await caller.wait_said(CALL_S)
        await call.fake.wait_until(lambda: call.state == "Gone", 30)


async def measure(workers: int, callers: int, duration: float, folder: Path) -> dict[str, object]:
    pool = Pool(folder / f"pool-{workers}", workers=workers, asterisks=1)
    speak = EspeakSynthesizer(
        VoiceSettings(voice="en-us", rate_wpm=150, sample_rate=16000), folder / "caller-tts"
    )
    await pool.start()
    try:
        for text in (*QUESTIONS, "no thanks"):
            await speak.synthesize(text)  # cached before the clock starts
        people = [Caller(pool, speak, i) for i in range(callers)]
        started = time.monotonic()
        await asyncio.gather(*(p.run(started + duration) for p in people))
        elapsed = time.monotonic() - started
    finally:
        await pool.stop()
    done = [c for p in people for c in p.done]
    per_worker = {w.name: sum(1 for c in done if c in w.calls()) for w in pool.workers}
    delays = [d for p in people for d in p.delays]
    total_per_min = len(done) / elapsed * 60
    return {
        "workers": workers,
        "callers": callers,
        "seconds": round(elapsed, 1),
        "completed": len(done),
        "failed": sum(p.failed for p in people),
        "calls_per_min": round(total_per_min, 1),
        "calls_per_min_per_worker": round(total_per_min / workers, 1),
        "calls_by_worker": per_worker,
        "reply_delay_p50_s": round(percentile(delays, 50) or 0.0, 2),
        "reply_delay_p95_s": round(percentile(delays, 95) or 0.0, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--callers", type=int, default=6)
    parser.add_argument("--duration", type=float, default=90.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp:
        for workers in args.workers:
            result = await measure(workers, args.callers, args.duration, Path(tmp))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
