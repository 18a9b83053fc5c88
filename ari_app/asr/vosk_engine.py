"""The vosk (Kaldi) engine: a model directory from config, loaded once per process.

Each stream is a ``KaldiRecognizer`` on the shared model, created for the stream's sample
rate (Kaldi resamples internally). With a phrase list (e.g. the domain model's sentences),
small vosk models restrict recognition to those words, which acts as the domain model.
The English models are not on PyPI; see the README's speech section for where to get
``vosk-model-small-en-us``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import vosk

from ari_app.asr.base import AsrError, Recognition, WordTiming

log = logging.getLogger(__name__)

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def load_model(model_dir: Path) -> Any:
    """The vosk model in ``model_dir``, loaded once per process and shared (blocking)."""
    key = model_dir.resolve()
    with _models_lock:
        if key in _models:
            return _models[key]
        if not (key / "am").is_dir() and not (key / "final.mdl").is_file():
            raise AsrError(f"{model_dir} is not a vosk model directory (no am/ inside)")
        vosk.SetLogLevel(-1)
        try:
            model = vosk.Model(str(key))
        except Exception as exc:
            raise AsrError(f"vosk could not load the model in {model_dir}: {exc}") from exc
        _models[key] = model
        log.info("loaded vosk model %s", key)
        return model


class VoskEngine:
    """Vosk with one model directory; thread-safe; one instance per model per process."""

    name = "vosk"

    def __init__(self, model_dir: Path, phrases: Sequence[str] | None = None) -> None:
        """Load (or reuse) the model in ``model_dir``; ``phrases`` restrict the vocabulary."""
        self.model_dir = model_dir
        self._model = load_model(model_dir)
        self._grammar: str | None = None
        self.set_phrases(phrases)

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        """Restrict streams opened from now on to these phrases' words (None: no limit)."""
        if phrases:
            self._grammar = json.dumps([*phrases, "[unk]"])
        else:
            self._grammar = None

    def open_stream(self, sample_rate: int) -> VoskStream:
        """Open a stream for PCM at ``sample_rate`` Hertz."""
        if sample_rate not in (8000, 16000):
            raise AsrError(f"vosk streams take 8000 or 16000 Hz audio, not {sample_rate}")
        try:
            if self._grammar is None:
                recognizer = vosk.KaldiRecognizer(self._model, float(sample_rate))
            else:
                recognizer = vosk.KaldiRecognizer(self._model, float(sample_rate), self._grammar)
        except Exception as exc:
            raise AsrError(f"vosk could not open a recognizer: {exc}") from exc
        recognizer.SetWords(True)
        return VoskStream(recognizer, sample_rate)


class VoskStream:
    """One call's vosk recognizer (use from one thread at a time)."""

    def __init__(self, recognizer: Any, sample_rate: int) -> None:
        """Wrap a ``KaldiRecognizer``; use :meth:`VoskEngine.open_stream` instead."""
        self._rec: Any = recognizer
        self._rate = sample_rate
        self._samples = 0
        self._partial = ""
        self._done: list[dict[str, Any]] = []

    @property
    def sample_rate(self) -> int:
        """Sample rate in Hertz of the PCM this stream accepts."""
        return self._rate

    def _live(self) -> Any:
        if self._rec is None:
            raise AsrError("recognition stream is closed")
        return self._rec

    def accept(self, pcm: bytes) -> Recognition | None:
        """Feed PCM; return the partial result when its text changed."""
        rec = self._live()
        if len(pcm) % 2:
            raise AsrError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
        self._samples += len(pcm) // 2
        if rec.AcceptWaveform(pcm):
            # Kaldi's own endpointer closed a segment; keep it for the final result.
            self._done.append(json.loads(rec.Result()))
            text = _join(self._done)
        else:
            partial = json.loads(rec.PartialResult()).get("partial", "")
            text = " ".join(x for x in (_join(self._done), partial) if x)
        text = _clean(text)
        if text == self._partial:
            return None
        self._partial = text
        return Recognition(text, is_final=False, confidence=0.0, audio_s=self._samples / self._rate)

    def finish(self) -> Recognition:
        """End the utterance and return the final text with word timings and confidences."""
        rec = self._live()
        self._done.append(json.loads(rec.FinalResult()))
        parts, self._done = self._done, []
        audio_s = self._samples / self._rate
        self._samples = 0
        self._partial = ""
        words = tuple(
            WordTiming(
                word=str(w["word"]),
                start_s=float(w["start"]),
                end_s=float(w["end"]),
                confidence=float(w.get("conf", 1.0)),
            )
            for part in parts
            for w in part.get("result", [])
            if w.get("word") and w["word"] != "[unk]"
        )
        text = _clean(_join(parts))
        confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
        return Recognition(text, is_final=True, confidence=confidence, audio_s=audio_s, words=words)

    def close(self) -> None:
        """Drop the recognizer."""
        self._rec = None


def _join(parts: Sequence[dict[str, Any]]) -> str:
    return " ".join(str(p.get("text", "")) for p in parts if p.get("text"))


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != "[unk]")
