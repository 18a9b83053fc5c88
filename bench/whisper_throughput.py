"""Whisper's cost by part and its throughput by worker layout (issue 13's 20-call limit).

Run from the repository root::

    .venv/bin/python -m bench.whisper_throughput [steps|windows|layouts|all]

- ``steps``: the encoder (10 s window) on one and two threads, and the decoder's cost per
  token at batches of 1, 2, 4 and 8 utterances (one recorded prompt, best of a few runs).
- ``windows``: WER with shorter encoder windows than the shipped 10 s (the recorded
  prompts clean and with pink noise, the caller questions and every shipped text through
  Piper and mu-law), and the CPU per utterance: why the window stays at 10 s.
- ``layouts``: recorded prompts submitted at random (Poisson) moments, 2.5 a second, to
  engines with different ``workers`` x ``threads``; latency from submission to text, CPU
  per utterance and cores used. Independent of the call path: the recogniser alone.

Prints Markdown. Times depend on the machine and its load; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ari_app.asr.audio import read_wav_at
from ari_app.asr.evaldata import REPO, caller_questions, stock_prompts
from ari_app.asr.noise import noisy, telephone
from ari_app.asr.offline import recognise_pcm
from ari_app.asr.wer import corpus_wer
from ari_app.asr.whisper_engine import WINDOW_FRAMES, WhisperEngine
from ari_app.media.codecs import resample
from bench.speech_default import SEED as SNR_SEED
from bench.speech_default import shipped_texts, synthesise

SEED = 20261202
_Samples = npt.NDArray[np.float32]


def prompts_16k() -> list[_Samples]:
    """The recorded stock prompts as 16 kHz float samples."""
    out = []
    for prompt in stock_prompts():
        pcm = resample(read_wav_at(prompt.path, 8000), 8000, 16000)
        out.append((np.frombuffer(pcm, "<i2") / 32768).astype(np.float32))
    return out


def _best_ms(fn: Callable[[], object], runs: int = 4) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def _decoder_rows(model: Any, ct2: Any, window: _Samples, prompt: list[int]) -> None:
    """Print the decoder's first step and its cost per further token at several batches."""
    for batch in (1, 2, 4, 8):
        encoded = model.encode(ct2.StorageView.from_array(np.repeat(window, batch, 0).copy()))

        def generate(tokens: int, batch: int = batch, encoded: Any = encoded) -> Any:
            return model.generate(
                encoded, [prompt] * batch, beam_size=1, max_length=len(prompt) + tokens
            )

        made = len(generate(30)[0].sequences_ids[0])
        first = _best_ms(lambda: generate(1))
        whole = _best_ms(lambda: generate(30))
        if batch == 1:
            print(f"| decoder, first step | {first:.0f} ms |")
        per_token = (whole - first) / max(1, made - 1)
        print(f"| decoder, each further token, batch of {batch} | {per_token:.1f} ms |")


def steps_table(clips: list[_Samples]) -> None:
    """Encoder time by threads; decoder time per token by batch size."""
    print("| part | cost |")
    print("| --- | --- |")
    for threads in (1, 2):
        engine = WhisperEngine(threads=threads)
        # Measuring the engine's parts: its model and feature window, as it uses them.
        model, ct2 = engine._model, engine._ct2
        window = engine._window(clips[3])[None].copy()
        features = ct2.StorageView.from_array(window)
        encode_ms = _best_ms(lambda: model.encode(features))  # noqa: B023
        print(f"| encoder, 10 s window, {threads} thread(s) | {encode_ms:.0f} ms |")
        if threads == 1:
            _decoder_rows(model, ct2, window, list(engine._tokenizer.sot_sequence))
        engine.close()
    print()


def _poisson_run(
    engine: WhisperEngine, clips: list[_Samples], rate: float, count: int
) -> tuple[list[float], float, float]:
    rng = random.Random(SEED)
    latencies: list[float] = []
    futures: list[concurrent.futures.Future[Any]] = []
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = usage.ru_utime + usage.ru_stime, time.perf_counter()
    for _ in range(count):
        submitted = time.perf_counter()
        future = engine.submit(clips[rng.randrange(len(clips))])

        def done(_: object, submitted: float = submitted) -> None:
            latencies.append(time.perf_counter() - submitted)

        future.add_done_callback(done)
        futures.append(future)
        time.sleep(rng.expovariate(rate))
    for future in futures:
        future.result()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    return sorted(latencies), cpu / count, cpu / (time.perf_counter() - wall0)


def layouts_table(clips: list[_Samples], rate: float = 2.5, count: int = 100) -> None:
    """Latency and CPU of Poisson arrivals for each workers x threads layout."""
    print(
        f"| layout ({rate:g} utterances a second, {count}) | latency p50 / p95 / max | "
        "CPU per utterance | cores used |"
    )
    print("| --- | --- | --- | --- |")
    for workers, threads in ((1, 2), (2, 1), (2, 2), (1, 1)):
        engine = WhisperEngine(workers=workers, threads=threads)
        engine.decode(clips[0])  # warm
        lat, cpu, cores = _poisson_run(engine, clips, rate, count)
        engine.close()
        p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(
            f"| {workers} worker(s) x {threads} thread(s) | {1000 * p50:.0f} / "
            f"{1000 * p95:.0f} / {1000 * lat[-1]:.0f} ms | {1000 * cpu:.0f} ms | {cores:.2f} |"
        )
    print()


class _WindowedWhisper(WhisperEngine):
    """The engine with its features padded (with zeros, as it does) to ``frames`` frames."""

    frames = WINDOW_FRAMES

    def _window(self, samples: _Samples) -> _Samples:
        features = self._features(samples)[:, : self.frames]
        if features.shape[1] < self.frames:
            features = np.pad(features, ((0, 0), (0, self.frames - features.shape[1])))
        window: _Samples = features.astype(np.float32, copy=False)
        return window


def windows_table(config_dir: Path, cache: Path) -> None:
    """WER and CPU per utterance by encoder window length."""
    rng = np.random.default_rng(SNR_SEED)
    clean = [(p.text, read_wav_at(p.path, 8000)) for p in stock_prompts()]
    noisy_clips = [(text, noisy(pcm, 8000, rng, snr_db=10.0)) for text, pcm in clean]
    questions = caller_questions()
    asked = [telephone(a) for a in asyncio.run(synthesise(questions, cache))]
    texts = shipped_texts(config_dir)
    spoken = [telephone(a) for a in asyncio.run(synthesise(texts, cache))]
    sets: list[list[tuple[str, bytes]]] = [clean, noisy_clips]
    sets += [list(zip(questions, asked, strict=True)), list(zip(texts, spoken, strict=True))]
    print("| encoder window | clean | noisy | questions | shipped texts | CPU per utterance |")
    print("| --- | --- | --- | --- | --- | --- |")
    engine = _WindowedWhisper(threads=1)
    for frames in (WINDOW_FRAMES, 700, 600, 500):
        engine.frames = frames
        start, scores, count = time.process_time(), [], 0
        for pairs in sets:
            heard = [(text, recognise_pcm(engine, pcm, 8000).text) for text, pcm in pairs]
            scores.append(f"{corpus_wer(heard).wer:.1%}")
            count += len(pairs)
        cpu_ms = 1000 * (time.process_time() - start) / count
        print(f"| {frames / 100:g} s | {' | '.join(scores)} | {cpu_ms:.0f} ms |")
    engine.close()
    print()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen parts and print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "part", nargs="?", default="all", choices=("steps", "windows", "layouts", "all")
    )
    parser.add_argument("--config", type=Path, default=REPO / "config")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ari-app-bench-tts"))
    args = parser.parse_args(argv)
    clips = prompts_16k()
    if args.part in ("steps", "all"):
        steps_table(clips)
    if args.part in ("windows", "all"):
        windows_table(args.config, args.cache)
    if args.part in ("layouts", "all"):
        layouts_table(clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
