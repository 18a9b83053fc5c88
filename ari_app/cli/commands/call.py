"""``ari-app call ID``: one call's record: facts, transcript with timing, events.

Caller ids, transcripts and event data came from outside: each is printed through
:func:`~ari_app.store.cli_support.safe`, so none can drive the terminal.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ari_app.store import StoreError
from ari_app.store.cli_support import (
    add_store_arguments,
    fail,
    open_reader,
    print_json,
    safe,
    when,
)


def register(sub: Any) -> None:
    """Add the ``call`` command."""
    parser = sub.add_parser("call", help="show one call's transcript and events")
    parser.add_argument("call_id", metavar="ID", help="the call id (see ari-app calls)")
    add_store_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the call."""
    try:
        reader = open_reader(args)
        call = reader.get_call(args.call_id)
        voicemails = [v for v in reader.list_voicemails(limit=1000) if v.call_id == args.call_id]
        reader.close()
    except StoreError as exc:
        return fail("call", str(exc))
    if call is None:
        return fail("call", f"no call {args.call_id!r} in the store (see ari-app calls)")
    if args.json:
        data = call.to_json()
        data["voicemails"] = [v.to_json() for v in voicemails]
        print_json(data)
        return 0
    length = "" if call.duration_s is None else f", {call.duration_s:.0f} s"
    print(
        f"call {safe(call.id)} on line {safe(call.line)} from {safe(call.caller or 'unknown')} "
        f"to {safe(call.did or '-')}"
    )
    print(f"started {when(call.started_at)} UTC{length}: {safe(call.outcome or 'live')}")
    if call.handoff_reason:
        print(
            f"handoff: {safe(call.handoff_reason)}"
            + (f", answered by {safe(call.agent)}" if call.agent else "")
        )
    print("\ntranscript:")
    for t in call.turns:
        offset = (t.start_ms / 1000) if t.start_ms is not None else t.at - call.started_at
        extra = []
        if t.confidence is not None:
            extra.append(f"conf {t.confidence:.2f}")
        if t.latency_ms is not None:
            extra.append(f"latency {t.latency_ms} ms")
        suffix = f"  ({', '.join(extra)})" if extra else ""
        print(f"  {offset:7.1f} s  {safe(t.speaker):>9}: {safe(t.text)}{suffix}")
    if not call.turns:
        print("  (none)")
    if call.events:
        print("\nevents:")
        for e in call.events:
            detail = json.dumps(e.data, sort_keys=True) if e.data else ""
            print(f"  {e.at - call.started_at:7.1f} s  {safe(e.kind)} {safe(detail)}".rstrip())
    for v in voicemails:
        print(f"\nvoicemail {v.id} ({safe(v.state)}): {safe(v.path or '-')}")
        print(f"  {safe(v.transcript or '(no transcript)')}")
    return 0
