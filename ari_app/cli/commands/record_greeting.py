"""``ari-app record-greeting --endpoint PJSIP/201 --to sounds/closed.wav``: record a
greeting by phone into the config directory.

Asterisk rings the phone; after the beep the administrator speaks the greeting and
presses ``#`` (or hangs up, or stays silent). The WAV is saved under the config
directory; name it in lines.yaml (``greeting_after_hours_audio: sounds/closed.wav``),
run ``check-config`` and reload (``SIGHUP``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from ari_app.ari.client import AriClient
from ari_app.ari.errors import AriError
from ari_app.call.record_greeting import APP_SUFFIX, GreetingError, record_greeting
from ari_app.config import ConfigError, load_config
from ari_app.config.channel import parse_audio


def register(sub: Any) -> None:
    """Add the ``record-greeting`` command."""
    parser = sub.add_parser(
        "record-greeting", help="ring a phone and record a greeting into the config directory"
    )
    parser.add_argument("--endpoint", required=True, help="the phone to ring, e.g. PJSIP/201")
    parser.add_argument(
        "--to", required=True, help="WAV path inside the config directory, e.g. sounds/closed.wav"
    )
    parser.add_argument("--max-seconds", type=int, default=60, help="longest greeting (60)")
    parser.add_argument("-c", "--config", type=Path, default=Path("config"))
    parser.set_defaults(handler=run)


def _fail(message: str, status: int = 1) -> int:
    print(f"ari-app record-greeting: {message}", file=sys.stderr)
    return status


async def run(args: argparse.Namespace) -> int:
    """Record and save; one line of error and exit 1 (2 for bad arguments) on failure."""
    try:
        target = parse_audio(args.to)
    except ValueError as err:
        return _fail(str(err), 2)
    if target.startswith("sound:"):
        return _fail("--to must be a WAV file in the config directory, not an Asterisk sound", 2)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _fail(f"{len(err.problems)} config problem(s), first: {err.problems[0]}")
    ari = config.app.ari
    password = os.environ.get(ari.password_env)
    if not password:
        return _fail(f"set the ARI password in the environment variable {ari.password_env}")
    print(
        f"Ringing {args.endpoint}: after the beep, speak the greeting, then press # (or hang up).",
        file=sys.stderr,
        flush=True,
    )
    root = Path(args.config)
    path = root / PurePosixPath(target)
    try:
        async with AriClient(
            f"{ari.url.rstrip('/')}/ari", ari.username, password, ari.app + APP_SUFFIX
        ) as client:
            saved = await record_greeting(
                client, args.endpoint, path, root, max_seconds=args.max_seconds
            )
    except (GreetingError, AriError, OSError, TimeoutError) as err:
        return _fail(str(err) or type(err).__name__)
    print(f"saved {saved.path} ({saved.duration_s:g} s)")
    print(f"name it in lines.yaml, e.g.  greeting_after_hours_audio: {target}")
    return 0
