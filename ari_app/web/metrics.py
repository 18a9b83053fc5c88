"""The metrics the dashboard serves at ``/metrics`` (the registry is :mod:`ari_app.metrics`)."""

from __future__ import annotations

from ari_app.metrics.registry import (
    ACTIVE_CALLS,
    ARI_RECONNECTS,
    CALLS,
    CONTENT_TYPE,
    DROPPED_PACKETS,
    NOTIFICATIONS,
    REGISTRY,
    TURN_LATENCY,
    VOICEMAILS,
    Counter,
    Gauge,
    Histogram,
    Registry,
)

__all__ = [
    "ACTIVE_CALLS",
    "ARI_RECONNECTS",
    "CALLS",
    "CONTENT_TYPE",
    "DROPPED_PACKETS",
    "NOTIFICATIONS",
    "REGISTRY",
    "TURN_LATENCY",
    "VOICEMAILS",
    "Counter",
    "Gauge",
    "Histogram",
    "Registry",
]
