"""One error family for the whole application, with a code per stage."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where an error came from."""

    CONFIG = "config"
    ARI = "ari"
    MEDIA = "media"
    ASR = "asr"
    TTS = "tts"
    ANSWER = "answer"
    ROUTING = "routing"
    CALL = "call"
    STORE = "store"
    VOICEMAIL = "voicemail"


class AriAppError(Exception):
    """Base of every error ari_app raises on purpose; ``stage`` says which part failed."""

    stage: Stage = Stage.CALL

    def __init__(self, message: str, *, stage: Stage | None = None) -> None:
        super().__init__(message)
        if stage is not None:
            self.stage = stage

    def __str__(self) -> str:
        return f"{self.stage}: {self.args[0]}"
