"""``ari-app check-config -c DIR``: validate every YAML file; errors name file, line and key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ari_app.config import ConfigError, load_config


def register(sub: Any) -> None:
    """Add the ``check-config`` command."""
    parser = sub.add_parser("check-config", help="validate the configuration directory")
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print every problem (exit 1) or a one-line summary (exit 0)."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) in {args.config}", file=sys.stderr)
        return 1
    print(
        f"{args.config}: OK — {len(config.lines)} line(s) ({', '.join(config.lines)}), "
        f"{len(config.teams)} team(s), {len(config.users)} user(s)"
    )
    return 0
