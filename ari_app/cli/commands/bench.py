"""``ari-app bench``: concurrent simulated callers over real RTP, with latency figures to beat.

N callers loop through one :class:`~ari_app.simulation.Simulation` (the fake Asterisk on
loopback plus the real runtime): each places a call, asks two or three sample-business
questions with synthesised speech, says "no thanks" and waits for the end, then calls again.
Every third call its caller talks over the answer to its first question. The callers place
their first calls at random moments over ``--ramp`` seconds, as calls arrive on a real line,
so their turns do not fall in step; the figures are taken over the next ``--duration``
seconds, while every caller is in a call, and the calls under way then finish unmeasured.
``--ramp 0`` starts every caller at once and measures from the start: the worst case of a
line that opens to twenty callers in the same second.

Measured: voice-to-voice turn latency (end of the caller's speech to our first reply frame,
from ``AGENT_SAID``), processing after the end-of-speech window (that latency minus
``speech.end_silence_ms``), greeting latency, outbound pacing drift (the RTP timestamps of our
packets against their arrival times at the fake's socket, per talk spurt), barge-in stop time
(from the fake's per-frame record of what the caller heard: the caller's speech onset to the
end of our last frame), process CPU time over wall time, peak RSS, calls completed and failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ari_app.bench.load import MOMENT, prepare_config, run_bench, soak
from ari_app.simulation import Simulation


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
        "--ramp",
        type=float,
        default=20.0,
        help="seconds over which the callers place their first calls, at random moments; "
        "figures are taken after it, while every caller is in a call (default 20; 0: all at "
        "once, measured from the start)",
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
        "--in-process",
        action="store_true",
        help="run the application in this process, sharing its event loop with the fake "
        "Asterisk and the callers (default: a process of its own, as beside Asterisk)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=None,
        metavar="N",
        help="instead: N short calls in a row and --calls at once; report resource growth",
    )
    parser.set_defaults(handler=run)


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
    r = report.get("final_text_after_window_ms", {})
    h = report.get("turn_latency_heard_ms", {})
    lines = [
        f"ari-app bench: {report['calls']} concurrent callers, {report['duration_s']:g} s "
        f"measured after a {report.get('ramp_s', 0):g} s ramp, "
        f"engine {report['engine']}, end-of-turn silence {report['end_silence_ms']} ms",
        f"  turn latency (end of speech -> first reply frame): p50 {_fmt(t['p50'])} ms, "
        f"p95 {_fmt(t['p95'])} ms, max {_fmt(t['max'])} ms over {report['turns']} turns "
        f"({report['turns_not_answered']} not answered as asked)",
        f"  as the caller heard it (end of their last sound -> our first sound): "
        f"p50 {_fmt(h.get('p50'))} ms, p95 {_fmt(h.get('p95'))} ms, max {_fmt(h.get('max'))} ms",
        f"  processing after the end-of-speech window: p50 {_fmt(p['p50'])} ms, "
        f"p95 {_fmt(p['p95'])} ms",
        f"  final text after the end-of-speech window: p50 {_fmt(r.get('p50'))} ms, "
        f"p95 {_fmt(r.get('p95'))} ms, max {_fmt(r.get('max'))} ms",
        f"  greeting latency (answer -> first frame): p50 {_fmt(g['p50'])} ms, "
        f"p95 {_fmt(g['p95'])} ms (n={g['n']})",
        f"  outbound pacing drift, as the fake received it: p95 {_fmt(d['p95'])} ms, "
        f"max {_fmt(d['max'])} ms, at spurt end "
        f"max {_fmt(d['spurt_end_max'])} ms ({d['spurts']} spurts, longest "
        f"{_fmt(d['longest_spurt_s'])} s)",
        f"  barge-in stop (caller onset -> our last frame): p50 {_fmt(b['p50'])} ms, "
        f"p95 {_fmt(b.get('p95'))} ms, max {_fmt(b['max'])} ms (n={b['n']}, missed {b['missed']})",
        f"  application ({report.get('application', '-')}): "
        f"CPU {_fmt(report['cpu_percent_of_one_core'])} % of one core, peak RSS "
        f"{_fmt(report['peak_rss_mib'])} MiB, load average {report['load_average_1min_at_end']}",
        f"  calls completed {report['calls_completed']}, failed {report['calls_failed']}",
    ]
    generator = report.get("load_generator_cpu_percent_of_one_core")
    if generator is not None:
        lines.insert(-1, f"  load generator (fake Asterisk and callers): CPU {generator:g} %")
    long = report.get("long_spurt_drift_ms")
    if long:
        lines.insert(
            5,
            f"  pacer drift over one {long['seconds']:g} s spurt under this load: at its end "
            f"{long['end']:g} ms, max {long['max_abs']:g} ms",
        )
    for stats in report.get("recognition", []):
        lines.insert(
            -1,
            f"  recognition: decodes queued {stats['queued']}, skipped {stats['skipped']}, "
            f"speculation wasted {stats['wasted']}, batches by size {stats['batches']}, "
            f"workers busy {stats['busy_s']:g} s",
        )
    threads = report.get("app_thread_cpu_s")
    if threads:
        cpu = ", ".join(f"{name} {seconds:g}" for name, seconds in threads.items())
        lines.insert(-1, f"  application CPU seconds by thread: {cpu}")
    lines.extend(f"    failure: {text}" for text in report["failures"])
    print("\n".join(lines))


async def run_soak(args: argparse.Namespace) -> int:
    """``--soak N``: resource growth over N calls in a row plus ``--calls`` at once."""
    with tempfile.TemporaryDirectory(prefix="ari-soak-") as tmp:
        work = Path(tmp)
        config, _ = prepare_config(args, work)
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
    if args.calls < 1 or args.duration <= 0 or args.ramp < 0:
        print(
            "ari-app bench: --calls must be >= 1, --duration > 0 and --ramp >= 0",
            file=sys.stderr,
        )
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
