"""The benchmark's figures and its report: what the load period measured, as one JSON-ready
dict (``ari-app bench --json``)."""

from __future__ import annotations

import argparse
import resource
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ari_app.bench.probes import PacingProbe
from ari_app.bench.stats import percentile, rounded


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
    recognised_ms: list[int] = field(default_factory=list)
    """End of the caller's speech to the final text, per turn."""
    heard_turn_ms: list[int] = field(default_factory=list)
    """End of the caller's last sound to the first sound of our reply, as the caller's
    channel heard them (the fake's 20 ms clock; the application's own figure starts where
    its VAD marked the silence)."""


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Recognition statistics of the measured run: ``after`` minus ``before`` (the warm-up)."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        was = before.get(key)
        if isinstance(value, dict):
            was = was or {}
            out[key] = {k: v - was.get(k, 0) for k, v in value.items() if v - was.get(k, 0)}
        else:
            out[key] = round(value - (was or 0), 3)
    return out


def summarise(  # noqa: PLR0917
    f: Figures,
    probe: PacingProbe,
    end_silence_ms: int,
    args: argparse.Namespace,
    wall_s: float,
    cpu_s: float,
) -> dict[str, Any]:
    """The figures as one JSON-ready dict."""
    processing = [t - end_silence_ms for t in f.turn_ms]
    after_window = [t - end_silence_ms for t in f.recognised_ms]
    load1 = Path("/proc/loadavg").read_text(encoding="utf-8").split()[0]
    return {
        "calls": args.calls,
        "duration_s": args.duration,
        "engine": args.engine or "config",
        "end_silence_ms": end_silence_ms,
        "turns": len(f.turn_ms),
        "turns_not_answered": f.misheard,
        "recognised": dict(Counter(f.heard_texts).most_common(12)),
        "turn_latency_ms": {
            "p50": rounded(percentile(f.turn_ms, 50)),
            "p95": rounded(percentile(f.turn_ms, 95)),
            "max": max(f.turn_ms) if f.turn_ms else None,
        },
        "turn_latency_heard_ms": {
            "p50": rounded(percentile(f.heard_turn_ms, 50)),
            "p95": rounded(percentile(f.heard_turn_ms, 95)),
            "max": max(f.heard_turn_ms) if f.heard_turn_ms else None,
            "n": len(f.heard_turn_ms),
        },
        "processing_after_window_ms": {
            "p50": rounded(percentile(processing, 50)),
            "p95": rounded(percentile(processing, 95)),
        },
        "final_text_after_window_ms": {
            "p50": rounded(percentile(after_window, 50)),
            "p95": rounded(percentile(after_window, 95)),
            "max": max(after_window) if after_window else None,
        },
        "greeting_latency_ms": {
            "p50": rounded(percentile(f.greeting_ms, 50)),
            "p95": rounded(percentile(f.greeting_ms, 95)),
            "n": len(f.greeting_ms),
        },
        "pacing_drift_ms": {
            "p95": rounded(percentile(probe.drifts_ms, 95), 1),
            "max": rounded(max(probe.drifts_ms) if probe.drifts_ms else None, 1),
            "spurt_end_max": rounded(
                max(probe.spurt_end_drifts_ms) if probe.spurt_end_drifts_ms else None, 1
            ),
            "longest_spurt_s": rounded(
                max(probe.spurt_lengths_s) if probe.spurt_lengths_s else None, 1
            ),
            "spurts": len(probe.spurt_lengths_s),
        },
        "barge_in_stop_ms": {
            "p50": rounded(percentile(f.barge_stop_ms, 50)),
            "p95": rounded(percentile(f.barge_stop_ms, 95)),
            "max": max(f.barge_stop_ms) if f.barge_stop_ms else None,
            "n": len(f.barge_stop_ms),
            "missed": f.barge_missed,
            "values": sorted(f.barge_stop_ms),
        },
        "cpu_percent_of_one_core": round(100 * cpu_s / wall_s, 1) if wall_s else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "calls_completed": f.completed,
        "calls_failed": f.failed,
        "failures": f.failures[:10],
        "load_average_1min_at_end": float(load1),
    }
