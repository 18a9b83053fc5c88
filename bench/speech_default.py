"""Speech benchmark of the default engines: Whisper WER, the Piper round trip, VAD, latency.

Run from the repository root::

    .venv/bin/python bench/speech_default.py [wer|roundtrip|vad|latency|all] [--config DIR]

- ``wer``: Asterisk's recorded prompts (real 8 kHz telephone speech, texts in
  ../shared/asr-eval/prompts.tsv) recognised by Whisper tiny.en, clean and with pink noise
  at 10 dB SNR then G.711 mu-law (noise seeded, so every run makes the same copies).
- ``roundtrip``: every shipped spoken text (greetings, prompts, fixed messages and the
  knowledge-base answers of the config) synthesised by the Piper voice, sent through 8 kHz
  mu-law and recognised; and the sample caller questions, with and without the
  knowledge-base words as Whisper's prompt.
- ``vad``: false barge-ins (noise alone at the level of 10 dB SNR flagged as the caller
  speaking over us) and missed speech (speech frames at 10 dB SNR not flagged), per VAD.
- ``latency``: one call; final text after the end-of-turn window closes (default 500 ms),
  with the speculative decode started after 200 ms of silence, trailing silence paced in
  real time. Prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ari_app.asr.audio import read_wav_at
from ari_app.asr.evaldata import REPO, caller_questions, domain_corpus, stock_prompts
from ari_app.asr.hints import business_words
from ari_app.asr.noise import noisy, telephone
from ari_app.asr.offline import recognise_pcm
from ari_app.asr.wer import corpus_wer
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.media.codecs import resample
from ari_app.media.endpointer import Endpointer, EndpointerSettings, EndpointEvent
from ari_app.media.vad import FrameSplitter, VadKind, make_vad
from ari_app.tts.base import VoiceSettings
from ari_app.tts.piper import PiperSynthesizer

FRAME_MS = 20
SNR_DB = 10.0
SEED = 20261201


def wer_table(engine: WhisperEngine) -> None:
    """Recorded prompts: clean and noisy WER."""
    prompts = stock_prompts()
    rng = np.random.default_rng(SEED)
    clean, dirty = [], []
    busy = audio = 0.0
    for prompt in prompts:
        pcm = read_wav_at(prompt.path, 8000)
        start = time.perf_counter()
        clean.append((prompt.text, recognise_pcm(engine, pcm, 8000).text))
        busy += time.perf_counter() - start
        audio += len(pcm) / 16000
        dirty.append(
            (prompt.text, recognise_pcm(engine, noisy(pcm, 8000, rng, snr_db=SNR_DB), 8000).text)
        )
    print("| Whisper tiny.en on Asterisk's prompts (8 kHz) | WER | words |")
    print("| --- | --- | --- |")
    print(f"| clean | {corpus_wer(clean).wer:.1%} | {corpus_wer(clean).words} |")
    print(f"| pink noise 10 dB SNR, then mu-law | {corpus_wer(dirty).wer:.1%} | |")
    print(f"\nCPU seconds per second of audio (clean, one stream): {busy / audio:.3f}\n")


def shipped_texts(config_dir: Path) -> list[str]:
    """Every text the shipped configuration speaks (the app's own warm-up list)."""
    from ari_app.app import speech_texts  # noqa: PLC0415
    from ari_app.config import load_config  # noqa: PLC0415

    config = load_config(config_dir)
    texts = {t for bucket in speech_texts(config).values() for t in bucket}
    return sorted(texts)


async def synthesise(texts: Sequence[str], cache: Path) -> list[bytes]:
    synth = PiperSynthesizer(VoiceSettings(voice="piper", sample_rate=16000), cache)
    return [await synth.synthesize(text) for text in texts]


def roundtrip_table(engine: WhisperEngine, config_dir: Path, cache: Path) -> None:
    """Piper -> 8 kHz mu-law -> Whisper: shipped texts, and caller questions +/- prompt."""
    texts = shipped_texts(config_dir)
    audio = asyncio.run(synthesise(texts, cache))
    engine.set_prompt(None)
    pairs = [
        (t, recognise_pcm(engine, telephone(a), 8000).text)
        for t, a in zip(texts, audio, strict=True)
    ]
    score = corpus_wer(pairs)
    print("| Piper (joe-medium) -> 8 kHz mu-law -> Whisper | WER | words | texts |")
    print("| --- | --- | --- | --- |")
    print(
        f"| every shipped spoken text (config/) | {score.wer:.1%} | {score.words} | {len(texts)} |"
    )
    questions = caller_questions()
    spoken = [telephone(a) for a in asyncio.run(synthesise(questions, cache))]
    for label, prompt in (
        ("caller questions, no prompt", None),
        ("caller questions, knowledge-base words as prompt", business_words([domain_corpus()])),
    ):
        engine.set_prompt(prompt)
        result = corpus_wer(
            (q, recognise_pcm(engine, a, 8000).text) for q, a in zip(questions, spoken, strict=True)
        )
        print(f"| {label} | {result.wer:.1%} | {result.words} | {len(questions)} |")
    engine.set_prompt(None)
    worst = sorted(pairs, key=lambda p: -len(set(p[0].lower().split()) ^ set(p[1].split())))
    print("\nLargest differences (shipped texts):")
    for ref, hyp in worst[:5]:
        print(f"- {ref!r} -> {hyp!r}")
    print()


def _events(kind: VadKind, pcm: bytes, *, playing: bool) -> tuple[list[bool], bool]:
    """Per-frame VAD decisions, and whether the endpointer flagged speech (barge-in)."""
    vad = make_vad(kind, 16000)
    ep = Endpointer(EndpointerSettings(barge_in_ms=60, vad=kind))
    ep.playing = playing
    flagged = False
    decisions = []
    for frame in FrameSplitter(vad.frame_bytes).push(pcm):
        speech = vad.is_speech(frame)
        decisions.append(speech)
        events = ep.process(speech, FRAME_MS)
        flagged = flagged or EndpointEvent.BARGE_IN in events
    return decisions, flagged


def reference_frames(pcm: bytes) -> npt.NDArray[np.bool_]:
    """Frames of clean speech within 30 dB of the loudest: where speech really is."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    step = 16000 * FRAME_MS // 1000
    frames = samples[: len(samples) // step * step].reshape(-1, step)
    power = np.mean(frames**2, axis=1)
    return np.asarray(power > power.max() / 1000)


def vad_table() -> None:
    """False barge-ins on noise alone, missed speech frames, per detector."""
    clips = [read_wav_at(p.path, 8000) for p in stock_prompts()]
    lead = b"\0\0" * 8000  # a second of line silence before each clip
    print(
        "| VAD at 10 dB SNR pink noise, mu-law | false barge-in (clips) | "
        "missed speech frames | speech clips never flagged | CPU ms per s |"
    )
    print("| --- | --- | --- | --- | --- |")
    for kind in ("silero", "webrtc"):
        rng = np.random.default_rng(SEED)
        false = missed = total = never = 0
        busy = seconds = 0.0
        for pcm in clips:
            noise_only = resample(
                noisy(lead + pcm, 8000, rng, snr_db=SNR_DB, speech=False), 8000, 16000
            )
            start = time.perf_counter()
            _, flagged = _events(kind, noise_only, playing=True)
            busy += time.perf_counter() - start
            seconds += len(noise_only) / 32000
            false += flagged
            speech = resample(noisy(lead + pcm, 8000, rng, snr_db=SNR_DB), 8000, 16000)
            decisions, heard = _events(kind, speech, playing=True)
            ref = reference_frames(resample(lead + pcm, 8000, 16000))
            n = min(len(ref), len(decisions))
            truth, said = ref[:n], np.asarray(decisions[:n])
            missed += int(np.sum(truth & ~said))
            total += int(np.sum(truth))
            never += not heard
        print(
            f"| {kind} | {false}/{len(clips)} ({false / len(clips):.0%}) | "
            f"{missed / total:.1%} | {never}/{len(clips)} | {1000 * busy / seconds:.1f} |"
        )
    print()


async def _one_turn(engine: WhisperEngine, pcm16k: bytes, settings: EndpointerSettings) -> float:
    """Seconds from the end-of-turn window closing to the final text, for one utterance."""
    vad = make_vad(settings.vad, 16000)
    ep = Endpointer(settings)
    stream = engine.open_stream(16000)
    loop = asyncio.get_running_loop()
    speculated = False
    audio = pcm16k + b"\0\0" * 16000 * 2
    try:
        for frame in FrameSplitter(vad.frame_bytes).push(audio):
            speech = await vad.classify([frame])
            events = ep.process(speech[0], FRAME_MS)
            if ep.state.value != "waiting":
                stream.accept(frame)
            if ep.silence_ms:
                await asyncio.sleep(FRAME_MS / 1000)  # the trailing silence in real time
            if speech[0] and speculated:
                speculated = False
                stream.discard()
            elif not speculated and ep.silence_ms >= settings.speculate_ms > 0:
                speculated = True
                stream.speculate()
            if EndpointEvent.SPEECH_END in events:
                start = time.perf_counter()
                await loop.run_in_executor(None, stream.finish)
                return time.perf_counter() - start
        raise AssertionError("the utterance never ended")
    finally:
        stream.close()


def latency_table(engine: WhisperEngine) -> None:
    """Final text after the end-of-turn window, one call, with and without speculation."""
    clips = [resample(read_wav_at(p.path, 8000), 8000, 16000) for p in stock_prompts()]
    print("| one call, end_silence_ms 500 | final text after the window: median | p95 | max |")
    print("| --- | --- | --- | --- |")
    for label, spec in (("speculative decode at 200 ms", 200), ("no speculation", 0)):
        settings = EndpointerSettings(end_silence_ms=500, speculate_ms=spec)

        async def run(s: EndpointerSettings = settings) -> list[float]:
            return [await _one_turn(engine, clip, s) for clip in clips]

        delays = sorted(1000 * d for d in asyncio.run(run()))
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(
            f"| {label} | {statistics.median(delays):.0f} ms | {p95:.0f} ms | {delays[-1]:.0f} ms |"
        )
    print()


def decode_cpu_table(engine: WhisperEngine) -> None:
    """CPU time of one utterance's decode (encoder + greedy decoder), load-independent."""
    clips = [read_wav_at(p.path, 8000) for p in stock_prompts()]
    samples = [
        (np.frombuffer(resample(c, 8000, 16000), "<i2") / 32768).astype(np.float32) for c in clips
    ]
    cpu, wall = [], []
    for clip in samples:
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        engine.decode(clip)
        cpu.append(1000 * (time.process_time() - start_cpu))
        wall.append(1000 * (time.perf_counter() - start_wall))
    cpu.sort()
    wall.sort()
    p95 = int(0.95 * len(cpu))
    print("| one decode of a 2-6 s utterance (1 thread) | median | p95 |")
    print("| --- | --- | --- |")
    print(f"| CPU time | {statistics.median(cpu):.0f} ms | {cpu[p95]:.0f} ms |")
    print(
        f"| wall time (this run's load) | {statistics.median(wall):.0f} ms | {wall[p95]:.0f} ms |"
    )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen parts and print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "part", nargs="?", default="all", choices=("wer", "roundtrip", "vad", "latency", "all")
    )
    parser.add_argument("--config", type=Path, default=REPO / "config")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ari-app-bench-tts"))
    args = parser.parse_args(argv)
    engine = WhisperEngine()
    if args.part in ("wer", "all"):
        wer_table(engine)
    if args.part in ("roundtrip", "all"):
        roundtrip_table(engine, args.config, args.cache)
    if args.part in ("vad", "all"):
        vad_table()
    if args.part in ("latency", "all"):
        decode_cpu_table(engine)
        latency_table(engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
