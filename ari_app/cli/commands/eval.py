"""``ari-app eval [-c config] [--line main] [--set FILE]``: score the answer engine.

Runs a labelled set of caller questions (by default the Harbour Light Dental set shipped in
the package, which matches the sample ``config/``) and prints top-1 accuracy, the
confident-wrong rate, the false-handoff rate and person-request recall. Exits 1 when a
target is missed, so it can gate a change to the knowledge base.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ari_app.answer.engine import AnswerEngine
from ari_app.answer.evaluation import default_set_path, format_report, load_eval_set, run_eval
from ari_app.config import ConfigError, load_config
from ari_app.errors import AriAppError


def register(sub: Any) -> None:
    """Add the ``eval`` command."""
    parser = sub.add_parser("eval", help="score the answer engine on a labelled question set")
    parser.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="config directory"
    )
    parser.add_argument("--line", default="main", help="line name from lines.yaml (default main)")
    parser.add_argument(
        "--set",
        dest="eval_set",
        type=Path,
        default=None,
        help="evaluation set YAML (default: the Harbour Light Dental set in the package)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    parser.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"ari-app eval: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Print the evaluation report; exit 0 when every target is met, 1 otherwise."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _fail(f"{len(err.problems)} config problem(s), first: {err.problems[0]}")
    if args.line not in config.lines:
        return _fail(f"unknown line {args.line!r}; known lines: {', '.join(sorted(config.lines))}")
    try:
        eval_set = load_eval_set(args.eval_set or default_set_path())
        engine = AnswerEngine.for_line(config, args.line)
    except AriAppError as err:
        return _fail(str(err))
    report = run_eval(engine, eval_set)
    print(format_report(report, eval_set, show_misses=not args.quiet))
    return 0 if report.meets_targets() else 1
