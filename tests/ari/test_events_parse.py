"""Parsing events in the shapes real Asterisk sends (extra fields, older shapes, junk)."""

from __future__ import annotations

import json

import pytest

from ari_app.ari.events import (
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    Dial,
    MalformedEvent,
    StasisStart,
    parse_envelope,
    parse_event,
)


def _channel(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "1700000000.42",
        "name": "PJSIP/trunk-0000002a",
        "state": "Ring",
        "protocol_id": "abc@10.0.0.1",
        "caller": {"name": "Ann", "number": "+15550100"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": "from-trunk",
            "exten": "5551000",
            "priority": 3,
            "app_name": "Stasis",
            "app_data": "ari_app,main,extra",
        },
        "creationtime": "2026-11-25T22:00:00.000+0000",
        "language": "en",
    }
    base.update(extra)
    return base


def test_stasis_start_with_unknown_extra_fields() -> None:
    raw = {
        "type": "StasisStart",
        "timestamp": "2026-11-25T22:00:00.100+0000",
        "args": ["main", "extra"],
        "channel": _channel(tenantid="t1", caller_rdnis=""),
        "asterisk_id": "42:01:0a:00:00:01",
        "application": "ari_app",
        "future_field": {"nested": True},
    }
    event = parse_event(parse_envelope(json.dumps(raw)))
    assert isinstance(event, StasisStart)
    assert event.args == ("main", "extra")
    assert event.channel.dialplan.exten == "5551000"
    assert event.channel.in_stasis_app("ari_app")
    assert not event.channel.in_stasis_app("ari")
    assert event.envelope.application == "ari_app"


def test_older_dialplan_without_app_fields_and_optional_channel() -> None:
    channel = _channel(dialplan={"context": "c", "exten": "s", "priority": 1})
    raw = {
        "type": "ChannelDtmfReceived",
        "digit": "9",
        "duration_ms": 100,
        "channel": channel,
        "application": "ari_app",
    }
    event = parse_event(parse_envelope(json.dumps(raw)))
    assert isinstance(event, ChannelDtmfReceived)
    assert event.channel.dialplan.app_name == ""
    bridge = {"id": "b1", "technology": "simple_bridge", "bridge_type": "mixing", "channels": []}
    entered = parse_event(
        parse_envelope(json.dumps({"type": "ChannelEnteredBridge", "bridge": bridge}))
    )
    assert isinstance(entered, ChannelEnteredBridge)
    assert entered.channel is None


def test_dial_without_caller() -> None:
    raw = {"type": "Dial", "peer": _channel(state="Ringing"), "dialstatus": "RINGING"}
    event = parse_event(parse_envelope(json.dumps(raw)))
    assert isinstance(event, Dial)
    assert event.caller is None
    assert event.dialstatus == "RINGING"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        '"StasisStart"',
        '{"type": 5}',
        b"\xff\xfe",
        '{"type": "StasisStart", "channel": {"name": "no id"}}',
        '{"type": "PlaybackStarted"}',
    ],
)
def test_malformed_messages_raise(text: str | bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(parse_envelope(text))


def test_unknown_kind_is_none() -> None:
    assert parse_event(parse_envelope('{"type": "ChannelTalkingStarted"}')) is None
