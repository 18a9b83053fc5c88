"""ARI: typed async REST client and events WebSocket on aiohttp, with reconnect.

Start here: :class:`AriClient` (REST), :class:`EventListener` (events with reconnect),
the typed events in :mod:`ari_app.ari.events` and the errors in :mod:`ari_app.ari.errors`.
"""

from ari_app.ari.client import AriClient, basic_auth_header
from ari_app.ari.errors import (
    AriConnectionError,
    AriError,
    AriHttpError,
    AriTimeout,
    BadRequest,
    ChannelGone,
    Conflict,
    InvalidState,
    NotFound,
    Unauthorized,
)
from ari_app.ari.listener import EventListener, EventStats
from ari_app.ari.reconnect import Backoff, ConnState

__all__ = [
    "AriClient",
    "AriConnectionError",
    "AriError",
    "AriHttpError",
    "AriTimeout",
    "Backoff",
    "BadRequest",
    "ChannelGone",
    "Conflict",
    "ConnState",
    "EventListener",
    "EventStats",
    "InvalidState",
    "NotFound",
    "Unauthorized",
    "basic_auth_header",
]
