"""The ARI routes the fake Asterisk serves, with their parameters exactly as in the spec.

Each :class:`Route` names the handler method of :class:`ari_app.testing.ari_handlers.AriHandlers`
and lists its query parameters (required and optional), body parameters and allowed values
as Asterisk 22's ``rest-api`` JSON declares them. The contract test compares this table
with the spec, and the fake validates every request against it (400 on a missing
required parameter or a value outside the allowed list), as Asterisk does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Route:
    """One ARI operation: method, path template (relative to ``/ari``) and parameters."""

    method: str
    template: str
    handler: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def path_params(self) -> tuple[str, ...]:
        """Names of the ``{placeholders}`` in the template."""
        return tuple(re.findall(r"{(\w+)}", self.template))


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/asterisk/info",
        "asterisk_info",
        optional=("only",),
        choices={"only": ("build", "system", "config", "status")},
    ),
    Route("GET", "/asterisk/ping", "ping"),
    Route("GET", "/applications", "list_applications"),
    Route("GET", "/applications/{applicationName}", "get_application"),
    Route(
        "POST",
        "/applications/{applicationName}/subscription",
        "subscribe",
        required=("eventSource",),
    ),
    Route(
        "DELETE",
        "/applications/{applicationName}/subscription",
        "unsubscribe",
        required=("eventSource",),
    ),
    Route("GET", "/channels", "list_channels"),
    Route(
        "POST",
        "/channels",
        "originate",
        required=("endpoint",),
        optional=(
            "extension",
            "context",
            "priority",
            "label",
            "app",
            "appArgs",
            "callerId",
            "timeout",
            "channelId",
            "otherChannelId",
            "originator",
            "formats",
        ),
        body=("variables",),
    ),
    Route(
        "POST",
        "/channels/create",
        "create_channel",
        required=("endpoint", "app"),
        optional=("appArgs", "channelId", "otherChannelId", "originator", "formats"),
        body=("variables",),
    ),
    Route(
        "POST",
        "/channels/externalMedia",
        "external_media",
        required=("app", "format"),
        optional=(
            "channelId",
            "external_host",
            "encapsulation",
            "transport",
            "connection_type",
            "direction",
            "data",
            "transport_data",
        ),
        body=("variables",),
        choices={
            "encapsulation": ("rtp", "audiosocket", "none"),
            "transport": ("udp", "tcp", "websocket"),
            "connection_type": ("client", "server"),
            "direction": ("both",),
        },
    ),
    Route("GET", "/channels/{channelId}", "get_channel"),
    Route(
        "POST",
        "/channels/{channelId}",
        "originate_with_id",
        required=("endpoint",),
        optional=(
            "extension",
            "context",
            "priority",
            "label",
            "app",
            "appArgs",
            "callerId",
            "timeout",
            "otherChannelId",
            "originator",
            "formats",
        ),
        body=("variables",),
    ),
    Route(
        "DELETE",
        "/channels/{channelId}",
        "hangup",
        optional=("reason_code", "reason"),
        choices={
            "reason": (
                "normal",
                "busy",
                "congestion",
                "no_answer",
                "timeout",
                "rejected",
                "unallocated",
                "normal_unspecified",
                "number_incomplete",
                "codec_mismatch",
                "interworking",
                "failure",
                "answered_elsewhere",
            )
        },
    ),
    Route(
        "POST",
        "/channels/{channelId}/continue",
        "continue_in_dialplan",
        optional=("context", "extension", "priority", "label"),
    ),
    Route("POST", "/channels/{channelId}/answer", "answer"),
    Route("POST", "/channels/{channelId}/ring", "ring"),
    Route("DELETE", "/channels/{channelId}/ring", "ring_stop"),
    Route(
        "POST",
        "/channels/{channelId}/dtmf",
        "send_dtmf",
        optional=("dtmf", "before", "between", "duration", "after"),
    ),
    Route(
        "POST",
        "/channels/{channelId}/mute",
        "mute",
        optional=("direction",),
        choices={"direction": ("both", "in", "out")},
    ),
    Route(
        "DELETE",
        "/channels/{channelId}/mute",
        "unmute",
        optional=("direction",),
        choices={"direction": ("both", "in", "out")},
    ),
    Route("POST", "/channels/{channelId}/hold", "hold"),
    Route("DELETE", "/channels/{channelId}/hold", "unhold"),
    Route("POST", "/channels/{channelId}/moh", "start_moh", optional=("mohClass",)),
    Route("DELETE", "/channels/{channelId}/moh", "stop_moh"),
    Route("POST", "/channels/{channelId}/silence", "start_silence"),
    Route("DELETE", "/channels/{channelId}/silence", "stop_silence"),
    Route(
        "POST",
        "/channels/{channelId}/play",
        "play",
        required=("media",),
        optional=("lang", "offsetms", "skipms", "playbackId"),
    ),
    Route(
        "POST",
        "/channels/{channelId}/play/{playbackId}",
        "play_with_id",
        required=("media",),
        optional=("lang", "offsetms", "skipms"),
    ),
    Route(
        "POST",
        "/channels/{channelId}/record",
        "record",
        required=("name", "format"),
        optional=("maxDurationSeconds", "maxSilenceSeconds", "ifExists", "beep", "terminateOn"),
        choices={
            "ifExists": ("fail", "overwrite", "append"),
            "terminateOn": ("none", "any", "*", "#"),
        },
    ),
    Route("GET", "/channels/{channelId}/variable", "get_variable", required=("variable",)),
    Route(
        "POST",
        "/channels/{channelId}/variable",
        "set_variable",
        required=("variable",),
        optional=("value", "report_events"),
    ),
    Route(
        "POST",
        "/channels/{channelId}/snoop",
        "snoop",
        required=("app",),
        optional=("spy", "whisper", "appArgs", "snoopId"),
        choices={"spy": ("none", "both", "out", "in"), "whisper": ("none", "both", "out", "in")},
    ),
    Route(
        "POST",
        "/channels/{channelId}/snoop/{snoopId}",
        "snoop_with_id",
        required=("app",),
        optional=("spy", "whisper", "appArgs"),
        choices={"spy": ("none", "both", "out", "in"), "whisper": ("none", "both", "out", "in")},
    ),
    Route("POST", "/channels/{channelId}/dial", "dial", optional=("caller", "timeout")),
    Route("GET", "/bridges", "list_bridges"),
    Route(
        "POST",
        "/bridges",
        "create_bridge",
        optional=("type", "bridgeId", "name"),
        body=("variables",),
    ),
    Route(
        "POST",
        "/bridges/{bridgeId}",
        "create_bridge_with_id",
        optional=("type", "name"),
        body=("variables",),
    ),
    Route("GET", "/bridges/{bridgeId}", "get_bridge"),
    Route("DELETE", "/bridges/{bridgeId}", "destroy_bridge"),
    Route(
        "POST",
        "/bridges/{bridgeId}/addChannel",
        "add_channel",
        required=("channel",),
        optional=("role", "absorbDTMF", "mute", "inhibitConnectedLineUpdates"),
    ),
    Route("POST", "/bridges/{bridgeId}/removeChannel", "remove_channel", required=("channel",)),
    Route(
        "POST",
        "/bridges/{bridgeId}/play",
        "play_on_bridge",
        required=("media",),
        optional=("announcer_format", "lang", "offsetms", "skipms", "playbackId"),
    ),
    Route(
        "POST",
        "/bridges/{bridgeId}/record",
        "record_bridge",
        required=("name", "format"),
        optional=(
            "recorder_format",
            "maxDurationSeconds",
            "maxSilenceSeconds",
            "ifExists",
            "beep",
            "terminateOn",
        ),
        choices={
            "ifExists": ("fail", "overwrite", "append"),
            "terminateOn": ("none", "any", "*", "#"),
        },
    ),
    Route("GET", "/deviceStates", "list_device_states"),
    Route("GET", "/deviceStates/{deviceName}", "get_device_state"),
    Route("GET", "/endpoints", "list_endpoints"),
    Route("GET", "/endpoints/{tech}", "list_endpoints_by_tech"),
    Route("GET", "/endpoints/{tech}/{resource}", "get_endpoint"),
    Route("GET", "/events", "events", required=("app",), optional=("subscribeAll",)),
    Route("GET", "/playbacks/{playbackId}", "get_playback"),
    Route("DELETE", "/playbacks/{playbackId}", "stop_playback"),
    Route(
        "POST",
        "/playbacks/{playbackId}/control",
        "control_playback",
        required=("operation",),
        choices={"operation": ("restart", "pause", "unpause", "reverse", "forward")},
    ),
    Route("GET", "/recordings/stored", "list_stored_recordings"),
    Route("GET", "/recordings/stored/{recordingName}", "get_stored_recording"),
    Route("DELETE", "/recordings/stored/{recordingName}", "delete_stored_recording"),
    Route("GET", "/recordings/stored/{recordingName}/file", "get_stored_recording_file"),
    Route(
        "POST",
        "/recordings/stored/{recordingName}/copy",
        "copy_stored_recording",
        required=("destinationRecordingName",),
    ),
    Route("GET", "/recordings/live/{recordingName}", "get_live_recording"),
    Route("DELETE", "/recordings/live/{recordingName}", "cancel_live_recording"),
    Route("POST", "/recordings/live/{recordingName}/stop", "stop_live_recording"),
)
