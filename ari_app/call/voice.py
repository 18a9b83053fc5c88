"""The call's ears and mouth: listening with VAD + streaming recognition, speaking with barge-in.

One pump task reads the caller's audio, asks the VAD (Silero by default, in its own thread;
or webrtcvad) about each frame and feeds the pure endpointer with frame durations. When
the endpointer hears an utterance start, the frames from a short pre-roll onwards go to
the current utterance, which ``listen`` recognises in
the recogniser's own thread. While we speak, the same endpointer (``playing``) flags a
barge-in, and ``say`` flushes our queued audio at once.

After a short pause (``speculate_ms``) the recogniser starts decoding what it has; if the
caller goes on, that result is discarded, otherwise it is the final text, ready when the
end-of-turn silence is over.

If the caller's audio stops arriving (no RTP during silence), the pump advances the
endpointer with silence by the loop clock, so a silent caller still reaches "no input".
That assumed silence is never handed to the recogniser: when the audio was only late (our
loop stalled, the network held it), it arrives next and must join the words before it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ari_app.asr.base import Recognition
from ari_app.asr.streaming import AsyncRecognizer
from ari_app.media.endpointer import Endpointer, EndpointerSettings, EndpointEvent
from ari_app.media.frames import AudioFrame
from ari_app.media.onset import MAX_BACK_FRAMES, level_db, onset_index
from ari_app.media.pacer import MediaTransport
from ari_app.media.vad import FrameSplitter, make_vad

_LOGGER = logging.getLogger(__name__)
FRAME_MS = 20
PREROLL_MS = 300
"""Audio kept from before the start of speech (the detected start, moved back to where the
sound leading into it began), so first syllables are not lost."""
FEED_FRAMES = 5
"""Frames handed to the recogniser thread at a time (100 ms)."""
STALL_S = 0.1
"""After this long without audio, silence is assumed for the time that passed."""

SpeechChunks = Callable[[str], AsyncIterator[AudioFrame]]
"""Synthesis: text -> audio frames at the transport's rate."""
RecognizerFactory = Callable[[], Awaitable[AsyncRecognizer]]


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the caller said in one turn."""

    text: str
    confidence: float
    speech_ms: int
    """Length of the caller's speech in milliseconds."""
    end_of_speech_at: float
    """Loop time when the caller stopped speaking (before the end-of-speech silence)."""
    recognised_at: float
    """Loop time when the final result was ready."""


@dataclass(frozen=True, slots=True)
class SayResult:
    """How speaking went."""

    interrupted: bool
    first_audio_at: float | None
    """Loop time when the first frame was handed to the transport."""
    barge_in_at: float | None = None
    """Loop time when the caller's speech over ours was detected."""


_END = object()
_SPECULATE = object()
_DISCARD = object()


class Voice:
    """Listening and speaking on one media transport."""

    def __init__(
        self,
        transport: MediaTransport,
        speech_chunks: SpeechChunks,
        recognizer_factory: RecognizerFactory,
        settings: EndpointerSettings | None = None,
        *,
        vad_aggressiveness: int = 2,
    ) -> None:
        self.transport = transport
        self.speech_chunks = speech_chunks
        self.recognizer_factory = recognizer_factory
        self.endpointer = Endpointer(settings)
        self.vad = make_vad(
            self.endpointer.settings.vad,
            transport.pcm_rate,
            aggressiveness=vad_aggressiveness,
            frame_ms=FRAME_MS,
        )
        self._speculated = False
        self._splitter = FrameSplitter(self.vad.frame_bytes)
        self._recent: collections.deque[tuple[int, AudioFrame]] = collections.deque(
            maxlen=(PREROLL_MS + MAX_BACK_FRAMES * FRAME_MS + 1000) // FRAME_MS
        )
        self._utterance: asyncio.Queue[object] = asyncio.Queue()
        self._forwarding = False
        self._barge_in = asyncio.Event()
        self._barge_in_at: float | None = None
        self._end_of_speech_at = 0.0
        self._pump: asyncio.Task[None] | None = None
        self._recognizer: AsyncRecognizer | None = None
        self.frames_heard = 0

    def start(self) -> None:
        """Start reading the caller's audio."""
        if self._pump is None:
            self._pump = asyncio.create_task(self._run_pump(), name="voice-pump")

    async def close(self) -> None:
        """Stop the pump and release the recogniser thread."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._recognizer is not None:
            await self._recognizer.aclose()
            self._recognizer = None

    # --- the pump ---------------------------------------------------------------------

    async def _run_pump(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        silence = AudioFrame(bytes(self.vad.frame_bytes), self.vad.sample_rate)
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                # lands as a frame arrives, and the pump would then never stop.
                async with asyncio.timeout(STALL_S):
                    received = await self.transport.frames.get()
            except TimeoutError:
                now = loop.time()
                for _ in range(int((now - last) * 1000) // FRAME_MS):
                    self._frame(silence, is_speech=False, now=now, heard=False)
                last = now
                continue
            last = loop.time()
            # Take every frame already waiting, so the VAD (in its thread) never falls
            # behind the caller's audio by more than one hand-over.
            frames = list(self._splitter.push(received))
            while not self.transport.frames.empty():
                frames.extend(self._splitter.push(self.transport.frames.get_nowait()))
            if not frames:
                continue
            decisions = await self.vad.classify(frames)
            for frame, is_speech in zip(frames, decisions, strict=True):
                self.frames_heard += 1
                self._frame(frame, is_speech, last)

    def _frame(self, frame: AudioFrame, is_speech: bool, now: float, *, heard: bool = True) -> None:
        """One 20 ms frame for the endpointer; ``heard=False``: silence assumed by the clock
        while no audio arrives, which moves the turn on but is never recognised (the audio
        may only be late, and would then reach the recogniser after a pause never made)."""
        position = self.endpointer.position_ms
        if heard:
            self._recent.append((position, frame))
        events = self.endpointer.process(is_speech, FRAME_MS)
        if self._forwarding:
            if heard:
                self._utterance.put_nowait(frame)
            self._speculation(is_speech)
        for event in events:
            if event is EndpointEvent.SPEECH_START:
                detected = self.endpointer.speech_start_ms or position
                # Not over our own prompt: there the sound before the caller's words may be
                # its echo on their line.
                onset = detected if self.endpointer.playing else self._onset_ms(detected)
                start = onset - PREROLL_MS
                self._forwarding = True
                for at, old in self._recent:
                    if at >= start:
                        self._utterance.put_nowait(old)
            elif event is EndpointEvent.BARGE_IN:
                self._barge_in_at = now
                self._barge_in.set()
            elif event is EndpointEvent.SPEECH_END:
                self._speculated = False
                trailing = self.endpointer.position_ms - (self.endpointer.speech_end_ms or 0)
                self._end_of_speech_at = now - trailing / 1000
                self._forwarding = False
                self._utterance.put_nowait(_END)
            elif event is EndpointEvent.NO_INPUT:
                self._utterance.put_nowait(None)

    def _onset_ms(self, detected_ms: int) -> int:
        """Where the sound leading into the VAD's detected start began (the VAD can be
        hundreds of ms late on a first quiet word; see :mod:`ari_app.media.onset`)."""
        recent = list(self._recent)
        detected = next((i for i, (at, _) in enumerate(recent) if at >= detected_ms), None)
        if detected is None:
            return detected_ms
        levels = [level_db(frame.pcm) for _, frame in recent]
        return min(detected_ms, recent[onset_index(levels, detected)][0])

    def _speculation(self, is_speech: bool) -> None:
        """Ask for a speculative decode at the pause, and to drop it if speech resumes."""
        wait = self.endpointer.settings.speculate_ms
        if is_speech and self._speculated:
            self._speculated = False
            self._utterance.put_nowait(_DISCARD)
        elif wait and not self._speculated and self.endpointer.silence_ms >= wait:
            self._speculated = True
            self._utterance.put_nowait(_SPECULATE)

    # --- speaking ---------------------------------------------------------------------

    async def say(
        self, text: str, *, barge_in: bool = True, audio: AsyncIterator[AudioFrame] | None = None
    ) -> SayResult:
        """Speak ``text``; with ``barge_in``, stop as soon as the caller talks over it.

        ``audio``: play these frames (a recorded message) instead of synthesising.
        """
        self._new_turn(playing=True)
        self._barge_in.clear()
        loop = asyncio.get_running_loop()
        first: float | None = None
        interrupted = False
        try:
            async for chunk in audio if audio is not None else self.speech_chunks(text):
                if barge_in and self._barge_in.is_set():
                    interrupted = True
                    break
                await self.transport.send(chunk)
                if first is None:
                    first = loop.time()
            if not interrupted:
                sent = asyncio.ensure_future(self.transport.wait_sent())
                barged = asyncio.ensure_future(self._barge_in.wait())
                try:
                    waits = {sent, barged} if barge_in else {sent}
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (sent, barged):
                        task.cancel()
                interrupted = barge_in and self._barge_in.is_set()
        finally:
            self.endpointer.playing = False
        if interrupted:
            self.transport.flush()
            return SayResult(True, first, self._barge_in_at)
        return SayResult(False, first)

    def _new_turn(self, *, playing: bool) -> None:
        self.endpointer.reset()
        self.endpointer.playing = playing
        self._forwarding = False
        self._speculated = False
        # Positions restart with the turn: older frames would be taken for this turn's
        # pre-roll and spliced into the caller's words.
        self._recent.clear()
        while not self._utterance.empty():
            self._utterance.get_nowait()

    # --- listening --------------------------------------------------------------------

    async def listen(self) -> Utterance | None:
        """The caller's next utterance, or None when they said nothing (no-input timeout)."""
        if self.endpointer.state.value == "done":
            self._new_turn(playing=False)
        if self._recognizer is None:
            self._recognizer = await self.recognizer_factory()
        recognizer = self._recognizer
        batch: list[AudioFrame] = []
        frames = 0
        while True:
            item = await self._utterance.get()
            if item is None:
                return None
            if item is _END:
                break
            if item is _SPECULATE or item is _DISCARD:
                if batch:
                    await recognizer.feed(AudioFrame.join(batch))
                    batch.clear()
                await (recognizer.speculate() if item is _SPECULATE else recognizer.discard())
                continue
            assert isinstance(item, AudioFrame)
            batch.append(item)
            frames += 1
            if len(batch) >= FEED_FRAMES:
                await recognizer.feed(AudioFrame.join(batch))
                batch.clear()
        if batch:
            await recognizer.feed(AudioFrame.join(batch))
        result: Recognition = await recognizer.finish()
        loop = asyncio.get_running_loop()
        return Utterance(
            result.text, result.confidence, frames * FRAME_MS, self._end_of_speech_at, loop.time()
        )
