"""``ari-app health [--file var/health.json]``: is ``ari-app run`` alive and connected?

Reads the heartbeat ``run`` writes (:mod:`ari_app.health`); exit status 0 when healthy,
1 otherwise, with one line saying why. The compose lab's health check runs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ari_app.health import DEFAULT_PATH, read_health


def register(sub: Any) -> None:
    """Add the ``health`` command."""
    parser = sub.add_parser("health", help="is ari-app run alive and connected to ARI?")
    parser.add_argument(
        "--file", type=Path, default=DEFAULT_PATH, help="heartbeat file of ari-app run"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the verdict; exit 0 when healthy."""
    healthy, reason = read_health(args.file)
    print(f"health: {reason}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1
