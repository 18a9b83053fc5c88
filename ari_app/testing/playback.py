"""Playbacks and recordings of the fake Asterisk, and the 20 ms media tick.

Sound files (``sound:``), stored recordings (``recording:``), tones and digits are played
to a channel or a bridge at real time; recordings of a channel (what it says) or a bridge
(the mix) are written as real WAV files. ``RecordingStarted`` comes after the REST
response and names only ``name``, ``format``, ``state`` and ``target_uri``;
``RecordingFinished`` adds whole-second ``duration``, ``talking_duration`` and
``silence_duration``, as Asterisk 22 sends them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from ari_app.media.codecs import resample
from ari_app.testing import audio
from ari_app.testing.bridges import BridgeOps
from ari_app.testing.mixer import tick
from ari_app.testing.model import (
    FRAME_BYTES,
    FRAME_MS,
    RATE,
    FakeBridge,
    FakeChannel,
    FakeError,
    FakePlayback,
    FakeRecording,
)

log = logging.getLogger(__name__)

SILENCE_RMS = 300.0
"""Below this level a recorded frame counts as silence (maxSilenceSeconds)."""
RECORD_FORMATS = {"wav": 8000, "wav16": 16000}
"""Record formats the fake supports: name -> sample rate in Hertz (file suffix = name)."""


class PlaybackOps(BridgeOps):
    """Playback, recording and the media tick."""

    def tick(self) -> None:
        """Advance every channel, bridge, playback and recording by 20 ms."""
        tick(self)  # type: ignore[arg-type]

    def end_bridge_media(self, bridge: FakeBridge) -> None:
        """Stop the bridge's playbacks and recording (it is being destroyed)."""
        for playback_id in list(bridge.playback_ids):
            if playback_id in self.playbacks:
                self.finish_playback(self.playbacks[playback_id], "done")
        if bridge.recording and bridge.recording in self.recordings:
            self.finish_recording(self.recordings[bridge.recording], "done")

    # --- playbacks ------------------------------------------------------------------

    def load_media(self, uri: str, lang: str) -> bytes | None:
        """PCM for ``sound:``, ``recording:``, ``tone:``, ``digits:`` URIs; None if missing."""
        scheme, _, name = uri.partition(":")
        if scheme == "sound":
            return self._load_sound(name, lang)
        if scheme == "recording":
            for fmt in RECORD_FORMATS:
                path = self.recording_path(name, fmt)
                if path.exists():
                    return audio.read_wav(path.read_bytes())
            return None
        if scheme == "tone":
            tone_name = name.split(";")[0]
            freq = {"beep": 1000, "ring": 440, "busy": 480, "dial": 350}.get(tone_name, 440)
            return audio.tone(freq, 1000 if tone_name != "beep" else 250)
        if scheme == "digits":
            out = bytearray()
            for digit in name:
                low, high = audio.DTMF_FREQS.get(digit.upper(), (0, 0))
                if low:
                    out += audio.mix([audio.tone(low, 100, 0.2), audio.tone(high, 100, 0.2)])
                    out += bytes(FRAME_BYTES * 5)
            return bytes(out)
        if scheme == "silence":
            return bytes(RATE * 2 * max(1, int(name or "1")))
        return None

    def _load_sound(self, name: str, lang: str) -> bytes | None:
        if self.sounds_dir is None or ".." in Path(name).parts:
            return None
        for base in (self.sounds_dir / lang, self.sounds_dir):
            for suffix in (".wav", ".wav16"):
                path = base / f"{name}{suffix}"
                if path.is_file():
                    try:
                        return audio.read_wav(path.read_bytes())
                    except ValueError as exc:
                        log.warning("sound %s unusable: %s", path, exc)
                        return None
        return None

    async def start_playback(
        self,
        target: FakeChannel | FakeBridge,
        media: Sequence[str],
        lang: str,
        playback_id: str | None,
        app: str | None,
    ) -> FakePlayback:
        """Queue a playback on a channel or bridge (PlaybackStarted when it begins)."""
        if playback_id and playback_id in self.playbacks:
            raise FakeError(409, "Playback with the same id already exists")
        pcm = bytearray()
        failed = False
        for uri in media:
            loaded = await asyncio.to_thread(self.load_media, uri, lang)
            if loaded is None:
                failed = True
                break
            pcm += loaded
        kind = "channel" if isinstance(target, FakeChannel) else "bridge"
        playback = FakePlayback(
            id=playback_id or str(uuid.uuid4()),
            media_uri=media[0],
            target_uri=f"{kind}:{target.id}",
            app=app,
            pcm=bytes(pcm),
            language=lang,
            failed=failed,
        )
        self.playbacks[playback.id] = playback
        target.playback_ids.append(playback.id)
        if target.playback_ids[0] == playback.id:
            self.after_response(lambda: self._begin_playback(playback))
        return playback

    def _begin_playback(self, playback: FakePlayback) -> None:
        if playback.id not in self.playbacks:
            return
        playback.state = "playing"
        self.emit(playback.app, "PlaybackStarted", playback=playback.to_json())
        if playback.failed:
            self.finish_playback(playback, "failed")

    def finish_playback(self, playback: FakePlayback, state: str) -> None:
        """End a playback (``done`` or ``failed``) and start the next queued one."""
        if playback.id not in self.playbacks:
            return
        playback.state = state
        del self.playbacks[playback.id]
        self.emit(playback.app, "PlaybackFinished", playback=playback.to_json())
        kind, _, target_id = playback.target_uri.partition(":")
        holder: FakeChannel | FakeBridge | None = (
            self.channels.get(target_id) if kind == "channel" else self.bridges.get(target_id)
        )
        if holder is not None and playback.id in holder.playback_ids:
            holder.playback_ids.remove(playback.id)
            if holder.playback_ids and holder.playback_ids[0] in self.playbacks:
                self._begin_playback(self.playbacks[holder.playback_ids[0]])
        self.notify()

    # --- recordings -------------------------------------------------------------------

    def recording_path(self, name: str, fmt: str) -> Path:
        """Where stored recording ``name`` in ``fmt`` lives."""
        if not name or ".." in Path(name).parts or name.startswith("/"):
            raise FakeError(400, f"invalid recording name {name!r}")
        return self.recordings_dir / f"{name}.{fmt}"

    def stored_recordings(self) -> list[tuple[str, str, Path]]:
        """(name, format, path) of every stored recording."""
        out = []
        if self.recordings_dir.is_dir():
            for path in sorted(self.recordings_dir.rglob("*")):
                fmt = path.suffix.lstrip(".")
                if path.is_file() and fmt in RECORD_FORMATS:
                    name = str(path.relative_to(self.recordings_dir).with_suffix(""))
                    out.append((name, fmt, path))
        return out

    def find_stored(self, name: str) -> tuple[str, Path]:
        """(format, path) of stored recording ``name`` or a 404 FakeError."""
        for fmt in RECORD_FORMATS:
            path = self.recording_path(name, fmt)
            if path.is_file():
                return fmt, path
        raise FakeError(404, "Recording not found")

    def start_recording(
        self,
        target: FakeChannel | FakeBridge,
        name: str,
        fmt: str,
        *,
        max_duration_s: int,
        max_silence_s: int,
        if_exists: str,
        beep: bool,
        terminate_on: str,
        app: str | None,
    ) -> FakeRecording:
        """Start recording what ``target`` says (channel) or its mix (bridge)."""
        if fmt not in RECORD_FORMATS:
            raise FakeError(422, "The format specified is unknown on this system")
        path = self.recording_path(name, fmt)
        if name in self.recordings:
            raise FakeError(409, "Recording with the same name is in progress")
        if path.exists() and if_exists == "fail":
            raise FakeError(409, "A recording with the same name already exists on the system")
        kind = "channel" if isinstance(target, FakeChannel) else "bridge"
        recording = FakeRecording(
            name=name,
            format=fmt,
            target_uri=f"{kind}:{target.id}",
            app=app,
            path=path,
            rate=RECORD_FORMATS[fmt],
            max_duration_s=max_duration_s,
            max_silence_s=max_silence_s,
            terminate_on=terminate_on,
            beep_frames=(250 // FRAME_MS) if beep else 0,
        )
        recording.append = if_exists == "append"
        self.recordings[name] = recording
        target.recording = name
        self.after_response(
            lambda: self.emit(app, "RecordingStarted", recording=recording.to_json())
        )
        return recording

    def record_frame(self, recording: FakeRecording, frame: bytes) -> None:
        """Add 20 ms to a live recording and apply its limits."""
        if recording.state != "recording":
            return
        recording.pcm += frame
        recording.total_frames += 1
        if audio.rms(frame) < SILENCE_RMS:
            recording.silence_frames += 1
            recording.silence_run += 1
        else:
            recording.talking_frames += 1
            recording.silence_run = 0
        if (
            recording.max_silence_s
            and recording.silence_run * FRAME_MS >= recording.max_silence_s * 1000
        ) or (
            recording.max_duration_s
            and recording.total_frames * FRAME_MS >= recording.max_duration_s * 1000
        ):
            self.finish_recording(recording, "done")

    def finish_recording(self, recording: FakeRecording, state: str) -> None:
        """Stop a recording: ``done`` writes the WAV file, ``canceled`` discards it."""
        if self.recordings.get(recording.name) is not recording:
            return
        del self.recordings[recording.name]
        kind, _, target_id = recording.target_uri.partition(":")
        holder: FakeChannel | FakeBridge | None = (
            self.channels.get(target_id) if kind == "channel" else self.bridges.get(target_id)
        )
        if holder is not None and holder.recording == recording.name:
            holder.recording = None
        recording.state = state
        task = self.spawn(self._store_recording(recording), f"store-{recording.name}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _store_recording(self, recording: FakeRecording) -> None:
        """Write the WAV file in a thread, then emit RecordingFinished (file is on disk)."""
        if recording.state == "done":
            pcm = resample(bytes(recording.pcm), RATE, recording.rate)
            await asyncio.to_thread(
                audio.write_wav, recording.path, pcm, recording.rate, append=recording.append
            )
        self.emit(recording.app, "RecordingFinished", recording=recording.to_json())
        self.notify()
