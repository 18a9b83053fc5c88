"""Choosing and sharing recognition engines: one engine per configuration per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from ari_app.asr.base import AsrError, RecognizerEngine
from ari_app.asr.domain import DomainModel
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.vosk_engine import VoskEngine

ENGINE_NAMES: Final = ("pocketsphinx", "vosk")

_engines: dict[tuple[str, str], RecognizerEngine] = {}
_lock = threading.Lock()


def get_engine(
    name: str, *, vosk_model: Path | None = None, domain: DomainModel | None = None
) -> RecognizerEngine:
    """The shared engine ``name`` (blocking on first use: loads the model).

    Pocketsphinx uses ``domain`` as its language model (the engine is shared and its
    domain replaced when it changes); vosk needs ``vosk_model`` and restricts itself to the
    domain's sentences when ``domain`` is given.
    """
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
