"""Start-up and shutdown of a running front desk: models, store, ARI, the supervisor.

The supervisor (:mod:`ari_app.supervisor`) connects first, so callers a crashed
predecessor left are cleaned up and put on hold at once; the speech and answer models load
next, then calls are taken. ``SIGTERM`` drains, ``SIGHUP`` reloads the configuration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ari_app.answer.embedder import get_embedder_async
from ari_app.answer.engine import AnswerEngine
from ari_app.answer.kb import load_knowledge_base
from ari_app.answer.policy import Prompts
from ari_app.ari.client import AriClient
from ari_app.ari.listener import EventListener
from ari_app.ari.outbound import OutboundEvents
from ari_app.ari.reconnect import ConnState
from ari_app.asr.domain import build_domain_model, knowledge_texts
from ari_app.asr.engines import get_engine
from ari_app.asr.hints import business_words
from ari_app.asr.pocketsphinx_engine import PocketsphinxEngine
from ari_app.asr.vosk_engine import VoskEngine
from ari_app.asr.whisper_engine import WhisperEngine
from ari_app.call.events import CallEventListener
from ari_app.call.services import CallServices
from ari_app.call.session import HOLD_MESSAGE, SAVED_MESSAGE, SORRY_MESSAGE
from ari_app.call.speech import SpeechKit
from ari_app.config import Config, ConfigHolder
from ari_app.health import beat_forever
from ari_app.media import silero_vad
from ari_app.media.endpointer import EndpointerSettings
from ari_app.metrics.calls import CallMetrics
from ari_app.recorder import CallRecorder
from ari_app.shared.state import SharedState
from ari_app.store.store import Store
from ari_app.supervisor import Supervisor
from ari_app.voicemail.configured import ConfiguredChannels
from ari_app.voicemail.service import VoicemailService, build_service
from ari_app.voicemail.transcribe import EngineTranscriber

_LOGGER = logging.getLogger(__name__)


class AnswerEngines:
    """One answer engine per line of each configuration a call holds (reloads build anew)."""

    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self._engines: dict[tuple[int, str], tuple[Config, AnswerEngine]] = {}
        """Keyed by the identity of the config object, which the value keeps alive."""
        self._lock = asyncio.Lock()

    async def build_all(self) -> None:
        """Build every line's engine in a thread (loads the embedding model once)."""
        config = self.holder.current
        for line in config.lines:
            await self(config, line)

    async def __call__(self, config: Config, line: str) -> AnswerEngine:
        """The engine of ``line`` of ``config`` (the call's own snapshot).

        After a reload the engines of the new configuration are built on first use, in a
        worker thread (never on the event loop), once per line.
        """
        key = (id(config), line)
        found = self._engines.get(key)
        if found is None:
            async with self._lock:
                found = self._engines.get(key)
                if found is None:
                    embedder = await get_embedder_async()
                    engine = await asyncio.to_thread(
                        AnswerEngine.for_line, config, line, embedder=embedder
                    )
                    found = self._engines[key] = (config, engine)
        return found[1]


def speech_texts(config: Config) -> dict[tuple[str, int], list[str]]:
    """What each (voice, rate) will surely say: greetings, prompts, answers, voicemail."""
    fixed = [HOLD_MESSAGE, SAVED_MESSAGE, SORRY_MESSAGE, *vars(Prompts()).values()]
    texts: dict[tuple[str, int], list[str]] = {}
    for line in config.lines.values():
        key = (line.ai_agent.voice, line.ai_agent.rate)
        bucket = texts.setdefault(key, [])
        bucket += [line.ai_agent.greeting, line.voicemail.greeting_in_hours, *fixed]
        folder = config.config_dir / line.ai_agent.knowledge_base
        if folder.is_dir():
            for entry in load_knowledge_base(folder).entries:
                if entry.source == "text":
                    bucket.append(entry.answer)
    return texts


async def build_speech(config: Config, cache_dir: Path) -> SpeechKit:
    """Load the recognition engine and the lines' voices in a thread.

    Whisper may get the knowledge base's names as its prompt (``whisper_prompt``);
    pocketsphinx and vosk get the knowledge base as their domain model.
    """
    texts: list[str] = []
    for line in config.lines.values():
        texts += knowledge_texts(config.config_dir, line.ai_agent.knowledge_base)
    speech = config.app.speech
    vosk = Path(speech.vosk_model) if speech.vosk_model else None
    whisper = Path(speech.whisper_model) if speech.whisper_model else None
    language = next(iter(config.lines.values())).language if config.lines else "en"

    def load() -> SpeechKit:
        domain = None
        if speech.asr_engine != "whisper":
            domain = build_domain_model(texts, cache_dir / "asr")
        engine = get_engine(
            speech.asr_engine,
            vosk_model=vosk,
            domain=domain,
            whisper_model=whisper,
            workers=speech.asr_workers,
            threads=speech.asr_threads,
            nice=speech.asr_nice,
            prompt=business_words(texts) if speech.whisper_prompt else "",
            language=language,
        )
        band = {"narrow": True, "wide": False, "auto": None}[speech.caller_band]
        if config.app.media.format == "ulaw":
            band = True  # 8 kHz on the wire: nothing above 4 kHz, whatever the caller has
        kit = SpeechKit(engine, cache_dir / "tts", narrowband=band)
        kit.load_voices(line.ai_agent.voice for line in config.lines.values())
        if speech.vad == "silero":
            silero_vad.session()  # load the VAD model now, not on a call's first frame
        return kit

    return await asyncio.to_thread(load)


@dataclasses.dataclass(slots=True)
class Runtime:
    """A running front desk: its parts, so they can be stopped in order."""

    supervisor: Supervisor
    listener: EventListener | OutboundEvents
    ari: AriClient
    store: Store | None
    voicemail: VoicemailService | None
    background: list[asyncio.Task[None]]
    recorder: CallRecorder | None = None
    recordings_ari: AriClient | None = None
    """Outbound mode: HTTP ARI for stored recordings' audio (files are not sent over the
    WebSocket)."""
    asterisk_ari: dict[str, AriClient] = dataclasses.field(default_factory=dict)
    """Outbound mode, several Asterisks: HTTP ARI of each (``ari.outbound.asterisks``), for
    the stored recordings each one made."""
    shared: SharedState | None = None
    """A pool's shared state (``store.url``): its pending updates finish before the store
    closes."""

    async def stop(self, drain_s: float = 30.0) -> None:
        """Drain calls, then close events, the call records, voicemail, store and HTTP."""
        await self.supervisor.drain(drain_s)
        await self.listener.stop()
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        if self.recorder is not None:
            await self.recorder.drain(drain_s)
        if self.voicemail is not None:
            await self.voicemail.stop()
        if self.shared is not None:
            await self.shared.stop()
        if self.store is not None:
            await self.store.close()
        if self.recordings_ari is not None:
            await self.recordings_ari.close()
        for client in self.asterisk_ari.values():
            await client.close()
        await self.ari.close()


async def start_runtime(
    holder: ConfigHolder,
    password: str,
    *,
    cache_dir: Path = Path("var/cache"),
    now: Callable[[], datetime] | None = None,
    listeners: list[CallEventListener] | None = None,
    with_store: bool = True,
    health_file: Path | None = None,
    outbound_password: str = "",
) -> Runtime:
    """Load models, open the store, connect to ARI and start taking calls.

    With ``health_file`` a heartbeat is written there (:mod:`ari_app.health`). With
    ``ari.mode: outbound`` Asterisk connects to us instead (``outbound_password``, else the
    variable named by ``ari.outbound.password_env``, is what it must send).
    """
    config = holder.current
    ari_settings = config.app.ari
    outbound = _outbound_events(config, outbound_password)
    # A stored recording's audio is a file, which Asterisk serves over HTTP only (a
    # RESTRequest for it is answered 406): in outbound mode voicemail fetches it over HTTP
    # ARI when a password for it is given.
    recordings_ari = (
        AriClient(
            f"{ari_settings.url.rstrip('/')}/ari", ari_settings.username, password, ari_settings.app
        )
        if outbound is not None and password
        else None
    )
    # Several Asterisks: each one's recordings are fetched from (and deleted on) that one.
    asterisk_ari = {
        key: AriClient(f"{url.rstrip('/')}/ari", ari_settings.username, password, ari_settings.app)
        for key, url in ari_settings.outbound.asterisks.items()
        if recordings_ari is not None
    }
    ari = (
        outbound.client
        if outbound is not None
        else AriClient(
            f"{ari_settings.url.rstrip('/')}/ari", ari_settings.username, password, ari_settings.app
        )
    )
    store: Store | None = None
    voicemail: VoicemailService | None = None
    recorder: CallRecorder | None = None
    call_metrics = CallMetrics()
    # One way out of a call: its events feed the metrics, the records and voicemail.
    call_listeners: list[CallEventListener] = [call_metrics]
    if with_store:
        store = Store.from_settings(config.app.store)  # store.url: PostgreSQL, shared
        await store.open()
        call_metrics.interrupted(len(store.interrupted))
        recorder = CallRecorder(store)
        call_listeners.append(recorder)
    # Connect first: callers a crashed predecessor left are cleaned up and put on hold
    # now, not after the models have loaded; new callers meanwhile go to people.
    supervisor = Supervisor(holder, ari, listeners=[*call_listeners, *(listeners or [])])
    shared = SharedState.for_store(store, capacity=supervisor.capacity)
    if shared.shared:  # a pool of workers: call ownership, AI seats, routing in the store
        await shared.start()
        supervisor.share(shared)
    listener: EventListener | OutboundEvents
    if outbound is not None:  # ari.mode: outbound — Asterisk connects to us
        # Each event and recovery comes with the client of its connection (per call or
        # per Asterisk): a call's requests go back over the socket its call came on.
        outbound.link.on_routed = supervisor.on_event
        outbound.link.on_routed_recovered = supervisor.on_recovered
        listener = outbound
    else:
        listener = EventListener(
            ari,
            supervisor.on_event,
            on_recovered=supervisor.on_recovered,
            recover_on_first_connect=True,
        )
    await listener.start()
    background: list[asyncio.Task[None]] = []
    if health_file is not None:
        beat = functools.partial(_health_state, supervisor, listener)
        background.append(asyncio.create_task(beat_forever(health_file, beat), name="heartbeat"))
    try:
        speech, answers = await asyncio.gather(build_speech(config, cache_dir), _answers(holder))
        for (voice, rate), texts in speech_texts(config).items():
            await speech.warm(voice, rate, texts[:8])  # greetings and prompts, before calls
        if store is not None:
            notify = ConfiguredChannels(lambda: holder.current)  # app.yaml, lines and teams
            voicemail = build_service(
                store,
                recordings_ari or ari,
                Path(config.app.store.voicemail_dir),
                await _voicemail_transcriber(config),
                channels=notify,
                recipients=notify.recipients,
                asterisks=asterisk_ari,
            )
            supervisor.listeners.append(voicemail.on_call_event)
            await voicemail.start(wait=False)  # catches up in the background: calls first
    except BaseException:
        await listener.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        if store is not None:
            await store.close()
        if recordings_ari is not None:
            await recordings_ari.close()
        for client in asterisk_ari.values():
            await client.close()
        await ari.close()
        raise
    speech_settings = config.app.speech
    endpointer = EndpointerSettings(
        end_silence_ms=speech_settings.end_silence_ms,
        no_input_ms=speech_settings.no_input_ms,
        speculate_ms=speech_settings.speculate_ms,
        vad=speech_settings.vad,
        # Silero is sure of speech sooner and is not fooled by noise (no false barge-in in
        # 34 noisy clips at 5 and 10 dB SNR with 40 ms), so it may decide on 40 ms of speech.
        barge_in_ms=40 if speech_settings.vad == "silero" else 60,
    )
    services = CallServices(
        ari=ari,
        config=lambda: holder.current,
        speech=speech,
        answers=answers,
        endpointer=endpointer,
    )
    if now is not None:
        services.now = now
    await supervisor.ready(services)
    background.append(asyncio.create_task(_warm_rest(speech, config), name="tts-warm"))
    return Runtime(
        supervisor,
        listener,
        ari,
        store,
        voicemail,
        background,
        recorder,
        recordings_ari,
        asterisk_ari,
        shared if shared.shared else None,
    )


def _outbound_events(config: Config, password: str) -> OutboundEvents | None:
    """The endpoint Asterisk 22's outbound ARI WebSocket connects to (``ari.mode: outbound``,
    persistent connection), or None in the default inbound mode."""
    ari_settings = config.app.ari
    if ari_settings.mode != "outbound":
        return None
    out = ari_settings.outbound
    secret = password or os.environ.get(out.password_env, "")
    if not secret:
        raise ValueError(
            f"ari.mode is outbound: put the password Asterisk sends in {out.password_env}"
        )
    return OutboundEvents(ari_settings.app, out.username, secret, out.host, out.port, out.path)


def _health_state(
    supervisor: Supervisor, listener: EventListener | OutboundEvents
) -> dict[str, object]:
    events = listener.state.value
    if isinstance(listener, OutboundEvents) and listener.state is ConnState.CONNECTING:
        # Asterisk connects to us: per call there is no socket between calls, and a load
        # balancer sends nothing to a worker it thinks is down, so listening is healthy.
        events = "listening"
    return {
        "events": events,
        "accepting": supervisor.accepting,
        "calls": len(supervisor.tasks),
    }


async def _voicemail_transcriber(config: Config) -> EngineTranscriber:
    """Voicemail is free speech (names, numbers): Whisper transcribes it with the calls'
    shared model (long messages in pieces); pocketsphinx and vosk use their general model,
    not the knowledge-base domain model the calls listen with."""
    speech = config.app.speech
    if speech.asr_engine == "whisper":
        whisper = Path(speech.whisper_model) if speech.whisper_model else None
        engine = await asyncio.to_thread(
            get_engine,
            "whisper",
            whisper_model=whisper,
            workers=speech.asr_workers,
            threads=speech.asr_threads,
            nice=speech.asr_nice,
        )
        assert isinstance(engine, WhisperEngine)
        return EngineTranscriber(engine.bulk())
    if config.app.speech.asr_engine == "pocketsphinx":
        return EngineTranscriber(await asyncio.to_thread(PocketsphinxEngine))
    vosk = Path(config.app.speech.vosk_model or "")
    # A separate instance: the shared one is restricted to the domain's phrases.
    return EngineTranscriber(await asyncio.to_thread(VoskEngine, vosk))


async def _answers(holder: ConfigHolder) -> AnswerEngines:
    engines = AnswerEngines(holder)
    await engines.build_all()
    return engines


async def _warm_rest(speech: SpeechKit, config: Config) -> None:
    """Synthesise every knowledge-base answer into the cache, in the background."""
    for (voice, rate), texts in speech_texts(config).items():
        await speech.warm(voice, rate, texts[8:])


def install_signal_handlers(runtime: Runtime, stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT: stop (drain); SIGHUP: reload the configuration."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # The reload reads and validates in a worker thread: the loop never waits on it.
    loop.add_signal_handler(signal.SIGHUP, runtime.supervisor.holder.request_reload)
