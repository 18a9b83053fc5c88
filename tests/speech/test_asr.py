"""Recognition on real audio: recorded telephone prompts, espeak-ng questions, CLI round trip."""

from __future__ import annotations

import asyncio
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from ari_app.asr.audio import read_wav_at, write_wav
from ari_app.asr.base import AsrError, BandAwareEngine, Recognition, RecognizerStream
from ari_app.asr.domain import (
    DomainModel,
    build_domain_model,
    domain_model_for_config,
    knowledge_texts,
)
from ari_app.asr.engines import get_engine
from ari_app.asr.evaldata import stock_prompts
from ari_app.asr.offline import recognise_pcm
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.asr.text import normalise
from ari_app.asr.wer import corpus_wer
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.cli import main
from ari_app.media.codecs import resample
from ari_app.media.frames import AudioFrame
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer

STOP_WORDS = {
    "a",
    "an",
    "the",
    "i",
    "you",
    "we",
    "my",
    "your",
    "do",
    "does",
    "is",
    "are",
    "to",
    "of",
    "on",
    "in",
    "at",
    "for",
    "and",
    "or",
    "it",
    "can",
    "what",
    "how",
    "who",
    "which",
    "where",
    "when",
    "there",
    "should",
    "have",
    "has",
    "be",
    "me",
    "with",
    "if",
    "out",
    "about",
    "would",
    "like",
    "some",
    "want",
    "need",
    "this",
    "that",
}


def content_words(text: str) -> set[str]:
    return set(normalise(text).split()) - STOP_WORDS


def test_recorded_prompts_at_8k_with_the_general_model(general_engine: PocketsphinxEngine) -> None:
    prompts = stock_prompts()
    assert len(prompts) == 34
    prompts = prompts[::5]  # the general model is slow; the benchmark scores all 34
    results = [recognise_pcm(general_engine, read_wav_at(p.path, 8000), 8000) for p in prompts]
    score = corpus_wer((p.text, r.text) for p, r in zip(prompts, results, strict=True))
    # A wideband general model on narrow-band speech: poor but far from random (see BENCHMARKS).
    assert score.wer < 0.6, score
    hits = sum(
        len(content_words(p.text) & content_words(r.text)) >= len(content_words(p.text)) / 2
        for p, r in zip(prompts, results, strict=True)
    )
    assert hits >= 3


def test_recorded_prompts_at_8k_with_a_prompt_domain_model(tmp_path: Path) -> None:
    prompts = stock_prompts()
    domain = build_domain_model([p.text for p in prompts], tmp_path)
    engine = PocketsphinxEngine(domain)
    results = [recognise_pcm(engine, read_wav_at(p.path, 8000), 8000) for p in prompts]
    score = corpus_wer((p.text, r.text) for p, r in zip(prompts, results, strict=True))
    assert score.wer <= 0.2, score
    weasels = next(r for p, r in zip(prompts, results, strict=True) if p.sound == "tt-weasels")
    assert weasels.text.startswith("weasels have eaten our phone")
    assert 0.0 < weasels.confidence <= 1.0
    starts = [w.start_s for w in weasels.words]
    assert starts == sorted(starts)
    assert weasels.words[-1].end_s <= weasels.audio_s + 0.05


def test_domain_model_wer_on_espeak_questions_at_8k(
    domain_engine: PocketsphinxEngine, question_audio_8k: dict[str, bytes]
) -> None:
    pairs = [(q, recognise_pcm(domain_engine, a, 8000).text) for q, a in question_audio_8k.items()]
    score = corpus_wer(pairs)
    # Each question is a new call: it starts from the engine's fixed cepstral mean and fill
    # noise, never from what the previous caller left (about 15 %; it was 11 % when calls
    # inherited each other's adaptation, which made results depend on other calls).
    assert score.wer <= 0.18, (score, [p for p in pairs if normalise(p[0]) != p[1]])


def test_say_then_transcribe_keeps_content_words(
    questions: list[str], tmp_path: Path, tts_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "faq.txt"
    corpus.write_text("\n".join(questions), encoding="utf-8")
    kept = 0
    # A quarter of the questions: the round trip through both commands is what is tested
    # here (12 of these 13 keep every content word); test_whisper.py and the benchmark
    # score recognition on all of them.
    for n, question in enumerate(questions[::4]):
        wav = tmp_path / f"q{n}.wav"
        assert main(["say", question, "-o", str(wav), "--cache-dir", str(tts_cache)]) == 0
        args = ["transcribe", str(wav), "--domain-text", str(corpus), "-c", str(tmp_path)]
        assert main([*args, "--cache-dir", str(tmp_path / "asr")]) == 0
        heard = capsys.readouterr().out.strip()
        kept += content_words(question) <= content_words(heard)
    assert kept >= 8, kept


def test_transcribe_resamples_any_rate_and_channels(
    tmp_path: Path,
    question_audio_8k: dict[str, bytes],
    questions: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mono = resample(question_audio_8k["Where do I park?"], 8000, 22050)
    stereo = np.repeat(np.frombuffer(mono, "<i2"), 2).astype("<i2").tobytes()
    wav = tmp_path / "stereo.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(stereo)
    faq = tmp_path / "faq.txt"
    faq.write_text("\n".join(questions), encoding="utf-8")
    args = ["transcribe", str(wav), "-c", str(tmp_path), "--domain-text", str(faq)]
    assert main([*args, "--cache-dir", str(tmp_path / "asr")]) == 0
    assert "park" in capsys.readouterr().out
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    assert main(["transcribe", str(bad)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_partials_arrive_while_speaking(
    domain_engine: PocketsphinxEngine, question_audio_8k: dict[str, bytes]
) -> None:
    audio = question_audio_8k["Do you take Delta Dental insurance?"]
    stream = domain_engine.open_stream(8000)
    try:
        partials: list[Recognition] = []
        for at in range(0, len(audio), 320):
            r = stream.accept(audio[at : at + 320])
            if r is not None:
                partials.append(r)
        final = stream.finish()
    finally:
        stream.close()
    assert partials
    assert all(not p.is_final for p in partials)
    assert [p.audio_s for p in partials] == sorted(p.audio_s for p in partials)
    assert final.is_final
    assert "insurance" in final.text
    assert final.audio_s == pytest.approx(len(audio) / 16000)


async def test_async_recognizer_runs_off_the_loop(
    domain_engine: PocketsphinxEngine, question_audio_8k: dict[str, bytes]
) -> None:
    threads: set[str] = set()

    class Spy:
        """Records the thread each engine call runs on (wraps the real engine)."""

        def open_stream(self, sample_rate: int) -> RecognizerStream:
            threads.add(threading.current_thread().name)
            return domain_engine.open_stream(sample_rate)

    audio = question_audio_8k["Where do I park?"]
    async with await AsyncRecognizer.open(Spy(), 8000, name="asr-test") as rec:
        assert rec.sample_rate == 8000
        for at in range(0, len(audio), 320):
            await rec.feed(AudioFrame(audio[at : at + 320], 8000))
        final = await rec.finish()
    assert "park" in final.text
    assert threads
    assert all(t.startswith("asr-test") for t in threads)
    assert threading.current_thread().name not in threads


async def test_concurrent_calls_share_the_engine(
    domain_engine: PocketsphinxEngine, question_audio_8k: dict[str, bytes]
) -> None:
    texts = ["Where do I park?", "Do you accept Cigna?", "I need a refund."]

    async def call(text: str) -> str:
        audio = question_audio_8k[text]
        async with await AsyncRecognizer.open(domain_engine, 8000) as rec:
            for at in range(0, len(audio), 320):
                await rec.feed(AudioFrame(audio[at : at + 320], 8000))
            return (await rec.finish()).text

    alone = [await call(t) for t in texts]
    heard = await asyncio.gather(*(call(t) for t in texts))
    assert "park" in heard[0]
    assert "cigna" in heard[1]
    assert "refund" in heard[2]
    assert list(heard) == alone  # what other calls do never changes a call's words


def test_a_call_hears_the_same_whatever_other_calls_said(
    domain_model: DomainModel, question_audio_8k: dict[str, bytes]
) -> None:
    engine = PocketsphinxEngine(domain_model)
    audio = question_audio_8k["Do you accept Cigna?"]
    first = recognise_pcm(engine, audio, 8000).text
    for other in list(question_audio_8k.values())[:6]:  # other callers, other channels
        recognise_pcm(engine, other, 8000)
    assert recognise_pcm(engine, audio, 8000).text == first


def test_domain_model_is_rebuilt_only_when_text_changes(tmp_path: Path) -> None:
    first = build_domain_model(["Do you take CareCredit?"], tmp_path)
    again = build_domain_model(["Do you take CareCredit?"], tmp_path)
    assert again.fingerprint == first.fingerprint
    assert again.lm_path.stat().st_mtime_ns == first.lm_path.stat().st_mtime_ns
    changed = build_domain_model(["Do you take CareCredit?", "Is there a toothache fee?"], tmp_path)
    assert changed.fingerprint != first.fingerprint
    assert {"carecredit", "toothache", "refund"} - {"refund"} <= changed.words
    dict_text = changed.dict_path.read_text()
    assert "carecredit K EH R K R EH D AH T" in dict_text


def test_engine_switches_domain_for_new_streams(
    tmp_path: Path, question_audio_8k: dict[str, bytes], domain_model: DomainModel
) -> None:
    small = build_domain_model(["weasels have eaten our phone system"], tmp_path)
    engine = PocketsphinxEngine(small)
    audio = question_audio_8k["Do you take Delta Dental insurance?"]
    before = recognise_pcm(engine, audio, 8000).text
    engine.set_domain(domain_model)
    after = recognise_pcm(engine, audio, 8000).text
    assert "insurance" not in before
    assert "insurance" in after


def test_config_domain_is_rebuilt_after_the_kb_changes(tmp_path: Path) -> None:
    kb = tmp_path / "config" / "knowledge"
    kb.mkdir(parents=True)
    (kb / "faq.md").write_text("Do you take Aetna? Yes we do.\n")
    first = domain_model_for_config(tmp_path / "config", tmp_path / "cache")
    assert domain_model_for_config(tmp_path / "config", tmp_path / "cache") == first
    (kb / "faq.md").write_text("Do you take Aetna? Yes we do. Do you sell toothbrushes?\n")
    second = domain_model_for_config(tmp_path / "config", tmp_path / "cache")
    assert second.fingerprint != first.fingerprint
    assert "toothbrushes" in second.words
    assert "toothbrushes" not in first.words
    engine = get_engine("pocketsphinx", domain=first)
    assert get_engine("pocketsphinx", domain=second) is engine
    assert isinstance(engine, PocketsphinxEngine)
    assert engine.domain == second


def test_knowledge_texts_reads_kb_files_and_handoff_phrases(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    kb.mkdir()
    (kb / "faq.md").write_text("# Parking\nIs there parking? Yes, behind the building.\n")
    (kb / "extra.yaml").write_text("- question: Do you whiten teeth?\n  answer: Yes.\n")
    (tmp_path / "lines.yaml").write_text(
        "lines:\n  main:\n    greeting: not used\n    handoff:\n"
        "      phrases: [refund, cancel my appointment]\n"
    )
    texts = knowledge_texts(tmp_path)
    joined = "\n".join(texts)
    assert "behind the building" in joined
    assert "whiten teeth" in joined
    assert "refund" in texts
    assert "cancel my appointment" in texts
    assert "not used" not in joined


def test_bad_input_gets_clear_errors(tmp_path: Path, general_engine: PocketsphinxEngine) -> None:
    with pytest.raises(AsrError, match="8000 or 16000"):
        general_engine.open_stream(44100)
    stream = general_engine.open_stream(8000)
    with pytest.raises(AsrError, match="even number"):
        stream.accept(b"\0")
    stream.close()
    with pytest.raises(AsrError, match="closed"):
        stream.accept(b"\0\0")
    wav = tmp_path / "silence.wav"
    write_wav(wav, b"\0\0" * 8000, 8000)
    assert recognise_pcm(general_engine, read_wav_at(wav, 8000), 8000).text == ""


async def test_16k_streams_detect_narrowband_audio(
    domain_engine: PocketsphinxEngine, question_audio_8k: dict[str, bytes], tts_cache: Path
) -> None:
    """slin16 upsampled from a ulaw caller is handled as narrow-band; real wideband is not."""
    texts = list(question_audio_8k)[:12]
    upsampled = [resample(question_audio_8k[t], 8000, 16000) for t in texts]
    wide_synth = EspeakSynthesizer(VoiceSettings(sample_rate=16000), tts_cache)
    wideband = [await wide_synth.synthesize(t) for t in texts]

    detecting = PocketsphinxEngine(domain_engine.domain, detect_band=True)

    def run(clips: list[bytes]) -> tuple[float, bool]:
        stream = detecting.open_stream(16000)
        pairs = []
        for text, pcm in zip(texts, clips, strict=True):
            for at in range(0, len(pcm), 640):
                stream.accept(pcm[at : at + 640])
            pairs.append((text, stream.finish().text))
        narrow = stream.narrowband
        stream.close()
        return corpus_wer(pairs).wer, narrow

    up_wer, up_narrow = await asyncio.to_thread(run, upsampled)
    wide_wer, wide_narrow = await asyncio.to_thread(run, wideband)
    assert up_narrow
    assert not wide_narrow
    plain = domain_engine.open_stream(16000)  # without detect_band: wideband
    assert not plain.narrowband
    plain.close()
    assert up_wer <= 0.25
    assert wide_wer <= 0.25


def test_only_pocketsphinx_is_told_the_callers_band(
    general_engine: PocketsphinxEngine, whisper_engine: WhisperEngine
) -> None:
    """The call layer asks for a capability, not an engine class: pocketsphinx needs the
    callers' band (it fills the empty band of telephone audio), Whisper does not."""
    engines: list[object] = [general_engine, whisper_engine]  # as the call layer sees them
    assert [isinstance(engine, BandAwareEngine) for engine in engines] == [True, False]
