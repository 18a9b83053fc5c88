"""Cross-file checks of the calling-channel settings, each problem with its file and line.

Recorded messages must be readable 16-bit WAV files inside the config directory; the
people a line rings when its AI agent is unavailable must exist; ``notify`` may only name
webhooks defined in app.yaml, and e-mail needs app.yaml's mail server; every environment
variable that holds a notification secret must be set (only its presence is checked: the
secret itself is never read into the configuration).
"""

from __future__ import annotations

import os
import wave
from collections.abc import Iterator, Mapping
from pathlib import Path

from ari_app.config.channel import SOUND_PREFIX, NotifyTargets
from ari_app.config.marked_yaml import ConfigProblem, KeyPath, MarkedDocument
from ari_app.config.models import AppSettings, LinesFile, People

AUDIO_KEYS: tuple[tuple[str, str], ...] = (
    ("ai_agent", "greeting_audio"),
    ("voicemail", "greeting_in_hours_audio"),
    ("voicemail", "greeting_after_hours_audio"),
)
"""Where recorded messages are named in a line: (section, key)."""


def wav_problem(root: Path, reference: str) -> str | None:
    """Why the recorded message ``reference`` cannot be played, or None when it can."""
    if reference.startswith(SOUND_PREFIX):
        return None  # lives on Asterisk; it reports a missing sound when played
    path = root / reference
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except OSError as err:
        return f"cannot read {reference}: {err}"
    if not inside:
        return f"{reference} leads outside the config directory"
    if not path.is_file():
        return f"recorded message {reference} not found in {root}"
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, frames = wav.getsampwidth(), wav.getnchannels(), wav.getnframes()
            rate = wav.getframerate()
    except (OSError, EOFError, wave.Error) as err:
        return f"{reference} is not a readable WAV file: {err}"
    if width != 2 or channels not in (1, 2) or not 8000 <= rate <= 48000:
        return (
            f"{reference} must be 16-bit PCM, mono or stereo, 8-48 kHz "
            f"(it is {8 * width}-bit, {channels} channel(s), {rate} Hz)"
        )
    if frames == 0:
        return f"{reference} holds no audio"
    return None


def _app_problem(
    app_doc: MarkedDocument | None, root: Path, path: KeyPath, message: str
) -> ConfigProblem:
    if app_doc is None:
        return ConfigProblem(root / "app.yaml", None, ".".join(map(str, path)), message)
    return app_doc.problem(path, message)


def _notify_lists(
    app: AppSettings, people: People, lines: LinesFile
) -> Iterator[tuple[str, KeyPath, NotifyTargets]]:
    """Every ``notify`` block: (file kind, key path, targets)."""
    yield "app", ("notifications", "notify"), app.notifications.notify
    for name, team in people.teams.items():
        yield "people", ("teams", name, "notify"), team.notify
    for name, line in lines.lines.items():
        yield "lines", ("lines", name, "voicemail", "notify"), line.voicemail.notify


def channel_problems(
    root: Path,
    *,
    app_doc: MarkedDocument | None,
    app: AppSettings,
    people_doc: MarkedDocument,
    people: People,
    lines_doc: MarkedDocument,
    lines: LinesFile,
    environ: Mapping[str, str] | None = None,
) -> list[ConfigProblem]:
    """Problems in recorded messages, AI-unavailable targets and notifications."""
    env = os.environ if environ is None else environ
    problems: list[ConfigProblem] = []
    targets = set(people.users) | set(people.teams)
    for line_name, line in lines.lines.items():
        base: KeyPath = ("lines", line_name)
        for i, target in enumerate(line.ai_agent.unavailable.targets or []):
            if target not in targets:
                problems.append(
                    lines_doc.problem(
                        (*base, "ai_agent", "unavailable", "targets", i),
                        f"unknown team or user {target!r}",
                    )
                )
        for section, key in AUDIO_KEYS:
            reference = getattr(getattr(line, section), key)
            if reference is not None and (why := wav_problem(root, reference)):
                problems.append(lines_doc.problem((*base, section, key), why))

    notifications = app.notifications
    docs = {"app": app_doc, "people": people_doc, "lines": lines_doc}
    for kind, path, notify in _notify_lists(app, people, lines):
        doc = docs[kind]
        for i, hook in enumerate(notify.webhooks):
            if hook not in notifications.webhooks:
                known = ", ".join(sorted(notifications.webhooks)) or "none defined"
                message = (
                    f"unknown webhook {hook!r}; webhooks are defined under "
                    f"notifications.webhooks in app.yaml ({known})"
                )
                problems.append(
                    doc.problem((*path, "webhooks", i), message)
                    if doc is not None
                    else _app_problem(None, root, (*path, "webhooks", i), message)
                )
        if notify.email and notifications.smtp is None:
            message = "e-mail notifications need a mail server: notifications.smtp in app.yaml"
            problems.append(
                doc.problem((*path, "email"), message)
                if doc is not None
                else _app_problem(None, root, (*path, "email"), message)
            )

    if notifications.enabled:
        secrets: list[tuple[KeyPath, str, str]] = [
            (("notifications", "webhooks", name, "secret_env"), hook.secret_env, f"webhook {name}")
            for name, hook in notifications.webhooks.items()
        ]
        smtp = notifications.smtp
        if smtp is not None and smtp.password_env is not None:
            secrets.append(
                (("notifications", "smtp", "password_env"), smtp.password_env, "SMTP login")
            )
        for path, variable, what in secrets:
            if not env.get(variable):
                problems.append(
                    _app_problem(
                        app_doc,
                        root,
                        path,
                        f"the secret of the {what} is not set: environment variable "
                        f"{variable} is unset or empty",
                    )
                )
    return problems
