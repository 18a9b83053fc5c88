"""The app side of the voicemail soak: the real supervisor, sessions, call recorder and
voicemail service against the soak's fake Asterisk, with a silent scripted voice instead
of speech engines (so a restart takes a second, not a model load). Killed with SIGKILL
by ``bench.voicemail_soak`` at random moments.

Usage: ``python -m bench.voicemail_soak_child CONFIG_DIR PASSWORD`` (prints ``ready``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from ari_app.answer.policy import Action, Decision
from ari_app.ari.client import AriClient
from ari_app.ari.listener import EventListener
from ari_app.call.services import CallServices
from ari_app.call.voice import SayResult, Utterance
from ari_app.config import ConfigHolder
from ari_app.config.models import Config, Line
from ari_app.media.frames import AudioFrame
from ari_app.media.pacer import MediaTransport
from ari_app.recorder import CallRecorder
from ari_app.store import Store
from ari_app.supervisor import Supervisor
from ari_app.voicemail.service import build_service


class SilentVoice:
    """Says everything at once; hears silence."""

    def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Nothing to close."""

    async def say(
        self, text: str, *, barge_in: bool = True, audio: AsyncIterator[AudioFrame] | None = None
    ) -> SayResult:
        """Done at once."""
        return SayResult(False, asyncio.get_running_loop().time())

    async def listen(self) -> Utterance | None:
        """A silent turn."""
        return None


class ToPeople:
    """Every turn hands off (nobody answers in the soak: voicemail)."""

    async def hear(self, text: str, now: datetime) -> Decision:
        """Hand off."""
        return Decision(Action.HANDOFF, "", reason="soak")

    def silence(self) -> Decision:
        """Hand off."""
        return Decision(Action.HANDOFF, "", reason="silence")

    def dtmf(self, digit: str) -> Decision:
        """Hand off."""
        return Decision(Action.HANDOFF, "", reason=f"dtmf_{digit}")


def silent_voice(transport: MediaTransport, line: Line) -> SilentVoice:
    return SilentVoice()


async def to_people(config: Config, line: str) -> ToPeople:
    return ToPeople()


async def main(config_dir: Path, password: str) -> None:
    holder = ConfigHolder(config_dir)
    app = holder.current.app
    ari = AriClient(f"{app.ari.url}/ari", app.ari.username, password, app.ari.app)
    store = Store(Path(app.store.path))
    await store.open()
    recorder = CallRecorder(store)
    voicemail = build_service(store, ari, Path(app.store.voicemail_dir), None)
    await voicemail.start(wait=False)
    services = CallServices(
        ari=ari, config=lambda: holder.current, voice=silent_voice, conversation=to_people
    )
    supervisor = Supervisor(
        holder, services.ari, services, listeners=[recorder, voicemail.on_call_event]
    )
    listener = EventListener(ari, supervisor.on_event)
    await listener.start()
    await listener.connected.wait()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
