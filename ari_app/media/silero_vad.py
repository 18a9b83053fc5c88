"""Voice activity detection with Silero VAD v6 (the ONNX model shipped in ``faster-whisper``).

Silero tells speech from steady background noise far better than webrtcvad: at 10 dB SNR
of pink noise webrtcvad (mode 2) flagged almost every clip as a barge-in, Silero about
one in a hundred (see BENCHMARKS.md). The model reads 32 ms windows (512 samples at
16 kHz, plus 64 samples of context) and keeps a recurrent state, so each call has its
own :class:`SileroVad` (its state) over one process-wide ONNX session with a single
intra-op thread. 8 kHz audio is upsampled. Frames of 20 ms are answered with the
probability of the latest window, with hysteresis (speech until the probability drops
below ``threshold - 0.15``).

Running the model is CPU work: callers on the event loop use :meth:`SileroVad.classify`,
which runs it on the shared VAD thread (all calls' frames of a round, one wake-up of the
loop per round).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import soxr

from ari_app.media.batch_worker import BatchWorker, batch_worker
from ari_app.media.frames import AudioFrame, pcm_of
from ari_app.media.onset import rms_db

MODEL_RATE: Final = 16000
WINDOW: Final = 512
"""New samples per model step (32 ms at 16 kHz)."""
CONTEXT: Final = 64
"""Samples of the previous window the model sees again."""
_SILENT: Final = 16.0
"""Windows quieter than this RMS (digital silence) are not run through the model."""
_FLOOR_RISE_DB: Final = 0.05
"""How fast (dB per 32 ms window) the background level follows louder sound."""
_LOUD_DB: Final = 20.0
"""A window this far above the background level is loud."""
_LOUD_ONSET: Final = 0.2
"""Speech probability enough to start speech in a loud window."""

_lock = threading.Lock()
_session: Any = None


def model_file() -> Path:
    """``silero_vad_v6.onnx`` inside the installed ``faster-whisper`` package (not imported)."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("Silero VAD needs the faster-whisper package (pip install faster-whisper)")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "silero_vad_v6.onnx"
    if not path.is_file():
        raise ValueError(f"Silero VAD model not found at {path}")
    return path


def session() -> Any:
    """The process's ONNX session of the model (blocking on first use)."""
    global _session  # noqa: PLW0603
    with _lock:
        if _session is None:
            import onnxruntime  # type: ignore[import-untyped]  # noqa: PLC0415

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            _session = onnxruntime.InferenceSession(
                str(model_file()), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _session


def worker() -> BatchWorker:
    """The process's single VAD thread."""
    return batch_worker("vad-silero")


class SileroVad:
    """One stream's Silero state: classifies 20 ms frames of 16-bit mono PCM as speech."""

    def __init__(self, sample_rate: int, *, frame_ms: int = 20, threshold: float = 0.5) -> None:
        """Frames of ``frame_ms`` at ``sample_rate`` (8000 or 16000); load the model."""
        if sample_rate not in (8000, 16000):
            raise ValueError(f"Silero VAD takes 8000 or 16000 Hz audio, got {sample_rate}")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"Silero VAD threshold must be between 0 and 1, got {threshold}")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self.threshold = threshold
        self.release = max(0.05, threshold - 0.15)
        self._session = session()
        self._resampler: Any = (
            soxr.ResampleStream(sample_rate, MODEL_RATE, 1, dtype="float32", quality="QQ")
            if sample_rate != MODEL_RATE
            else None
        )
        self._pending: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._speaking = False
        self.probability = 0.0
        """Speech probability of the latest window."""
        self._floor_db: float | None = None
        self.loud = False
        """Whether the latest window is far above the background level."""

    def _step(self, window: npt.NDArray[np.float32]) -> float:
        rms = float(np.sqrt(np.mean(window**2))) * 32768
        level = rms_db(rms)
        # The background level: follows quieter windows at once, louder ones slowly.
        if self._floor_db is None or level < self._floor_db:
            self._floor_db = level
        else:
            self._floor_db += _FLOOR_RISE_DB
        self.loud = level >= self._floor_db + _LOUD_DB
        if rms < _SILENT:
            self._context = window[-CONTEXT:]
            return 0.0
        batch = np.concatenate([self._context, window])[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = window[-CONTEXT:]
        return float(np.asarray(out).reshape(-1)[-1])

    def is_speech(self, frame: AudioFrame | bytes) -> bool:
        """True when ``frame`` (``frame_bytes`` long, at ``sample_rate``) is speech; blocking
        (runs the model)."""
        frame = pcm_of(frame, self.sample_rate, "the Silero VAD")
        if len(frame) != self.frame_bytes:
            raise ValueError(
                f"VAD frame must be {self.frame_bytes} bytes ({self.frame_ms} ms at "
                f"{self.sample_rate} Hz), got {len(frame)}"
            )
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        if self._resampler is not None:
            samples = np.asarray(self._resampler.resample_chunk(samples), dtype=np.float32)
        pending = np.concatenate([self._pending, samples])
        while len(pending) >= WINDOW:
            self.probability = self._step(pending[:WINDOW])
            pending = pending[WINDOW:]
        self._pending = pending
        # Silero is slow to be sure of a first loud word on narrow-band audio (0.3 for a
        # few hundred ms): far above the background, a lower probability will do.
        if self._speaking:
            keep = min(self.release, _LOUD_ONSET) if self.loud else self.release
            self._speaking = self.probability >= keep
        else:
            onset = _LOUD_ONSET if self.loud else self.threshold
            self._speaking = self.probability >= onset
        return self._speaking

    def classify_blocking(self, frames: Sequence[AudioFrame | bytes]) -> list[bool]:
        """:meth:`is_speech` of each frame, in order (blocking)."""
        return [self.is_speech(frame) for frame in frames]

    async def classify(self, frames: Sequence[AudioFrame | bytes]) -> list[bool]:
        """:meth:`is_speech` of each frame, run on the VAD thread (for the event loop).

        Every call's frames go to the one VAD thread, which answers all that waited in a
        round with one wake-up of the loop (:class:`~ari_app.media.batch_worker.BatchWorker`).
        Frames at another rate are refused here, before any reaches the model.
        """
        pcm = [pcm_of(frame, self.sample_rate, "the Silero VAD") for frame in frames]
        return await worker().run(functools.partial(self.classify_blocking, pcm))
