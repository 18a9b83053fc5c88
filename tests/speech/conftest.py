"""Shared speech fixtures: audio synthesised once per session, models loaded once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ari_app.asr.domain import DomainModel, build_domain_model
from ari_app.asr.evaldata import caller_questions, domain_corpus
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer
from ari_app.tts.piper import PiperSynthesizer

HANDOFF_PHRASES = ["refund", "complaint", "cancel my appointment"]


@pytest.fixture(scope="session")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One TTS disk cache for the whole session."""
    return tmp_path_factory.mktemp("tts-cache")


@pytest.fixture(scope="session")
def questions() -> list[str]:
    """The sample-business caller questions."""
    return caller_questions()


@pytest.fixture(scope="session")
def question_audio_8k(questions: list[str], tts_cache: Path) -> dict[str, bytes]:
    """Each question spoken by espeak-ng at 8 kHz (synthesised once per session)."""
    synth = EspeakSynthesizer(VoiceSettings(sample_rate=8000), tts_cache)

    async def make() -> list[bytes]:
        return list(await asyncio.gather(*(synth.synthesize(q) for q in questions)))

    return dict(zip(questions, asyncio.run(make()), strict=True))


@pytest.fixture(scope="session")
def domain_model(tmp_path_factory: pytest.TempPathFactory, questions: list[str]) -> DomainModel:
    """Domain model from the stand-in knowledge text, its FAQ questions and handoff phrases."""
    texts = [domain_corpus(), *questions, *HANDOFF_PHRASES]
    return build_domain_model(texts, tmp_path_factory.mktemp("asr-cache"))


@pytest.fixture(scope="session")
def domain_engine(domain_model: DomainModel) -> PocketsphinxEngine:
    """Pocketsphinx with the domain model, shared by the session's tests."""
    return PocketsphinxEngine(domain_model)


@pytest.fixture(scope="session")
def general_engine() -> PocketsphinxEngine:
    """Pocketsphinx with the wheel's general English model."""
    return PocketsphinxEngine()


@pytest.fixture(scope="session")
def whisper_engine() -> WhisperEngine:
    """Whisper tiny.en from its package, loaded once for the session."""
    return WhisperEngine()


@pytest.fixture(scope="session")
def piper_questions_16k(questions: list[str], tts_cache: Path) -> dict[str, bytes]:
    """A dozen questions spoken by the Piper voice at 16 kHz (once per session)."""
    chosen = [q for q in questions if "Cigna" in q or "park" in q or "Saturday" in q]
    chosen += [q for q in questions[:10] if q not in chosen]
    synth = PiperSynthesizer(VoiceSettings(voice="piper", sample_rate=16000), tts_cache)

    async def make() -> list[bytes]:
        return [await synth.synthesize(q) for q in chosen]

    return dict(zip(chosen, asyncio.run(make()), strict=True))
