"""Voicemail notification by webhook: a JSON POST signed with HMAC-SHA256.

The receiver checks ``X-Ari-App-Signature: sha256=<hex>``, the HMAC-SHA256 with the
shared secret of ``<X-Ari-App-Timestamp>.<raw body>``, and rejects old timestamps.
The secret comes from the environment variable named in the settings, never from YAML.

Replays: the signed body carries ``id`` (also sent as ``X-Ari-App-Delivery``), the same
for every attempt of one notification and unique per voicemail, so a receiver that keeps
the ids it accepted within the timestamp window drops a replayed or retried delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import aiohttp

from ari_app.store import VoicemailRecord
from ari_app.voicemail.errors import NotifyError, VoicemailError

SIGNATURE_HEADER = "X-Ari-App-Signature"
TIMESTAMP_HEADER = "X-Ari-App-Timestamp"
DELIVERY_HEADER = "X-Ari-App-Delivery"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
    max_age_s: float = 300,
) -> bool:
    """True if ``signature`` is right for ``body`` and ``timestamp`` is within ``max_age_s``.

    False, never an exception, for any malformed input. Within the window a replay still
    verifies: de-duplicate on the body's ``id`` (see the module docstring).
    """
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False  # never raises on what a stranger sent (non-ASCII, "nan", "1e9")
    if abs(now - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def audio_link(dashboard_url: str | None, vm: VoicemailRecord) -> str | None:
    """Where the dashboard serves the voicemail's audio (None without a dashboard URL)."""
    if not dashboard_url:
        return None
    return f"{dashboard_url.rstrip('/')}/voicemails/{vm.id}/audio"


def voicemail_payload(vm: VoicemailRecord, dashboard_url: str | None = None) -> dict[str, Any]:
    """What a notification says about a voicemail: caller, line, time, duration, transcript,
    and the id (plus a dashboard link when configured) to fetch the audio."""
    data = vm.to_json()
    keys = (
        "id",
        "recording_name",
        "call_id",
        "line",
        "caller",
        "recorded_at",
        "duration_s",
        "transcript",
        "path",
    )
    voicemail = {k: data[k] for k in keys}
    voicemail["audio_url"] = audio_link(dashboard_url, vm)
    return {"id": delivery_id(vm), "event": "voicemail.saved", "voicemail": voicemail}


def delivery_id(vm: VoicemailRecord) -> str:
    """The notification's id: the same on every retry, unique per voicemail (replays)."""
    return f"voicemail.saved:{vm.id}:{vm.recording_name}"


class WebhookChannel:
    """POSTs the signed payload to one URL; any non-2xx answer or network error is a failure."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret_env: str,
        *,
        timeout_s: float = 10.0,
        max_attempts: int | None = None,
        dashboard_url: str | None = None,
    ) -> None:
        secret = os.environ.get(secret_env, "")
        if not secret:
            raise VoicemailError(
                f"webhook secret: environment variable {secret_env} is not set or empty"
            )
        self.url = url
        self.max_attempts = max_attempts
        """Attempts before giving up (None: the notifier's default)."""
        self.dashboard_url = dashboard_url
        self._secret = secret.encode("utf-8")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, vm: VoicemailRecord) -> None:
        """Deliver one notification."""
        payload = voicemail_payload(vm, self.dashboard_url)
        body = json.dumps(payload, sort_keys=True).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery_id(vm),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self.url, data=body, headers=headers) as resp,
            ):
                if not 200 <= resp.status < 300:
                    text = (await resp.text())[:200]
                    raise NotifyError(f"webhook {self.url} answered {resp.status}: {text}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NotifyError(f"webhook {self.url}: {type(exc).__name__}: {exc}") from exc
