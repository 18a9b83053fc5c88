"""Typed ARI events on a thin envelope.

Every WebSocket message is parsed into an :class:`Envelope` (type, application,
timestamp, the raw JSON); :func:`parse_event` turns it into one dataclass per event
kind. Unknown kinds give ``None`` (the caller logs them at debug and ignores them);
malformed messages raise :class:`MalformedEvent` (the caller counts and skips them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ari_app.ari.models import Bridge, Channel, DeviceState, Endpoint, LiveRecording, Playback

Json = dict[str, Any]


class MalformedEvent(ValueError):
    """A WebSocket message that is not a valid ARI event."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What every ARI message has: its type, the application and when it happened."""

    type: str
    application: str
    timestamp: str
    raw: Json


@dataclass(frozen=True, slots=True)
class AriEvent:
    """Base of the typed events; ``envelope`` keeps the raw message."""

    envelope: Envelope

    @property
    def type(self) -> str:
        """The ARI event type name, e.g. ``StasisStart``."""
        return self.envelope.type


@dataclass(frozen=True, slots=True)
class ChannelEvent(AriEvent):
    """An event about one channel."""

    channel: Channel


@dataclass(frozen=True, slots=True)
class StasisStart(ChannelEvent):
    """A channel entered our application; ``args`` are the Stasis() arguments."""

    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StasisEnd(ChannelEvent):
    """A channel left our application (hung up or moved on)."""


@dataclass(frozen=True, slots=True)
class ChannelCreated(ChannelEvent):
    """A channel was created."""


@dataclass(frozen=True, slots=True)
class ChannelStateChange(ChannelEvent):
    """The channel's state changed (e.g. ``Ringing``, ``Up``)."""


@dataclass(frozen=True, slots=True)
class ChannelDtmfReceived(ChannelEvent):
    """The far end pressed a key; ``duration_ms`` in milliseconds."""

    digit: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ChannelHangupRequest(ChannelEvent):
    """Someone asked the channel to hang up; ``cause`` is the Q.850 cause code."""

    cause: int
    soft: bool


@dataclass(frozen=True, slots=True)
class ChannelDestroyed(ChannelEvent):
    """The channel is gone; ``cause`` is Q.850 (16 normal, 17 busy, 19 no answer ...)."""

    cause: int
    cause_txt: str


@dataclass(frozen=True, slots=True)
class ChannelVarset(AriEvent):
    """A channel variable was set (``channel`` is None for globals)."""

    channel: Channel | None
    variable: str
    value: str


@dataclass(frozen=True, slots=True)
class BridgeEvent(AriEvent):
    """An event about a bridge."""

    bridge: Bridge


@dataclass(frozen=True, slots=True)
class BridgeCreated(BridgeEvent):
    """A bridge was created."""


@dataclass(frozen=True, slots=True)
class BridgeDestroyed(BridgeEvent):
    """A bridge was destroyed."""


@dataclass(frozen=True, slots=True)
class ChannelEnteredBridge(BridgeEvent):
    """A channel joined a bridge."""

    channel: Channel | None


@dataclass(frozen=True, slots=True)
class ChannelLeftBridge(BridgeEvent):
    """A channel left a bridge."""

    channel: Channel


@dataclass(frozen=True, slots=True)
class PlaybackEvent(AriEvent):
    """An event about a playback."""

    playback: Playback


@dataclass(frozen=True, slots=True)
class PlaybackStarted(PlaybackEvent):
    """A playback began."""


@dataclass(frozen=True, slots=True)
class PlaybackFinished(PlaybackEvent):
    """A playback ended (``playback.state`` is ``done`` or ``failed``)."""


@dataclass(frozen=True, slots=True)
class RecordingEvent(AriEvent):
    """An event about a live recording."""

    recording: LiveRecording


@dataclass(frozen=True, slots=True)
class RecordingStarted(RecordingEvent):
    """A recording began."""


@dataclass(frozen=True, slots=True)
class RecordingFinished(RecordingEvent):
    """A recording ended and its file is stored."""


@dataclass(frozen=True, slots=True)
class RecordingFailed(RecordingEvent):
    """A recording failed."""


@dataclass(frozen=True, slots=True)
class Dial(AriEvent):
    """Progress of a dial: ``dialstatus`` is "", RINGING, ANSWER, BUSY, NOANSWER ..."""

    peer: Channel
    caller: Channel | None
    dialstatus: str
    dialstring: str


@dataclass(frozen=True, slots=True)
class DeviceStateChanged(AriEvent):
    """A device (e.g. ``PJSIP/201``) changed state."""

    device_state: DeviceState


@dataclass(frozen=True, slots=True)
class EndpointStateChange(AriEvent):
    """An endpoint went online or offline."""

    endpoint: Endpoint


def _channel(raw: Json, key: str = "channel") -> Channel:
    return Channel.from_json(raw[key])


def _opt_channel(raw: Json, key: str) -> Channel | None:
    return Channel.from_json(raw[key]) if raw.get(key) else None


_Builder = Callable[[Envelope, Json], AriEvent]

_BUILDERS: dict[str, _Builder] = {
    "StasisStart": lambda e, r: StasisStart(
        e, _channel(r), tuple(str(a) for a in r.get("args") or ())
    ),
    "StasisEnd": lambda e, r: StasisEnd(e, _channel(r)),
    "ChannelCreated": lambda e, r: ChannelCreated(e, _channel(r)),
    "ChannelStateChange": lambda e, r: ChannelStateChange(e, _channel(r)),
    "ChannelDtmfReceived": lambda e, r: ChannelDtmfReceived(
        e, _channel(r), str(r["digit"]), int(r.get("duration_ms") or 0)
    ),
    "ChannelHangupRequest": lambda e, r: ChannelHangupRequest(
        e, _channel(r), int(r.get("cause") or 0), bool(r.get("soft", False))
    ),
    "ChannelDestroyed": lambda e, r: ChannelDestroyed(
        e, _channel(r), int(r.get("cause") or 0), str(r.get("cause_txt", ""))
    ),
    "ChannelVarset": lambda e, r: ChannelVarset(
        e, _opt_channel(r, "channel"), str(r["variable"]), str(r.get("value", ""))
    ),
    "BridgeCreated": lambda e, r: BridgeCreated(e, Bridge.from_json(r["bridge"])),
    "BridgeDestroyed": lambda e, r: BridgeDestroyed(e, Bridge.from_json(r["bridge"])),
    "ChannelEnteredBridge": lambda e, r: ChannelEnteredBridge(
        e, Bridge.from_json(r["bridge"]), _opt_channel(r, "channel")
    ),
    "ChannelLeftBridge": lambda e, r: ChannelLeftBridge(
        e, Bridge.from_json(r["bridge"]), _channel(r)
    ),
    "PlaybackStarted": lambda e, r: PlaybackStarted(e, Playback.from_json(r["playback"])),
    "PlaybackFinished": lambda e, r: PlaybackFinished(e, Playback.from_json(r["playback"])),
    "RecordingStarted": lambda e, r: RecordingStarted(e, LiveRecording.from_json(r["recording"])),
    "RecordingFinished": lambda e, r: RecordingFinished(e, LiveRecording.from_json(r["recording"])),
    "RecordingFailed": lambda e, r: RecordingFailed(e, LiveRecording.from_json(r["recording"])),
    "Dial": lambda e, r: Dial(
        e,
        _channel(r, "peer"),
        _opt_channel(r, "caller"),
        str(r.get("dialstatus", "")),
        str(r.get("dialstring", "")),
    ),
    "DeviceStateChanged": lambda e, r: DeviceStateChanged(
        e, DeviceState.from_json(r["device_state"])
    ),
    "EndpointStateChange": lambda e, r: EndpointStateChange(e, Endpoint.from_json(r["endpoint"])),
}

KNOWN_EVENTS: frozenset[str] = frozenset(_BUILDERS)
"""Event types that :func:`parse_event` turns into dataclasses."""


def parse_envelope(text: str | bytes) -> Envelope:
    """Parse one WebSocket message into its envelope; raises :class:`MalformedEvent`."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise MalformedEvent("not an object with a string 'type'")
    return Envelope(
        type=raw["type"],
        application=str(raw.get("application", "")),
        timestamp=str(raw.get("timestamp", "")),
        raw=raw,
    )


def parse_event(envelope: Envelope) -> AriEvent | None:
    """The typed event for ``envelope``; ``None`` for kinds we do not model."""
    builder = _BUILDERS.get(envelope.type)
    if builder is None:
        return None
    try:
        return builder(envelope, envelope.raw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"{envelope.type}: {exc!r}") from None
