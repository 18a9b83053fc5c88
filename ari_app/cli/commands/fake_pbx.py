"""``ari-app fake-pbx``: run the fake Asterisk (ARI + events + RTP) for demos and manual tests."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from ari_app.testing.dialplan import parse_extensions
from ari_app.testing.fake_asterisk import DEFAULT_AGENTS, FakeAsterisk


def register(sub: Any) -> None:
    """Add the ``fake-pbx`` command."""
    parser = sub.add_parser(
        "fake-pbx",
        help="serve a fake Asterisk 22 (ARI REST, events WebSocket, RTP) with a /fake control API",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8088, help="port (0 = any free port)")
    parser.add_argument("--user", default="asterisk", help="ARI user name")
    parser.add_argument("--password", default="asterisk", help="ARI password")
    parser.add_argument(
        "--recordings", type=Path, default=None, help="directory for recordings (WAV files)"
    )
    parser.add_argument("--sounds", type=Path, default=None, help="directory of sound:NAME.wav")
    parser.add_argument(
        "--agents",
        default=",".join(DEFAULT_AGENTS),
        help="comma-separated agent endpoints (default: %(default)s)",
    )
    parser.add_argument(
        "--dialplan",
        type=Path,
        default=None,
        help="an extensions.conf whose contexts inbound calls run (default: the shipped "
        "dialplan/extensions_ari_app.conf, built in)",
    )
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    if args.sounds is not None and not args.sounds.is_dir():
        print(f"fake-pbx: --sounds {args.sounds} is not a directory", file=sys.stderr)
        return 2
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    bad = [a for a in agents if "/" not in a]
    if bad:
        print(f"fake-pbx: agent endpoints must look like PJSIP/201: {bad}", file=sys.stderr)
        return 2
    dialplan = None
    if args.dialplan is not None:
        try:
            dialplan = parse_extensions(args.dialplan.read_text())
        except OSError as exc:
            print(f"fake-pbx: --dialplan {args.dialplan}: {exc.strerror}", file=sys.stderr)
            return 2
    fake = FakeAsterisk(
        username=args.user,
        password=args.password,
        recordings_dir=args.recordings,
        sounds_dir=args.sounds,
        agents=agents,
        dialplan=dialplan,
    )
    try:
        await fake.start(args.host, args.port)
    except OSError as exc:
        print(f"fake-pbx: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"fake Asterisk {fake.ari_url} (user {args.user}); control API {fake.url}/fake/")
    print(f"recordings in {fake.recordings_dir}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop()
    return 0
