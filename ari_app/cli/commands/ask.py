"""``ari-app ask "QUESTION" [--line main] [-c config] [--at ISO]``: ask the answer engine once.

Prints ``ANSWER <entry>`` with the spoken answer, or ``HANDOFF <reason>``, or the intent
heard, each with the confidence. A single question is a whole conversation here, so a
question the engine is unsure of is reported as the handoff it would lead to (on a call
the agent first asks the caller to rephrase).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ari_app.answer.engine import AnswerEngine, Verdict
from ari_app.answer.kb import KnowledgeBaseError
from ari_app.answer.policy import Action, DialogState, Heard, PolicySettings, decide
from ari_app.config import ConfigError, load_config
from ari_app.errors import AriAppError


def register(sub: Any) -> None:
    """Add the ``ask`` command."""
    parser = sub.add_parser("ask", help="ask the answer engine a question, as a caller would")
    parser.add_argument("question", help='the caller\'s words, e.g. "are you open now"')
    parser.add_argument("--line", default="main", help="line name from lines.yaml (default main)")
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.add_argument(
        "--at",
        help="ISO 8601 moment of the call; without an offset it is read in the line's time "
        "zone (default: now)",
    )
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"ari-app ask: {message}", file=sys.stderr)
    return 2


def moment_for(at: str | None, timezone: str) -> datetime:
    """``at`` read as ISO 8601 (in the line's zone when it has no offset), or now."""
    tz = ZoneInfo(timezone)
    if at is None:
        return datetime.now(tz)
    moment = datetime.fromisoformat(at)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def run(args: argparse.Namespace) -> int:
    """Print the engine's decision for one question."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _fail(f"{len(err.problems)} config problem(s), first: {err.problems[0]}")
    line = config.lines.get(args.line)
    if line is None:
        return _fail(f"unknown line {args.line!r}; known lines: {', '.join(sorted(config.lines))}")
    try:
        now = moment_for(args.at, line.timezone)
    except ValueError:
        return _fail(f"cannot read time {args.at!r}; use ISO 8601 like 2026-12-01T10:30")
    try:
        engine = AnswerEngine.for_line(config, args.line)
    except KnowledgeBaseError as err:
        return _fail(str(err))
    except AriAppError as err:
        return _fail(str(err))
    analysis = engine.analyse(args.question, now)
    if analysis.verdict is Verdict.EMPTY:
        return _fail("the question has no words")
    settings = PolicySettings(max_failed_turns=1)
    _, decision = decide(DialogState(), Heard(analysis), settings)
    confidence = f"confidence {analysis.confidence:.2f}"
    if analysis.retrieval is not None:
        confidence += f", margin {analysis.margin:.2f}"
    if decision.action is Action.HANDOFF:
        extra = f", closest: {analysis.entry_id}" if analysis.retrieval is not None else ""
        print(f"HANDOFF {decision.reason} ({confidence}{extra})")
        if decision.topic:
            print(f"topic: {decision.topic}")
        print(decision.say)
        return 0
    if decision.action is Action.ANSWER:
        print(f"ANSWER {analysis.entry_id} ({confidence})")
        print(decision.say)
        return 0
    print(f"{str(analysis.intent.kind).upper()} ({confidence})")
    print(decision.say)
    return 0
