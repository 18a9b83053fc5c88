"""Recordings to real WAV files (voicemail path) and playback of sound files."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from ari_app.ari.client import AriClient
from ari_app.ari.errors import Conflict, NotFound
from ari_app.ari.events import (
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    RecordingStarted,
    StasisStart,
)
from ari_app.ari.listener import EventListener
from ari_app.testing.audio import tone, wav_bytes
from ari_app.testing.event_log import EventLog
from ari_app.testing.fake_asterisk import FakeAsterisk


def _dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


async def _answered_call(fake: FakeAsterisk, client: AriClient, log: EventLog) -> str:
    call = await fake.place_call()
    await log.wait_for(StasisStart, channel__id=call.channel_id)
    await client.answer(call.channel_id)
    return call.channel_id


async def test_voicemail_recording_ends_on_hash_and_is_fetched_and_deleted(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    cid = await _answered_call(fake, client, log)
    live = await client.record(
        cid, "vm-0001", "wav", beep=True, terminate_on="#", max_duration_seconds=60
    )
    assert live.state in ("queued", "recording")  # Asterisk 22 answers either
    await log.wait_for(RecordingStarted)
    started = [e for e in fake.event_log if e["type"] == "RecordingStarted"][-1]
    assert set(started["recording"]) == {"name", "format", "state", "target_uri"}
    call = fake.call(cid)
    await call.send_audio(tone(440, 1000))
    recording = fake.recordings["vm-0001"]
    await fake.wait_until(lambda: recording.total_frames >= 55, 5)
    await call.send_dtmf("#")
    finished = await log.wait_for(RecordingFinished)
    assert finished.recording.name == "vm-0001"
    assert finished.recording.state == "done"
    assert finished.recording.duration >= 1
    raw = [e for e in fake.event_log if e["type"] == "RecordingFinished"][-1]["recording"]
    assert all(
        isinstance(raw[k], int) for k in ("duration", "talking_duration", "silence_duration")
    )

    data = await client.get_stored_recording_file("vm-0001")
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        pcm = wav.readframes(wav.getnframes())
    assert len(pcm) >= 8000 * 2
    assert abs(_dominant_hz(pcm, 8000) - 440) < 15
    assert (await client.get_stored_recording("vm-0001")).format == "wav"
    # The caller heard the beep before recording started.
    assert abs(_dominant_hz(call.heard()[: 640 * 10], 16000) - 1000) < 30

    with pytest.raises(Conflict):
        await client.record(cid, "vm-0001", "wav")
    media = await client.external_media("ulaw", external_host="127.0.0.1:9")
    await log.wait_for(StasisStart, channel__id=media.id)
    bridge = await client.create_bridge()
    await client.add_channel(bridge.id, [cid, media.id])
    with pytest.raises(Conflict):  # like Asterisk: not while bridged with others
        await client.record(cid, "vm-0002", "wav")
    await client.destroy_bridge(bridge.id)
    await client.hangup(media.id)
    await client.delete_stored_recording("vm-0001")
    with pytest.raises(NotFound):
        await client.get_stored_recording_file("vm-0001")
    assert await client.list_stored_recordings() == []
    await call.hangup()


async def test_recording_stops_after_max_silence_and_on_hangup(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    cid = await _answered_call(fake, client, log)
    await client.record(cid, "quiet", "wav16", max_silence_seconds=1)
    quiet = await log.wait_for(RecordingFinished, recording__name="quiet")
    assert quiet.recording.silence_duration >= 1
    await client.record(cid, "cut", "wav")
    await fake.call(cid).send_audio(tone(300, 400))
    await fake.wait_until(lambda: fake.recordings["cut"].total_frames >= 10, 5)
    await fake.call(cid).hangup()
    cut = await log.wait_for(RecordingFinished, recording__name="cut")
    assert cut.recording.state == "done"
    names = sorted(r.name for r in await client.list_stored_recordings())
    assert names == ["cut", "quiet"]


async def test_play_sound_file_and_stop_and_missing_sound(
    fake: FakeAsterisk, client: AriClient, events: tuple[EventListener, EventLog]
) -> None:
    _, log = events
    assert fake.sounds_dir is not None
    (fake.sounds_dir / "greeting.wav").write_bytes(wav_bytes(tone(350, 500, rate=8000), 8000))
    (fake.sounds_dir / "long.wav").write_bytes(wav_bytes(tone(350, 5000, rate=8000), 8000))
    cid = await _answered_call(fake, client, log)
    call = fake.call(cid)

    playback = await client.play(cid, "sound:greeting")
    await log.wait_for(PlaybackStarted, playback__id=playback.id)
    done = await log.wait_for(PlaybackFinished, playback__id=playback.id)
    assert done.playback.state == "done"
    heard = call.heard()
    frames = np.frombuffer(heard[: len(heard) // 640 * 640], dtype="<i2").reshape(-1, 320)
    loud_frames = int((np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) > 1000).sum())
    assert 24 <= loud_frames <= 26  # half a second of tone in 20 ms frames
    assert abs(_dominant_hz(heard, 16000) - 350) < 15

    long = await client.play(cid, "sound:long")
    await log.wait_for(PlaybackStarted, playback__id=long.id)
    await client.stop_playback(long.id)
    stopped = await log.wait_for(PlaybackFinished, playback__id=long.id)
    assert stopped.playback.state == "done"
    with pytest.raises(NotFound):
        await client.get_playback(long.id)

    missing = await client.play(cid, "sound:no-such-file")
    failed = await log.wait_for(PlaybackFinished, playback__id=missing.id)
    assert failed.playback.state == "failed"
    await call.hangup()
