"""``ari-app calls [--since …] [--outcome …]``: recent calls from the store, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from ari_app.store import Outcome, StoreError
from ari_app.store.cli_support import (
    add_since_argument,
    add_store_arguments,
    fail,
    open_reader,
    print_json,
    since_epoch,
    table,
    when,
)


def register(sub: Any) -> None:
    """Add the ``calls`` command."""
    parser = sub.add_parser("calls", help="list recent calls and their outcomes")
    add_since_argument(parser)
    parser.add_argument(
        "--outcome",
        choices=[o.value for o in Outcome] + ["live"],
        help="only calls with this outcome (live: calls in progress)",
    )
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the calls."""
    try:
        since = since_epoch(args)
    except ValueError as exc:
        return fail("calls", str(exc), 2)
    try:
        reader = open_reader(args)
        live = True if args.outcome == "live" else None
        outcome = None if args.outcome == "live" else args.outcome
        calls = reader.list_calls(since=since, outcome=outcome, limit=args.limit, live=live)
        reader.close()
    except StoreError as exc:
        return fail("calls", str(exc))
    if args.json:
        print_json([c.to_json() for c in calls])
        return 0
    if not calls:
        print("no calls")
        return 0
    rows = [
        [
            when(c.started_at),
            c.line,
            c.caller or "",
            c.outcome or "live",
            c.handoff_reason or "",
            c.agent or "",
            "" if c.duration_s is None else f"{c.duration_s:.0f} s",
            c.id,
        ]
        for c in calls
    ]
    headers = ["STARTED (UTC)", "LINE", "CALLER", "OUTCOME", "HANDOFF", "AGENT", "LENGTH", "ID"]
    print(table(headers, rows))
    return 0
