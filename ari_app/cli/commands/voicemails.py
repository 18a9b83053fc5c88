"""``ari-app voicemails``: saved voicemails with caller, time, length, transcript and file."""

from __future__ import annotations

import argparse
from typing import Any

from ari_app.store import StoreError
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
    """Add the ``voicemails`` command."""
    parser = sub.add_parser("voicemails", help="list voicemails and their transcripts")
    add_since_argument(parser)
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the voicemails."""
    try:
        since = since_epoch(args)
    except ValueError as exc:
        return fail("voicemails", str(exc), 2)
    try:
        reader = open_reader(args)
        rows = reader.list_voicemails(since=since, limit=args.limit)
        reader.close()
    except StoreError as exc:
        return fail("voicemails", str(exc))
    if args.json:
        print_json([v.to_json() for v in rows])
        return 0
    if not rows:
        print("no voicemails")
        return 0
    lines = []
    for v in rows:
        status = v.state if v.state != "failed" else f"failed: {v.error}"
        lines.append(
            [
                when(v.recorded_at),
                v.caller or "",
                v.line or "",
                "" if v.duration_s is None else f"{v.duration_s:.0f} s",
                status,
                v.transcript or "",
                v.path or "",
            ]
        )
    print(table(["TIME (UTC)", "CALLER", "LINE", "LENGTH", "STATE", "TRANSCRIPT", "FILE"], lines))
    return 0
