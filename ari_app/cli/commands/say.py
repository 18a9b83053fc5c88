"""``ari-app say TEXT -o out.wav``: speak text with Piper or espeak-ng into a WAV file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ari_app.asr.audio import write_wav
from ari_app.tts.base import TtsError, VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.tts.piper import PIPER, PiperSynthesizer, is_piper_voice


def register(sub: Any) -> None:
    """Add the ``say`` command."""
    parser = sub.add_parser("say", help="speak TEXT with Piper or espeak-ng into a WAV file")
    parser.add_argument("text", metavar="TEXT", help="what to say")
    parser.add_argument("-o", "--output", required=True, type=Path, help="WAV file to write")
    parser.add_argument(
        "--rate", type=int, choices=(8000, 16000), default=8000, help="sample rate in Hz"
    )
    parser.add_argument(
        "--voice",
        default=PIPER,
        help="piper (the packaged Piper voice, default), a Piper .onnx file, or an espeak-ng "
        "voice such as en-us",
    )
    parser.add_argument("--wpm", type=int, default=165, help="words per minute (default 165)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="reuse audio cached here")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Synthesise and write the file; errors are one line on stderr."""
    try:
        settings = VoiceSettings(voice=args.voice, rate_wpm=args.wpm, sample_rate=args.rate)
        engine = PiperSynthesizer if is_piper_voice(args.voice) else EspeakSynthesizer
        pcm = await engine(settings, args.cache_dir).synthesize(args.text)
    except TtsError as exc:
        print(f"ari-app say: {exc}", file=sys.stderr)
        return 1
    if not pcm:
        print("ari-app say: nothing to say (empty text)", file=sys.stderr)
        return 1
    try:
        write_wav(args.output, pcm, args.rate)
    except OSError as exc:
        print(f"ari-app say: cannot write {args.output}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: {len(pcm) / 2 / args.rate:.2f} s at {args.rate} Hz", file=sys.stderr)
    return 0
