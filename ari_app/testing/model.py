"""State of the fake Asterisk: channels, bridges, playbacks, recordings and agent endpoints.

Audio inside the fake is 16-bit little-endian PCM at 16000 Hz in 20 ms frames
(:data:`FRAME_BYTES`). Each channel has ``inbound`` (what the far party says, consumed one
frame per tick) and ``heard`` (what the far party hears, appended each tick).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

ASTERISK_VERSION = "22.10.1"
"""The Asterisk version the fake reports (and imitates)."""

RATE = 16000
"""Sample rate of audio inside the fake, in Hertz."""
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2
MAX_HEARD_BYTES = RATE * 2 * 300
"""At most five minutes of heard audio are kept per channel."""
_SILENT_FRAME = bytes(FRAME_BYTES)

Json = dict[str, Any]

CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}

HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


class FakeError(Exception):
    """An ARI error the fake answers with: HTTP status and Asterisk's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def timestamp() -> str:
    """Now in Asterisk's JSON date format (``2026-11-25T22:10:00.123+0000``)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


class ChannelKind(StrEnum):
    """What stands behind a fake channel."""

    CALLER = "caller"
    AGENT = "agent"
    UNICAST_RTP = "unicast_rtp"
    WEBSOCKET = "websocket"
    SNOOP = "snoop"


class Behaviour(StrEnum):
    """How a fake agent endpoint reacts when dialled."""

    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    OFFLINE = "offline"
    MANUAL = "manual"
    """Rings until the test answers it or rings it out (or the dial's timeout)."""


@dataclass(slots=True)
class AgentEndpoint:
    """A PJSIP endpoint of an agent phone and how it behaves when rung."""

    technology: str
    resource: str
    behaviour: Behaviour = Behaviour.ANSWER
    answer_delay: float = 0.2
    """Seconds of ringing before it answers (when ``behaviour`` is ANSWER)."""
    channel_ids: list[str] = field(default_factory=list)
    ringing_ids: set[str] = field(default_factory=set)
    """Channels on this endpoint that are ringing, not yet answered."""

    @property
    def name(self) -> str:
        """``PJSIP/201``."""
        return f"{self.technology}/{self.resource}"

    @property
    def state(self) -> str:
        """Endpoint state: ``online`` or ``offline``."""
        return "offline" if self.behaviour is Behaviour.OFFLINE else "online"

    @property
    def device_state(self) -> str:
        """Device state as Asterisk computes it from the channels on the device."""
        if self.behaviour is Behaviour.OFFLINE:
            return "UNAVAILABLE"
        if self.behaviour is Behaviour.BUSY:
            return "BUSY"
        ringing = len(self.ringing_ids)
        in_use = len(self.channel_ids) - ringing
        if ringing and in_use:
            return "RINGINUSE"
        if ringing:
            return "RINGING"
        return "INUSE" if in_use else "NOT_INUSE"

    def to_json(self) -> Json:
        """ARI Endpoint model."""
        return {
            "technology": self.technology,
            "resource": self.resource,
            "state": self.state,
            "channel_ids": list(self.channel_ids),
        }


class LoudCount:
    """How many frames a channel has heard louder than ``level`` since its ``heard_levels``
    were last cleared, counted incrementally: waiters check on every 20 ms tick, and
    rescanning minutes of levels for twenty calls was most of the benchmark's load
    generator."""

    def __init__(self, channel: FakeChannel, level: float) -> None:
        self._channel = channel
        self._level = level
        self._seen = 0
        self._length = 0
        self._loud = 0

    def __call__(self) -> int:
        """Loud frames heard so far."""
        channel = self._channel
        levels = channel.heard_levels
        fresh = channel.heard_frames - self._seen
        if len(levels) < self._length:  # cleared: count what is there now
            self._loud, fresh = 0, len(levels)
        fresh = min(fresh, len(levels))
        level = self._level
        tail = itertools.islice(levels, len(levels) - fresh, None)
        self._loud += sum(1 for value in tail if value > level)
        self._seen, self._length = channel.heard_frames, len(levels)
        return self._loud


@dataclass(slots=True)
class FakeChannel:
    """One fake channel."""

    id: str
    name: str
    kind: ChannelKind
    state: str = "Down"
    caller_name: str = ""
    caller_number: str = ""
    connected_name: str = ""
    connected_number: str = ""
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    creationtime: str = field(default_factory=timestamp)
    language: str = "en"
    variables: dict[str, str] = field(default_factory=dict)
    channelvars: tuple[str, ...] = ()
    """Variables shown in the JSON ``channelvars`` object."""
    app: str | None = None
    """The Stasis application the channel's events go to."""
    in_stasis: bool = False
    bridge_id: str | None = None
    endpoint: AgentEndpoint | None = None
    inbound: bytearray = field(default_factory=bytearray)
    heard: bytearray = field(default_factory=bytearray)
    heard_levels: list[float] = field(default_factory=list)
    """RMS level of each 20 ms frame in ``heard``."""
    heard_frames: int = 0
    """Frames heard since the channel was made (``heard_levels`` is cleared and trimmed)."""
    dtmf_sent_to_party: list[str] = field(default_factory=list)
    playback_ids: list[str] = field(default_factory=list)
    recording: str | None = None
    muted: bool = False
    on_hold: bool = False
    moh: bool = False
    snoop_target: str | None = None
    spy: str = "none"
    whisper: str = "none"
    last_produced: bytes = b""
    last_heard: bytes = b""
    deliver: Callable[[bytes], None] | None = None
    """Where the fake sends what this channel hears (RTP / WebSocket legs)."""
    closers: list[Callable[[], Any]] = field(default_factory=list)
    destroyed: bool = False
    dial_caller: str | None = None
    """While an outbound dial rings: the id of the calling channel ("" when none)."""
    originated: bool = False
    """Created by an app (originate, externalMedia, snoop): the app stays subscribed to it
    until it is destroyed (it gets ChannelDestroyed); an inbound channel's app is
    unsubscribed when it leaves Stasis."""
    dialstring: str = ""
    """What the Dial events name (``201``, ``127.0.0.1:40122/c(ulaw)``)."""
    media_pending: bool = False
    """An externalMedia channel answered with ``Down`` that has not yet entered Stasis."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to let a held externalMedia channel come up (``hold_media_answers``)."""
    hangup_pending: int | None = None
    """The cause of an app hangup requested while the channel was still pending."""
    protocol_id: str = ""
    dialplan_log: list[str] = field(default_factory=list)
    """Every dialplan step the channel ran, with its result (``... Stasis(ari-app,main) ->
    FAILED``, ``... Hangup() -> 603``)."""
    sip_final: int | None = None
    """The SIP final response the caller got when hung up before answer (e.g. 603)."""

    def gone(self) -> bool:
        """True once destroyed (a call, so that type checkers do not narrow it)."""
        return self.destroyed

    def take_frame(self) -> bytes:
        """The next 20 ms the far party says (silence when it says nothing)."""
        if self.muted:
            del self.inbound[:FRAME_BYTES]
            return bytes(FRAME_BYTES)
        frame = bytes(self.inbound[:FRAME_BYTES])
        del self.inbound[:FRAME_BYTES]
        if len(frame) < FRAME_BYTES:
            frame += bytes(FRAME_BYTES - len(frame))
        return frame

    def hear(self, frame: bytes, *, send: bool = True) -> None:
        """Deliver 20 ms to the far party (``send=False``: nothing goes on the wire)."""
        self.last_heard = frame
        if self.deliver is not None and send:
            self.deliver(frame)
        self.heard.extend(frame)
        if frame == _SILENT_FRAME:  # most frames of a call: no arithmetic needed
            self.heard_levels.append(0.0)
        else:
            samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
            self.heard_levels.append(float(np.sqrt(np.mean(samples * samples))))
        self.heard_frames += 1
        if len(self.heard) > MAX_HEARD_BYTES:
            del self.heard[: len(self.heard) - MAX_HEARD_BYTES]
            del self.heard_levels[: len(self.heard_levels) - MAX_HEARD_BYTES // FRAME_BYTES]

    def to_json(self) -> Json:
        """ARI Channel model."""
        data: Json = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": self.connected_name, "number": self.connected_number},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": self.creationtime,
            "language": self.language,
        }
        if self.channelvars:
            data["channelvars"] = {k: self.variables.get(k, "") for k in self.channelvars}
        return data


@dataclass(slots=True)
class FakeBridge:
    """One fake bridge."""

    id: str
    bridge_type: str = "mixing"
    name: str = ""
    app: str | None = None
    channels: list[str] = field(default_factory=list)
    creationtime: str = field(default_factory=timestamp)
    playback_ids: list[str] = field(default_factory=list)
    recording: str | None = None
    technology: str = ""
    """The bridge technology Asterisk picked (re-chosen after each join and leave)."""
    subscribed: bool = False
    """The app is subscribed once one of its channels joined (then it gets BridgeDestroyed);
    Asterisk sends no BridgeCreated for a bridge the app creates."""

    def __post_init__(self) -> None:
        if not self.technology:
            self.technology = "simple_bridge" if self.bridge_type == "mixing" else "holding_bridge"

    def to_json(self) -> Json:
        """ARI Bridge model."""
        return {
            "id": self.id,
            "technology": self.technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": self.creationtime,
            "video_mode": "talker",
        }


@dataclass(slots=True)
class FakePlayback:
    """A playback of PCM to a channel or a bridge."""

    id: str
    media_uri: str
    target_uri: str
    app: str | None
    pcm: bytes
    language: str = "en"
    state: str = "queued"
    position: int = 0
    failed: bool = False

    def next_frame(self) -> bytes | None:
        """The next 20 ms, or None when done."""
        if self.position >= len(self.pcm):
            return None
        frame = self.pcm[self.position : self.position + FRAME_BYTES]
        self.position += FRAME_BYTES
        if len(frame) < FRAME_BYTES:
            frame += bytes(FRAME_BYTES - len(frame))
        return frame

    def to_json(self) -> Json:
        """ARI Playback model."""
        return {
            "id": self.id,
            "media_uri": self.media_uri,
            "target_uri": self.target_uri,
            "language": self.language,
            "state": self.state,
        }


@dataclass(slots=True)
class FakeRecording:
    """A live recording of a channel (what it says) or a bridge (the mix)."""

    name: str
    format: str
    target_uri: str
    app: str | None
    path: Path
    rate: int
    max_duration_s: int = 0
    max_silence_s: int = 0
    terminate_on: str = "none"
    beep_frames: int = 0
    state: str = "recording"
    pcm: bytearray = field(default_factory=bytearray)
    append: bool = False
    silence_run: int = 0
    """Consecutive silent frames so far."""
    silence_frames: int = 0
    talking_frames: int = 0
    total_frames: int = 0
    cause: str = ""
    started: float = field(default_factory=time.monotonic)

    def to_json(self) -> Json:
        """ARI LiveRecording model: durations (whole seconds) only once it has finished,
        as in Asterisk's RecordingStarted (name, format, state, target_uri) and
        RecordingFinished events."""
        data: Json = {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": self.target_uri,
        }
        if self.state not in ("queued", "recording", "paused"):
            data["duration"] = self.total_frames * FRAME_MS // 1000
            data["talking_duration"] = self.talking_frames * FRAME_MS // 1000
            data["silence_duration"] = self.silence_frames * FRAME_MS // 1000
        if self.cause:
            data["cause"] = self.cause
        return data


@dataclass(slots=True)
class AppState:
    """A Stasis application registered by an events WebSocket."""

    name: str
    sockets: list[asyncio.Queue[str | None]] = field(default_factory=list)
    subscriptions: set[str] = field(default_factory=set)
    subscribe_all: bool = False

    @property
    def active(self) -> bool:
        """True while an events WebSocket is connected."""
        return bool(self.sockets)
