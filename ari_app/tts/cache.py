"""On-disk cache of synthesised audio, keyed by text and voice settings, written atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ari_app.tts.base import VoiceSettings

log = logging.getLogger(__name__)


class AudioCache:
    """Raw PCM files named by a hash of (engine, text, voice, rate, sample rate); blocking I/O."""

    def __init__(self, directory: Path, engine: str) -> None:
        """Cache under ``directory`` for ``engine`` (part of the key)."""
        self.directory = directory
        self.engine = engine

    def key(self, text: str, settings: VoiceSettings) -> str:
        """The cache key of ``text`` spoken with ``settings``."""
        blob = json.dumps(
            [self.engine, text, settings.voice, settings.rate_wpm, settings.sample_rate]
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pcm"

    def get(self, text: str, settings: VoiceSettings) -> bytes | None:
        """The cached PCM, or None."""
        try:
            return self._path(self.key(text, settings)).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("TTS cache unreadable, synthesising again: %s", exc)
            return None

    def put(self, text: str, settings: VoiceSettings, pcm: bytes) -> None:
        """Store PCM atomically (write a temporary file, then rename); errors are logged."""
        path = self._path(self.key(text, settings))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pcm)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("TTS cache not written (%s): %s", path, exc)
