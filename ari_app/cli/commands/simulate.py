"""``ari-app simulate``: one call through the real call path without a PBX.

For operators testing their configuration and knowledge base: the caller's words (``--say``,
synthesised) or a recording (``--wav``) go through the embedded fake Asterisk over real
RTP, are recognised and answered exactly as on a live line. Prints the transcript with
per-turn latency and the outcome. Records go to a throw-away store unless ``--store``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import wave
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ari_app.cli.commands.demo import TranscriptPrinter
from ari_app.config import ConfigError, load_config
from ari_app.simulation import Press, Say, SayWav, Simulation, Step
from ari_app.testing import Behaviour


def register(sub: Any) -> None:
    """Add the ``simulate`` command."""
    parser = sub.add_parser("simulate", help="run one call through the real path without a PBX")
    parser.add_argument("--line", required=True, help="line name from lines.yaml")
    parser.add_argument("--at", help="ISO 8601 moment (default now; no offset = line's zone)")
    parser.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXT",
        help="what the caller says, in order (repeatable)",
    )
    parser.add_argument(
        "--wav",
        type=Path,
        action="append",
        default=[],
        help="a 16-bit mono WAV the caller plays instead (repeatable)",
    )
    parser.add_argument("--press", help="keys the caller presses after speaking (e.g. 0 or #)")
    parser.add_argument(
        "--ai-at-capacity",
        action="store_true",
        help="every AI seat is taken: the call takes the line's ai_agent.unavailable branch",
    )
    parser.add_argument(
        "--agents",
        choices=[b.value for b in Behaviour],
        default="answer",
        help="how every agent phone behaves (default answer)",
    )
    parser.add_argument("-c", "--config", type=Path, default=Path("config"))
    parser.add_argument(
        "--store",
        action="store_true",
        help="write the call into the configured store (default: a temp one)",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache"))
    parser.set_defaults(handler=run)


def _wav_step(path: Path) -> SayWav:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: need 16-bit mono WAV")
        return SayWav(wav.readframes(wav.getnframes()), wav.getframerate(), path.name)


async def run(args: argparse.Namespace) -> int:
    """Play the call and print what happened; exit 2 on bad arguments."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(
            f"ari-app simulate: {len(err.problems)} config problem(s), first: {err.problems[0]}",
            file=sys.stderr,
        )
        return 2
    line = config.lines.get(args.line)
    if line is None:
        print(
            f"ari-app simulate: unknown line {args.line!r}; known lines: "
            f"{', '.join(sorted(config.lines))}",
            file=sys.stderr,
        )
        return 2
    tz = ZoneInfo(line.timezone)
    moment = datetime.now(tz)
    if args.at:
        try:
            moment = datetime.fromisoformat(args.at)
        except ValueError:
            print(f"ari-app simulate: cannot read time {args.at!r}", file=sys.stderr)
            return 2
        moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    steps: list[Step] = [Say(text) for text in args.say]
    try:
        steps += [_wav_step(path) for path in args.wav]
    except (OSError, ValueError, wave.Error) as err:
        print(f"ari-app simulate: {err}", file=sys.stderr)
        return 2
    if args.press:
        steps.append(Press(args.press))
    with tempfile.TemporaryDirectory(prefix="ari-app-simulate-") as scratch:
        store = None if args.store else Path(scratch) / "calls.sqlite3"
        voicemail = None if args.store else Path(scratch) / "voicemail"
        sim = Simulation(
            args.config,
            cache_dir=args.cache_dir,
            store_path=store,
            voicemail_dir=voicemail,
            listeners=[TranscriptPrinter(sys.stdout)],
        )
        async with sim:
            sim.moment = moment
            sim.agents(Behaviour(args.agents), *(u.endpoint for u in config.users.values()))
            if args.ai_at_capacity and sim.runtime is not None:
                sim.runtime.supervisor.capacity.exhausted = True
            result = await sim.run_call(args.line, steps, within=300)
    print(f"outcome: {result.outcome}")
    return 0
