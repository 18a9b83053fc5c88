"""Choosing and sharing recognition engines: one engine per configuration per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from ari_app.asr.base import AsrError, RecognizerEngine
from ari_app.asr.domain import DomainModel
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.vosk_engine import VoskEngine
from ari_app.asr.whisper_engine import DECODE_NICE, WhisperEngine

ENGINE_NAMES: Final = ("whisper", "pocketsphinx", "vosk")

_engines: dict[tuple[str, str], RecognizerEngine] = {}
_lock = threading.Lock()


def get_engine(
    name: str,
    *,
    vosk_model: Path | None = None,
    domain: DomainModel | None = None,
    whisper_model: Path | None = None,
    workers: int | None = None,
    threads: int | None = None,
    prompt: str | None = None,
    language: str = "en",
    nice: int = DECODE_NICE,
) -> RecognizerEngine:
    """The shared engine ``name`` (blocking on first use: loads the model).

    Whisper loads ``whisper_model`` (default: the packaged tiny.en) with ``workers``
    decodes at once of ``threads`` CPU threads each, and ``prompt`` (words of the
    business) as preceding text (None keeps the engine's prompt, "" clears it).
    Pocketsphinx uses ``domain`` as its language model (the engine is shared and its domain
    replaced when it changes); vosk needs ``vosk_model`` and restricts itself to the
    domain's sentences when ``domain`` is given.
    """
    if name == "whisper":
        key = (name, str(whisper_model.resolve()) if whisper_model else "")
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = WhisperEngine(
                    whisper_model, workers=workers, threads=threads, language=language, nice=nice
                )
        assert isinstance(engine, WhisperEngine)
        if prompt is not None:
            engine.set_prompt(prompt)
        return engine
    if name == "pocketsphinx":
        with _lock:
            engine = _engines.get((name, ""))
            if engine is None:
                engine = _engines[(name, "")] = PocketsphinxEngine(domain)
        assert isinstance(engine, PocketsphinxEngine)
        engine.set_domain(domain)
        return engine
    if name == "vosk":
        if vosk_model is None:
            raise AsrError("the vosk engine needs a model directory (speech.vosk_model)")
        key = (name, str(vosk_model.resolve()))
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = VoskEngine(vosk_model)
        assert isinstance(engine, VoskEngine)
        engine.set_phrases(domain.sentences if domain is not None else None)
        return engine
    raise AsrError(f"unknown recognition engine {name!r}; known: {', '.join(ENGINE_NAMES)}")


def loaded_engines() -> list[RecognizerEngine]:
    """The engines this process has loaded so far (for benchmarks' statistics)."""
    with _lock:
        return list(_engines.values())
