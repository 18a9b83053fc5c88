"""Typed ARI events on a thin envelope.

Every WebSocket message is parsed into an :class:`Envelope` (type, application,
timestamp, the raw JSON); :func:`parse_event` turns it into one dataclass per event
kind. Unknown kinds give ``None`` (the caller logs them at debug and ignores them);
malformed messages raise :class:`MalformedEvent` (the caller counts and skips them).

Frames come from the network, so the decoder is bounded: at most :data:`MAX_FRAME_BYTES`,
nesting at most :data:`MAX_DEPTH`, no ``Infinity``/``NaN``, no number that overflows a
float (``1e999``) or a 64-bit integer. Every refusal names a short ``reason`` (for the
``ari_app_ari_malformed_events_total`` counter) and, when it can be seen, the frame's type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ari_app.ari.models import (
    Bridge,
    Channel,
    DeviceState,
    Endpoint,
    LiveRecording,
    Playback,
    as_int,
)

Json = dict[str, Any]


MAX_FRAME_BYTES = 1 << 20
"""Largest event frame accepted (real ARI events are a few kilobytes)."""
MAX_DEPTH = 32
"""Deepest nesting of objects and arrays accepted (real ARI events nest about 4 deep)."""
_INT_LIMIT = 1 << 63


class MalformedEvent(ValueError):
    """A WebSocket message that is not a valid ARI event.

    ``reason`` is a short stable word (``too_big``, ``not_json``, ``too_deep``,
    ``non_finite``, ``out_of_range``, ``not_an_event``, ``invalid``) and ``event_type``
    the frame's ``type`` when it could be read (else ``""``).
    """

    def __init__(self, message: str, reason: str = "invalid", event_type: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.event_type = event_type


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
class ApplicationRegistered(AriEvent):
    """The application is registered on this socket: over an ARI outbound WebSocket,
    Asterisk sends it after a *re*connection (``session_update``), after the events
    queued while the socket was down."""


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


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _channel(raw: Json, key: str = "channel") -> Channel:
    return Channel.from_json(raw[key])


def _opt_channel(raw: Json, key: str) -> Channel | None:
    return Channel.from_json(raw[key]) if raw.get(key) else None


_Builder = Callable[[Envelope, Json], AriEvent]

_BUILDERS: dict[str, _Builder] = {
    "StasisStart": lambda e, r: StasisStart(
        e, _channel(r), tuple(str(a) for a in _list(r.get("args")))
    ),
    "StasisEnd": lambda e, r: StasisEnd(e, _channel(r)),
    "ChannelCreated": lambda e, r: ChannelCreated(e, _channel(r)),
    "ChannelStateChange": lambda e, r: ChannelStateChange(e, _channel(r)),
    "ChannelDtmfReceived": lambda e, r: ChannelDtmfReceived(
        e, _channel(r), str(r["digit"]), as_int(r.get("duration_ms"))
    ),
    "ChannelHangupRequest": lambda e, r: ChannelHangupRequest(
        e, _channel(r), as_int(r.get("cause")), bool(r.get("soft", False))
    ),
    "ChannelDestroyed": lambda e, r: ChannelDestroyed(
        e, _channel(r), as_int(r.get("cause")), str(r.get("cause_txt", ""))
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
    "ApplicationRegistered": lambda e, r: ApplicationRegistered(e),
}

KNOWN_EVENTS: frozenset[str] = frozenset(_BUILDERS)
"""Event types that :func:`parse_event` turns into dataclasses."""


_TYPE_RE = re.compile(r'"type"\s*:\s*"([A-Za-z]{1,64})"')


def sniff_type(text: str | bytes) -> str:
    """The ``type`` of a frame that could not be decoded, read from its first 4 KiB ("" if none)."""
    head = text[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    match = _TYPE_RE.search(head)
    return match.group(1) if match else ""


def _refuse_constant(name: str) -> float:
    raise MalformedEvent(f"non-finite number {name}", "non_finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedEvent(f"number {text[:32]} overflows", "non_finite")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > 20:
        raise MalformedEvent(f"integer of {len(text)} digits", "out_of_range")
    value = int(text)
    if not -_INT_LIMIT <= value < _INT_LIMIT:
        raise MalformedEvent(f"integer {text} out of 64-bit range", "out_of_range")
    return value


def _check_depth(raw: object) -> None:
    """Raise unless ``raw`` nests at most :data:`MAX_DEPTH` deep (iterative, no recursion)."""
    stack: list[tuple[object, int]] = [(raw, 1)]
    while stack:
        node, depth = stack.pop()
        children: list[object]
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise MalformedEvent(f"nested deeper than {MAX_DEPTH}", "too_deep")
        stack.extend((child, depth + 1) for child in children)


def decode_frame(text: str | bytes) -> object:
    """Decode one frame's JSON within the bounds above; raises :class:`MalformedEvent`."""
    if len(text) > MAX_FRAME_BYTES:
        raise MalformedEvent(
            f"frame of {len(text)} bytes (limit {MAX_FRAME_BYTES})", "too_big", sniff_type(text)
        )
    try:
        raw = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except MalformedEvent as exc:
        exc.event_type = sniff_type(text)
        raise
    except RecursionError:
        raise MalformedEvent("nested too deep to decode", "too_deep", sniff_type(text)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}", "not_json", sniff_type(text)) from None
    try:
        _check_depth(raw)
    except MalformedEvent as exc:
        exc.event_type = sniff_type(text)
        raise
    return raw


def parse_envelope(text: str | bytes) -> Envelope:
    """Parse one WebSocket message into its envelope; raises :class:`MalformedEvent`."""
    raw = decode_frame(text)
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise MalformedEvent("not an object with a string 'type'", "not_an_event")
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
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise MalformedEvent(f"{envelope.type}: {exc!r}", "invalid", envelope.type) from None
