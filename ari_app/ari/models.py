"""Typed views of ARI's JSON models (Channel, Bridge, Playback, recordings, endpoints ...).

Each dataclass keeps only the fields ari_app reads and offers ``from_json``; unknown keys
are ignored, so newer Asterisk versions that add fields keep working. Data of the wrong
shape (a list where an object belongs, ``inf`` or ``1e300`` where an integer belongs)
raises ``ValueError``, never ``OverflowError`` or an integer too big for SQLite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


_INT_LIMIT = 1 << 63


def _str(data: Json, key: str, default: str = "") -> str:
    value = data.get(key, default)
    return value if isinstance(value, str) else str(value)


def as_int(value: object, default: int = 0) -> int:
    """``value`` as a 64-bit integer (``default`` for None, "" or 0); ValueError otherwise.

    Accepts ints, finite whole-number-ish floats (truncated) and numeric strings, as ARI's
    JSON may carry; refuses booleans, ``inf``/``nan`` and anything outside 64 bits.
    """
    if value is None or value == "" or value is False:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not an integer: {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    if isinstance(value, str) and len(value) > 20:
        raise ValueError("integer string too long")
    number = int(value)
    if not -_INT_LIMIT <= number < _INT_LIMIT:
        raise ValueError(f"integer out of 64-bit range: {number}")
    return number or default


def _obj(data: object) -> Json:
    """``data`` when it is a JSON object, {} for None; ValueError for any other shape."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, got {type(data).__name__}")
    return data


def _strs(value: object) -> tuple[str, ...]:
    """A list of ids as strings; ValueError when it is not a list."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class CallerId:
    """A caller or connected-line identity."""

    name: str = ""
    number: str = ""

    @classmethod
    def from_json(cls, data: Json | None) -> CallerId:
        """Parse ARI's CallerID model."""
        data = _obj(data)
        return cls(name=_str(data, "name"), number=_str(data, "number"))


@dataclass(frozen=True, slots=True)
class Dialplan:
    """Where the channel is in the dialplan; ``exten`` is the dialled number (the DID)."""

    context: str = ""
    exten: str = ""
    priority: int = 1
    app_name: str = ""
    app_data: str = ""

    @classmethod
    def from_json(cls, data: Json | None) -> Dialplan:
        """Parse ARI's DialplanCEP model."""
        data = _obj(data)
        return cls(
            context=_str(data, "context"),
            exten=_str(data, "exten"),
            priority=as_int(data.get("priority"), 1),
            app_name=_str(data, "app_name"),
            app_data=_str(data, "app_data"),
        )


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel: one leg of a call."""

    id: str
    name: str = ""
    state: str = "Unknown"
    caller: CallerId = field(default_factory=CallerId)
    connected: CallerId = field(default_factory=CallerId)
    dialplan: Dialplan = field(default_factory=Dialplan)
    creationtime: str = ""
    language: str = "en"
    channelvars: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Json) -> Channel:
        """Parse ARI's Channel model; ``id`` is required."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("channel without an id")
        raw_vars = data.get("channelvars") or {}
        return cls(
            id=data["id"],
            name=_str(data, "name"),
            state=_str(data, "state", "Unknown"),
            caller=CallerId.from_json(data.get("caller")),
            connected=CallerId.from_json(data.get("connected")),
            dialplan=Dialplan.from_json(data.get("dialplan")),
            creationtime=_str(data, "creationtime"),
            language=_str(data, "language", "en"),
            channelvars={str(k): str(v) for k, v in raw_vars.items()}
            if isinstance(raw_vars, dict)
            else {},
        )

    def in_stasis_app(self, app: str) -> bool:
        """True when the channel currently runs ``Stasis(app, ...)``."""
        if self.dialplan.app_name.lower() != "stasis":
            return False
        return self.dialplan.app_data.split(",", 1)[0].strip() == app


@dataclass(frozen=True, slots=True)
class Bridge:
    """A bridge joining channels (``mixing`` mixes their audio)."""

    id: str
    technology: str = ""
    bridge_type: str = "mixing"
    bridge_class: str = ""
    name: str = ""
    channels: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> Bridge:
        """Parse ARI's Bridge model."""
        data = _obj(data)
        return cls(
            id=_str(data, "id"),
            technology=_str(data, "technology"),
            bridge_type=_str(data, "bridge_type", "mixing"),
            bridge_class=_str(data, "bridge_class"),
            name=_str(data, "name"),
            channels=_strs(data.get("channels")),
        )


@dataclass(frozen=True, slots=True)
class Playback:
    """A playback of media to a channel or bridge; ``state`` ends as ``done`` or ``failed``."""

    id: str
    media_uri: str = ""
    target_uri: str = ""
    state: str = "queued"
    language: str = ""

    @classmethod
    def from_json(cls, data: Json) -> Playback:
        """Parse ARI's Playback model."""
        data = _obj(data)
        return cls(
            id=_str(data, "id"),
            media_uri=_str(data, "media_uri"),
            target_uri=_str(data, "target_uri"),
            state=_str(data, "state", "queued"),
            language=_str(data, "language"),
        )


@dataclass(frozen=True, slots=True)
class LiveRecording:
    """A recording in progress (or just finished); ``duration`` is in seconds."""

    name: str
    format: str = ""
    target_uri: str = ""
    state: str = "queued"
    duration: int = 0
    talking_duration: int = 0
    silence_duration: int = 0
    cause: str = ""

    @classmethod
    def from_json(cls, data: Json) -> LiveRecording:
        """Parse ARI's LiveRecording model."""
        data = _obj(data)
        return cls(
            name=_str(data, "name"),
            format=_str(data, "format"),
            target_uri=_str(data, "target_uri"),
            state=_str(data, "state", "queued"),
            duration=as_int(data.get("duration")),
            talking_duration=as_int(data.get("talking_duration")),
            silence_duration=as_int(data.get("silence_duration")),
            cause=_str(data, "cause"),
        )


@dataclass(frozen=True, slots=True)
class StoredRecording:
    """A finished recording on Asterisk's disk."""

    name: str
    format: str = ""

    @classmethod
    def from_json(cls, data: Json) -> StoredRecording:
        """Parse ARI's StoredRecording model."""
        data = _obj(data)
        return cls(name=_str(data, "name"), format=_str(data, "format"))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint such as PJSIP/201; ``state`` is ``online``, ``offline`` or ``unknown``."""

    technology: str
    resource: str
    state: str = "unknown"
    channel_ids: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``technology/resource``, as used in dial strings."""
        return f"{self.technology}/{self.resource}"

    @classmethod
    def from_json(cls, data: Json) -> Endpoint:
        """Parse ARI's Endpoint model."""
        data = _obj(data)
        return cls(
            technology=_str(data, "technology"),
            resource=_str(data, "resource"),
            state=_str(data, "state", "unknown"),
            channel_ids=_strs(data.get("channel_ids")),
        )


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A device state such as ``PJSIP/201`` = ``NOT_INUSE`` / ``INUSE`` / ``UNAVAILABLE``."""

    name: str
    state: str = "UNKNOWN"

    @classmethod
    def from_json(cls, data: Json) -> DeviceState:
        """Parse ARI's DeviceState model."""
        data = _obj(data)
        return cls(name=_str(data, "name"), state=_str(data, "state", "UNKNOWN"))


@dataclass(frozen=True, slots=True)
class Application:
    """A Stasis application and what it is subscribed to."""

    name: str
    channel_ids: tuple[str, ...] = ()
    bridge_ids: tuple[str, ...] = ()
    endpoint_ids: tuple[str, ...] = ()
    device_names: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> Application:
        """Parse ARI's Application model."""
        data = _obj(data)

        def ids(key: str) -> tuple[str, ...]:
            return _strs(data.get(key))

        return cls(
            name=_str(data, "name"),
            channel_ids=ids("channel_ids"),
            bridge_ids=ids("bridge_ids"),
            endpoint_ids=ids("endpoint_ids"),
            device_names=ids("device_names"),
        )
