"""``ari-app report [--since …]``: resolution, deflection, handoffs, agents, voicemail, gaps."""

from __future__ import annotations

import argparse
from typing import Any

from ari_app.store import StoreError
from ari_app.store.cli_support import (
    add_since_argument,
    add_store_arguments,
    fail,
    open_reader,
    pct,
    print_json,
    since_epoch,
    when,
)
from ari_app.store.report import build_report


def register(sub: Any) -> None:
    """Add the ``report`` command."""
    parser = sub.add_parser("report", help="summarise outcomes, handoffs and knowledge gaps")
    add_since_argument(parser)
    parser.add_argument("--top", type=int, default=10, help="how many knowledge gaps (default 10)")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the report."""
    try:
        since = since_epoch(args)
    except ValueError as exc:
        return fail("report", str(exc), 2)
    try:
        reader = open_reader(args)
        report = build_report(reader, since, top_gaps=args.top)
        reader.close()
    except StoreError as exc:
        return fail("report", str(exc))
    if args.json:
        print_json(report.to_json())
        return 0
    scope = f"since {when(since)} UTC" if since is not None else "all time"
    print(f"report ({scope}): {report.ended_calls} ended call(s), {report.live_calls} live")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in report.outcomes.items()))
    print(f"resolution rate: {pct(report.resolution_rate)}")
    print(f"deflection rate: {pct(report.deflection_rate)}")
    print(f"handoffs: {report.handoff_calls}")
    for h in report.handoffs:
        print(f"  {h.reason}: {h.calls} ({pct(h.rate)} of calls)")
    print(f"agent answer rate: {pct(report.agent_answer_rate)}")
    for a in report.agents:
        print(f"  {a.agent}: answered {a.answered} of {a.rung} ({pct(a.answer_rate)})")
    print(
        f"voicemails: {report.voicemails} ({report.voicemail_seconds:.0f} s of audio; "
        f"{report.voicemails_pending} pending, {report.voicemails_failed} failed)"
    )
    latency = report.mean_turn_latency_ms
    print(f"mean reply latency: {'-' if latency is None else f'{latency:.0f} ms'}")
    print("top unanswered questions:")
    for g in report.knowledge_gaps:
        print(f"  {g.count:4d}  {g.question}")
    if not report.knowledge_gaps:
        print("  (none)")
    return 0
