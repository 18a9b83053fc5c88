"""Speech benchmark: word error rate, real-time factor and final-result delay.

Run from the repository root::

    .venv/bin/python bench/asr_wer.py [--vosk-model DIR] [--quick]

Scores (1) Asterisk's recorded stock prompts (Debian ``asterisk-core-sounds-en-wav``, real
8 kHz telephone speech; texts in ../shared/asr-eval/prompts.tsv) and (2) the sample-business
caller questions spoken by espeak-ng at 8 kHz, per engine and model, at 8 kHz and upsampled
to 16 kHz. Then measures, for pocketsphinx with the domain model on 8 kHz audio, the
real-time factor per stream (one stream, and two concurrent streams on two threads) and
the delay of the final result after the endpointer's end-of-speech window. Prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ari_app.asr.audio import read_wav_at
from ari_app.asr.base import RecognizerStream
from ari_app.asr.domain import DomainModel, build_domain_model, domain_model_for_config
from ari_app.asr.evaldata import REPO, caller_questions, domain_corpus, stock_prompts
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.vosk_engine import VoskEngine
from ari_app.asr.wer import corpus_wer
from ari_app.media.codecs import resample
from ari_app.media.endpointer import Endpointer, EndpointerSettings, EndpointEvent
from ari_app.media.vad import FrameSplitter, VoiceActivityDetector
from ari_app.tts.base import VoiceSettings
from ari_app.tts.espeak import EspeakSynthesizer

HANDOFF = ["refund", "complaint", "cancel my appointment"]
FRAME_MS = 20
Opener = Callable[[], RecognizerStream]
FAQ = "domain: sample-business KB + FAQ questions"


def run_stream(stream: RecognizerStream, pcm: bytes) -> tuple[str, float]:
    """Feed 20 ms frames, finish; return the text and the processing seconds."""
    step = stream.sample_rate * FRAME_MS // 1000 * 2
    start = time.perf_counter()
    for at in range(0, len(pcm), step):
        stream.accept(pcm[at : at + step])
    text = stream.finish().text
    return text, time.perf_counter() - start


def score(opener: Opener, items: Sequence[tuple[str, bytes]]) -> tuple[float, float]:
    """WER over (reference, audio) and the real-time factor of one stream doing them all."""
    stream = opener()
    pairs, busy, audio_s = [], 0.0, 0.0
    try:
        for ref, pcm in items:
            text, spent = run_stream(stream, pcm)
            pairs.append((ref, text))
            busy += spent
            audio_s += len(pcm) / 2 / stream.sample_rate
    finally:
        stream.close()
    return corpus_wer(pairs).wer, busy / audio_s


def questions_audio(questions: list[str], cache: Path) -> list[bytes]:
    """The questions spoken by espeak-ng at 8 kHz."""
    synth = EspeakSynthesizer(VoiceSettings(sample_rate=8000), cache)

    async def make() -> list[bytes]:
        return list(await asyncio.gather(*(synth.synthesize(q) for q in questions)))

    return asyncio.run(make())


def rtf_concurrent(engine: PocketsphinxEngine, clips: list[bytes], streams: int) -> float:
    """Per-stream real-time factor with ``streams`` threads recognising at once."""
    results: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        stream = engine.open_stream(8000)
        busy = audio = 0.0
        for pcm in clips:
            busy += run_stream(stream, pcm)[1]
            audio += len(pcm) / 2 / 8000
        stream.close()
        with lock:
            results.append(busy / audio)

    threads = [threading.Thread(target=worker) for _ in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return max(results)


def final_delays(engine: PocketsphinxEngine, clips: list[bytes]) -> list[float]:
    """Seconds from the end-of-speech decision to the final result, per utterance.

    Each clip is followed by a second of silence and fed frame by frame to the VAD, the
    endpointer and the recogniser together, as in a call; when the endpointer reports
    SPEECH_END (700 ms of silence), ``finish()`` is timed.
    """
    delays = []
    stream = engine.open_stream(8000)
    for pcm in clips:
        vad = VoiceActivityDetector(8000)
        ep = Endpointer(EndpointerSettings(end_silence_ms=700))
        audio = pcm + b"\0\0" * 8000
        for frame in FrameSplitter(vad.frame_bytes).push(audio):
            stream.accept(frame)
            if EndpointEvent.SPEECH_END in ep.process(vad.is_speech(frame), FRAME_MS):
                start = time.perf_counter()
                stream.finish()
                delays.append(time.perf_counter() - start)
                break
        else:
            stream.finish()
    stream.close()
    return delays


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--vosk-model", type=Path, help="English vosk model directory")
    parser.add_argument("--quick", action="store_true", help="a third of the material")
    parser.add_argument("--speed-only", action="store_true", help="skip the WER tables")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="asr-bench-"))
    prompts = stock_prompts()
    questions = caller_questions()
    if args.quick:
        prompts, questions = prompts[::3], questions[::3]
    prompt_8k = [(p.text, read_wav_at(p.path, 8000)) for p in prompts]
    prompt_16k = [(t, resample(a, 8000, 16000)) for t, a in prompt_8k]
    q_audio = questions_audio(questions, work / "tts")
    q_8k = list(zip(questions, q_audio, strict=True))
    q_16k = [(t, resample(a, 8000, 16000)) for t, a in q_8k]

    faq: DomainModel = build_domain_model(
        [domain_corpus(), *caller_questions(), *HANDOFF], work / "lm"
    )
    held_out = build_domain_model([domain_corpus(), *HANDOFF], work / "lm")
    prompt_lm = build_domain_model([p.text for p in stock_prompts()], work / "lm")
    general = PocketsphinxEngine()
    engines = {
        "general English (wheel)": general,
        FAQ: PocketsphinxEngine(faq),
        "domain: sample-business KB, questions held out": PocketsphinxEngine(held_out),
        "domain: prompt texts": PocketsphinxEngine(prompt_lm),
    }
    config_dir = REPO / "config"
    project_kb = (
        domain_model_for_config(config_dir, work / "lm")
        if (config_dir / "knowledge").is_dir()
        else None
    )
    two_pass = PocketsphinxEngine(faq, second_pass=True)
    no_fill = PocketsphinxEngine(highband_noise=0.0)
    no_fill_faq = PocketsphinxEngine(faq, highband_noise=0.0)

    if not args.speed_only:
        print(f"## Word error rate ({len(prompts)} stock prompts, {len(questions)} questions)\n")
        print("| engine | model | audio | stock prompts WER | questions WER |")
        print("| --- | --- | --- | --- | --- |")

        def row(engine: str, model: str, audio: str, opener: Opener, use_16k: bool = False) -> None:
            p = score(opener, prompt_16k if use_16k else prompt_8k)[0]
            q = score(opener, q_16k if use_16k else q_8k)[0]
            print(f"| {engine} | {model} | {audio} | {p:.1%} | {q:.1%} |")
            sys.stdout.flush()

        for model, eng in engines.items():
            row(
                "pocketsphinx",
                model,
                "8 kHz (noise-filled band)",
                functools.partial(eng.open_stream, 8000),
            )
            row(
                "pocketsphinx",
                model,
                "16 kHz upsampled, as wideband",
                functools.partial(eng.open_stream, 16000, narrowband=False),
                use_16k=True,
            )
        for model, texts in (("general English (wheel)", None), (FAQ, faq)):
            detecting = PocketsphinxEngine(texts, detect_band=True)
            row(
                "pocketsphinx",
                model,
                "16 kHz upsampled, band detected (detect_band)",
                functools.partial(detecting.open_stream, 16000),
                use_16k=True,
            )
        if project_kb is not None:
            kb_engine = PocketsphinxEngine(project_kb)
            row(
                "pocketsphinx",
                "domain: the project's config/knowledge + lines.yaml",
                "8 kHz (noise-filled band)",
                functools.partial(kb_engine.open_stream, 8000),
            )
        row(
            "pocketsphinx",
            "domain: KB + FAQ questions, second pass on",
            "8 kHz (noise-filled band)",
            lambda: two_pass.open_stream(8000),
        )
        row(
            "pocketsphinx",
            "general English",
            "8 kHz, no noise fill",
            lambda: no_fill.open_stream(8000),
        )
        row(
            "pocketsphinx",
            "domain: KB + FAQ questions",
            "8 kHz, no noise fill",
            lambda: no_fill_faq.open_stream(8000),
        )
        if args.vosk_model:
            vosk_free = VoskEngine(args.vosk_model)
            vosk_faq = VoskEngine(args.vosk_model, faq.sentences)
            for model, v in (("model's own", vosk_free), ("phrase list of KB + FAQ", vosk_faq)):
                row("vosk", model, "8 kHz", functools.partial(v.open_stream, 8000))
                row(
                    "vosk",
                    model,
                    "16 kHz upsampled",
                    functools.partial(v.open_stream, 16000),
                    use_16k=True,
                )
        else:
            print("| vosk | - | - | not run: pass --vosk-model DIR (English model) | |")

    clips = [a for _, a in q_8k]
    print("\n## Speed: pocketsphinx + domain model (KB + FAQ), 8 kHz, 20 ms frames\n")
    print(
        "| second pass | RTF, one stream | RTF per stream, two concurrent "
        "| final result after end-of-speech window: median / p95 / max |"
    )
    print("| --- | --- | --- | --- |")
    for label, eng in (("off (default)", engines[FAQ]), ("on", two_pass)):
        assert isinstance(eng, PocketsphinxEngine)
        rtf1 = score(functools.partial(eng.open_stream, 8000), q_8k)[1]
        rtf2 = rtf_concurrent(eng, clips, 2)
        delays = sorted(final_delays(eng, clips))
        p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        print(
            f"| {label} | {rtf1:.3f} | {rtf2:.3f} | {statistics.median(delays) * 1000:.0f} / "
            f"{p95 * 1000:.0f} / {delays[-1] * 1000:.0f} ms ({len(delays)} utterances) |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
