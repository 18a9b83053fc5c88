"""``ari-app transcribe FILE.wav``: recognise a recording with the local engines, print the text.

Whisper by default; ``--engine pocketsphinx`` or ``vosk`` with a domain model from the
knowledge base. Any rate and channel count is accepted. Audio with no energy above 4 kHz
(telephone speech stored at a higher rate) is recognised as 8 kHz narrow-band audio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

import numpy as np

from ari_app.asr.audio import read_wav
from ari_app.asr.base import AsrError
from ari_app.asr.domain import DomainModel, build_domain_model, knowledge_texts
from ari_app.asr.engines import ENGINE_NAMES, get_engine
from ari_app.asr.offline import default_cache_dir, recognise_pcm
from ari_app.media.codecs import resample

_BAND_EDGE_HZ: Final = 4200.0
_NARROWBAND_SHARE: Final = 1e-4


def register(sub: Any) -> None:
    """Add the ``transcribe`` command."""
    parser = sub.add_parser("transcribe", help="print the words spoken in a WAV file")
    parser.add_argument("file", type=Path, metavar="FILE.wav", help="any rate, any channels")
    parser.add_argument("--engine", choices=ENGINE_NAMES, default="whisper")
    parser.add_argument("--vosk-model", type=Path, default=None, help="vosk model directory")
    parser.add_argument(
        "--whisper-model", type=Path, default=None, help="CTranslate2 Whisper model directory"
    )
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("config"),
        help="config folder whose knowledge/ text makes the domain model of pocketsphinx "
        "and vosk (default: config)",
    )
    parser.add_argument(
        "--domain-text",
        type=Path,
        action="append",
        default=[],
        help="also build the domain model from this text file (repeatable)",
    )
    parser.add_argument("--no-domain", action="store_true", help="general model only")
    parser.add_argument("--cache-dir", type=Path, default=None, help="domain model cache")
    parser.add_argument("--details", action="store_true", help="also print confidence, timing")
    parser.set_defaults(handler=run)


def _domain(args: argparse.Namespace) -> DomainModel | None:
    if args.no_domain or args.engine == "whisper":
        return None
    texts = [p.read_text(encoding="utf-8") for p in args.domain_text]
    if (args.config / "knowledge").is_dir():
        texts.extend(knowledge_texts(args.config))
    if not texts:
        return None
    return build_domain_model(texts, args.cache_dir or default_cache_dir())


def narrowband(pcm: bytes, rate: int) -> bool:
    """True when the audio has (almost) no energy above 4 kHz: telephone speech resampled up."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if rate <= 8000 or len(samples) < 256:
        return rate <= 8000
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    total = float(power.sum()) or 1.0
    return float(power[freqs > _BAND_EDGE_HZ].sum()) / total < _NARROWBAND_SHARE


def run(args: argparse.Namespace) -> int:
    """Read, resample, recognise and print; errors are one line on stderr."""
    try:
        pcm, rate = read_wav(args.file)
        domain = _domain(args)
        engine = get_engine(
            args.engine, vosk_model=args.vosk_model, domain=domain, whisper_model=args.whisper_model
        )
        target = 8000 if narrowband(pcm, rate) else 16000
        result = recognise_pcm(engine, resample(pcm, rate, target), target)
    except (AsrError, OSError, UnicodeDecodeError) as exc:
        print(f"ari-app transcribe: {exc}", file=sys.stderr)
        return 1
    print(result.text)
    if args.details:
        print(
            f"confidence {result.confidence:.2f}, {result.audio_s:.2f} s of audio, "
            f"{len(result.words)} words",
            file=sys.stderr,
        )
        for w in result.words:
            print(f"  {w.start_s:6.2f}-{w.end_s:6.2f} {w.confidence:.2f} {w.word}", file=sys.stderr)
    return 0
