"""``ari-app route --line NAME --at ISO8601``: dry-run the routing plan of a line at a moment.

Shows the plan, the branch taken when the AI agent cannot take the call (``--ai-unavailable
REASON`` makes it the plan), the greetings (text or recording) and who hears about a
voicemail.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ari_app.config import ConfigError, load_config
from ari_app.routing.plan import AI_UNAVAILABLE_REASONS, AiAgentStep, describe, plan_call
from ari_app.routing.recipients import voicemail_recipients


def register(sub: Any) -> None:
    """Add the ``route`` command."""
    parser = sub.add_parser("route", help="print the routing plan of a line at a moment")
    parser.add_argument("--line", required=True, help="line name from lines.yaml")
    parser.add_argument(
        "--at",
        help="ISO 8601 moment; without an offset it is read in the line's time zone (default: now)",
    )
    parser.add_argument("--topic", help="pretend the handoff matched this routing topic")
    parser.add_argument(
        "--ai-unavailable",
        choices=AI_UNAVAILABLE_REASONS,
        help="plan as if the AI agent could not take the call, for this reason",
    )
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"ari-app route: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Print the plan, or a one-line error with exit status 2."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _fail(f"{len(err.problems)} config problem(s), first: {err.problems[0]}")
    line = config.lines.get(args.line)
    if line is None:
        return _fail(f"unknown line {args.line!r}; known lines: {', '.join(sorted(config.lines))}")
    tz = ZoneInfo(line.timezone)
    if args.at is None:
        moment = datetime.now(tz)
    else:
        try:
            moment = datetime.fromisoformat(args.at)
        except ValueError:
            return _fail(f"cannot read time {args.at!r}; use ISO 8601 like 2026-12-01T10:30")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
    plan = plan_call(
        config, args.line, moment, topic=args.topic, ai_unavailable=args.ai_unavailable
    )
    branch = None
    if any(isinstance(step, AiAgentStep) for step in plan.steps):
        branch = plan_call(config, args.line, moment, ai_unavailable="capacity")
    notified = voicemail_recipients(config, args.line).describe()
    print(describe(plan, if_unavailable=branch, notified=notified))
    return 0
