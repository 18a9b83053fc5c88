"""Durable call records in SQLite (one box) or PostgreSQL (a pool of workers, ``store.url``):
one writer task, a reader, numbered migrations shared by both.

Typical use by a call session::

    async with Store(path) as store:
        await store.calls.start_call(call_id, line, caller, did)
        await store.calls.add_turn(call_id, "caller", text, confidence, start_ms, end_ms)
        await store.calls.finish_call(call_id, Outcome.RESOLVED)
"""

from ari_app.store.calls import CallStore
from ari_app.store.errors import StoreError
from ari_app.store.models import (
    CallRecord,
    Event,
    Notification,
    Outcome,
    Turn,
    VoicemailRecord,
    VoicemailState,
)
from ari_app.store.reader import StoreReader
from ari_app.store.store import Store
from ari_app.store.voicemails import VoicemailStore

__all__ = [
    "CallRecord",
    "CallStore",
    "Event",
    "Notification",
    "Outcome",
    "Store",
    "StoreError",
    "StoreReader",
    "Turn",
    "VoicemailRecord",
    "VoicemailState",
    "VoicemailStore",
]
