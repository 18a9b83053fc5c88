"""``ari-app demo``: three callers to Harbour Light Dental against the embedded fake Asterisk."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    parser = sub.add_parser("demo", help="play three demo calls against the embedded fake PBX")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Say what is not built yet (the call path lands with issue 6)."""
    print(
        "ari-app demo: the call path (CallSession wired to ARI, speech and answers) is not "
        "built yet. Meanwhile try: ari-app check-config -c config; "
        "ari-app route --line main --at 2026-12-01T10:30",
        file=sys.stderr,
    )
    return 0
