"""check-config rejects bad calling-channel references with file and line: a missing or
unusable recorded message, an unknown team for the AI-unavailable branch, an unknown
webhook, e-mail without a mail server, a notification secret whose variable is unset."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ari_app.cli import main
from ari_app.config import ConfigError, load_config

SAMPLE = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of config/ (YAML, sounds and the knowledge base, which is validated)."""
    target = tmp_path / "config"
    shutil.copytree(SAMPLE, target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` (once) by ``new``; return the 1-based line ``new`` starts on."""
    text = path.read_text()
    assert text.count(old) == 1, old
    at = text.index(old)
    path.write_text(text.replace(old, new))
    return text[:at].count("\n") + 1


def check(capsys: pytest.CaptureFixture[str], config_dir: Path) -> list[str]:
    """Run ``ari-app check-config``; return its problem lines (exit status must be 1)."""
    assert main(["check-config", "-c", str(config_dir)]) == 1
    return [line for line in capsys.readouterr().err.splitlines() if ".yaml:" in line]


def test_sample_passes_and_names_its_recorded_greeting() -> None:
    config = load_config(SAMPLE)
    main = config.lines["main"]
    assert main.voicemail.greeting_in_hours_audio == "sounds/voicemail-in-hours.wav"
    assert main.ai_agent.unavailable.targets == ["front_desk"]
    assert config.app.ai_agent.max_calls == 20
    assert config.app.notifications.smtp is not None
    assert main.voicemail.notify.email == ["office@harbourlight.example"]


def test_missing_wav_is_an_error_on_its_line(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "sounds" / "voicemail-in-hours.wav").unlink()
    problems = check(capsys, config_dir)
    line = next(
        n
        for n, text in enumerate((config_dir / "lines.yaml").read_text().splitlines(), 1)
        if "greeting_in_hours_audio:" in text
    )
    assert problems == [
        f"{config_dir}/lines.yaml:{line}: lines.main.voicemail.greeting_in_hours_audio: "
        f"recorded message sounds/voicemail-in-hours.wav not found in {config_dir}"
    ]


def test_not_a_wav_and_eight_bit_wav_are_refused(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "sounds" / "voicemail-in-hours.wav").write_bytes(b"RIFF nonsense")
    with wave.open(str(config_dir / "sounds" / "closed.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 800)
    edit(
        config_dir / "lines.yaml",
        "      # greeting_after_hours_audio: sound:custom/closed",
        "      greeting_after_hours_audio: sounds/closed.wav",
    )
    problems = check(capsys, config_dir)
    assert len(problems) == 2
    assert (
        "greeting_in_hours_audio: sounds/voicemail-in-hours.wav is not a readable WAV"
        in (problems[0])
    )
    assert "greeting_after_hours_audio: sounds/closed.wav must be 16-bit PCM" in problems[1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../../etc/passwd.wav", "must be a path inside the config directory"),
        ("/etc/closed.wav", "must be a path inside the config directory"),
        ("sounds/closed.mp3", "is not a .wav file"),
        ("sound:../closed", "is not an Asterisk sound name"),
    ],
)
def test_bad_audio_references(
    config_dir: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    line = edit(
        config_dir / "lines.yaml",
        "      greeting_in_hours_audio: sounds/voicemail-in-hours.wav",
        f'      greeting_in_hours_audio: "{value}"',
    )
    problems = check(capsys, config_dir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{config_dir}/lines.yaml:{line}: ")
    assert message in problems[0]


def test_asterisk_sound_needs_no_file(config_dir: Path) -> None:
    edit(
        config_dir / "lines.yaml",
        "      # greeting_after_hours_audio: sound:custom/closed",
        "      greeting_after_hours_audio: sound:custom/closed",
    )
    line = load_config(config_dir).lines["main"]
    assert line.voicemail.greeting_after_hours_audio == "sound:custom/closed"


def test_unknown_team_for_ai_unavailable(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = edit(
        config_dir / "lines.yaml",
        "        targets: [front_desk]          # broken",
        "        targets: [front_dsk]           # broken",
    )
    assert check(capsys, config_dir) == [
        f"{config_dir}/lines.yaml:{line}: lines.main.ai_agent.unavailable.targets[0]: "
        "unknown team or user 'front_dsk'"
    ]


def test_webhook_secret_env_unset_is_an_error(
    config_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARBOUR_WEBHOOK_SECRET", raising=False)
    app = config_dir / "app.yaml"
    text = app.read_text()
    start = text.index("  # webhooks:")
    uncommented = "\n".join(line.replace("# ", "", 1) for line in text[start:].splitlines())
    app.write_text(text[:start] + uncommented + "\n")
    line = 1 + (text[:start] + uncommented).splitlines().index(
        "      secret_env: HARBOUR_WEBHOOK_SECRET"
    )
    assert check(capsys, config_dir) == [
        f"{config_dir}/app.yaml:{line}: notifications.webhooks.practice_crm.secret_env: the "
        "secret of the webhook practice_crm is not set: environment variable "
        "HARBOUR_WEBHOOK_SECRET is unset or empty"
    ]
    monkeypatch.setenv("HARBOUR_WEBHOOK_SECRET", "x" * 32)
    config = load_config(config_dir)
    assert config.app.notifications.notify.webhooks == ["practice_crm"]
    assert "x" * 32 not in repr(config)  # only the variable's name is in the configuration


def test_smtp_password_env_unset_is_an_error(
    config_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARBOUR_SMTP_PASSWORD", raising=False)
    app = config_dir / "app.yaml"
    edit(app, "    # username:", "    username:")
    line = edit(app, "    # password_env:", "    password_env:")
    problems = check(capsys, config_dir)
    assert problems == [
        f"{config_dir}/app.yaml:{line}: notifications.smtp.password_env: the secret of the "
        "SMTP login is not set: environment variable HARBOUR_SMTP_PASSWORD is unset or empty"
    ]


def test_unknown_webhook_and_email_without_mail_server(config_dir: Path) -> None:
    people = config_dir / "people.yaml"
    line = edit(
        people,
        "      email: [frontdesk@harbourlight.example]",
        "      webhooks: [crm]\n      email: [frontdesk@harbourlight.example]",
    )
    app = config_dir / "app.yaml"
    text = app.read_text()
    app.write_text(text[: text.index("notifications:")])
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    found = {str(p) for p in caught.value.problems}
    assert found == {
        f"{people}:{line}: teams.front_desk.notify.webhooks[0]: unknown webhook 'crm'; "
        "webhooks are defined under notifications.webhooks in app.yaml (none defined)",
        f"{people}:{line + 1}: teams.front_desk.notify.email: e-mail notifications need a "
        "mail server: notifications.smtp in app.yaml",
        f"{config_dir}/lines.yaml:"
        + str(
            next(
                n
                for n, t in enumerate((config_dir / "lines.yaml").read_text().splitlines(), 1)
                if "email: [office@" in t
            )
        )
        + ": lines.main.voicemail.notify.email: e-mail notifications need a mail server: "
        "notifications.smtp in app.yaml",
    }


def test_bad_email_address_and_half_a_login(config_dir: Path) -> None:
    edit(config_dir / "lines.yaml", "office@harbourlight.example", "office at harbour light")
    edit(config_dir / "app.yaml", "    # username:", "    username:")
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    messages = [p.message for p in caught.value.problems]
    assert any("give both 'username' and 'password_env'" in m for m in messages), messages
    assert any("not an e-mail address: 'office at harbour light'" in m for m in messages)
