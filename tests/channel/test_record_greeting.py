"""An administrator records a greeting by phone: ARI rings their phone, records after the
beep until ``#``, and the WAV lands in the config's sounds folder, ready for lines.yaml."""

from __future__ import annotations

import asyncio
import shutil
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ari_app.ari.client import AriClient
from ari_app.call.record_greeting import GreetingError, record_greeting
from ari_app.cli import main
from ari_app.config import load_config
from ari_app.testing import Behaviour, FakeAsterisk
from ari_app.testing.audio import read_wav, rms, tone

SAMPLE = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    pbx = FakeAsterisk(recordings_dir=tmp_path / "asterisk-recordings")
    await pbx.start()
    yield pbx
    await pbx.stop()


async def test_greeting_recorded_by_phone_lands_in_the_config(
    tmp_path: Path, fake: FakeAsterisk
) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(SAMPLE, config_dir)
    target = config_dir / "sounds" / "closed.wav"
    fake.configure_endpoint("PJSIP/201", Behaviour.ANSWER, 0.2)
    spoken = tone(440, 1500, level=0.4, rate=8000)  # the administrator's "greeting"
    async with AriClient(fake.ari_url, fake.username, fake.password, "ari-app-greetings") as c:
        recording = asyncio.create_task(
            record_greeting(c, "PJSIP/201", target, config_dir, max_seconds=20)
        )

        def recording_started() -> bool:
            return any(ch.recording for ch in fake.channels.values())

        await fake.wait_until(recording_started, 10)
        [phone] = [ch for ch in fake.channels.values() if ch.recording]
        await fake.call(phone.id).send_audio(spoken, 8000)
        await fake.wait_until(lambda: not phone.inbound, 10)  # all of it was said
        await fake.call(phone.id).send_dtmf("#")
        saved = await recording
        requests = [(r["method"], r["template"]) for r in fake.request_log]

    assert saved.path == target
    with wave.open(str(target), "rb") as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1)
    heard = read_wav(target.read_bytes(), 8000)
    samples = np.frombuffer(heard, dtype="<i2").astype(np.float64)
    # the 440 Hz tone is in the file: its strongest frequency, for most of a second or more
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 8000 / len(samples) - 440) < 10
    assert rms(heard) > 1000
    assert len(heard) / 2 / 8000 >= 1.0
    assert phone.destroyed  # the phone is hung up
    # fetched over ARI (no shared disk needed), then Asterisk's copy deleted
    assert requests[-3:-1] == [
        ("GET", "/recordings/stored/{recordingName}/file"),
        ("DELETE", "/recordings/stored/{recordingName}"),
    ]
    assert not list((tmp_path / "asterisk-recordings").rglob("*.wav"))
    # lines.yaml can name it now, and check-config accepts it
    lines = config_dir / "lines.yaml"
    lines.write_text(
        lines.read_text().replace(
            "# greeting_after_hours_audio: sound:custom/closed",
            "greeting_after_hours_audio: sounds/closed.wav",
        )
    )
    line = load_config(config_dir).lines["main"]
    assert line.voicemail.greeting_after_hours_audio == "sounds/closed.wav"


async def test_nobody_answers(tmp_path: Path, fake: FakeAsterisk) -> None:
    fake.configure_endpoint("PJSIP/202", Behaviour.BUSY)
    async with AriClient(fake.ari_url, fake.username, fake.password, "ari-app-greetings") as c:
        with pytest.raises(GreetingError, match="PJSIP/202 did not answer"):
            await record_greeting(c, "PJSIP/202", tmp_path / "x.wav", tmp_path, answer_within=5)
    assert not (tmp_path / "x.wav").exists()


def test_command_refuses_bad_targets_and_a_missing_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["record-greeting", "-c", str(SAMPLE), "--endpoint", "PJSIP/201", "--to"]
    assert main([*args, "../outside.wav"]) == 2
    assert "must be a path inside the config directory" in capsys.readouterr().err
    assert main([*args, "sound:custom/closed"]) == 2
    assert "not an Asterisk sound" in capsys.readouterr().err
    monkeypatch.delenv("ARI_PASSWORD", raising=False)
    assert main([*args, "sounds/closed.wav"]) == 1
    assert "ARI_PASSWORD" in capsys.readouterr().err
    assert not (SAMPLE / "sounds" / "closed.wav").exists()
