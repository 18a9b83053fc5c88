"""Process-wide named monotonic counters: the bottom layer every other layer may count into.

The ARI listener, the RTP transport and the config loader sit below the dashboard, so they
cannot import ``ari_app.web.metrics``. They count here instead; ``/metrics`` renders every
counter of this registry (``all_counters()``) next to its own metrics.

Counters are thread-safe (recognizer and loader threads count too), never go down, and
carry a Prometheus-style name, a help text and optional label names. This module imports
nothing from the rest of ``ari_app``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

LabelValues = tuple[str, ...]

_MAX_SERIES = 1000
"""Label combinations kept per counter; later new ones go to an ``overflow`` series.

Labels may carry values an impostor chose (an event's ``type``), so a counter must not
grow without bound.
"""


class Counter:
    """One named counter, optionally split into series by label values."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()
        self._values: dict[LabelValues, float] = {} if self.label_names else {(): 0.0}

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(
                f"counter {self.name} takes labels {list(self.label_names)}, got {sorted(labels)}"
            )
        return tuple(str(labels[n])[:64] for n in self.label_names)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (>= 0) to the series named by ``labels``."""
        if not amount >= 0:
            raise ValueError("a counter cannot go down")
        key = self._key(labels)
        with self._lock:
            if key not in self._values and len(self._values) >= _MAX_SERIES:
                key = tuple("overflow" for _ in self.label_names)
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 if never incremented)."""
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def total(self) -> float:
        """The sum over every series."""
        with self._lock:
            return sum(self._values.values())

    def samples(self) -> list[tuple[LabelValues, float]]:
        """Every series as ``(label values, value)``, sorted by label values."""
        with self._lock:
            return sorted(self._values.items())


_REGISTRY: dict[str, Counter] = {}
_REGISTRY_LOCK = threading.Lock()


def counter(name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
    """The counter called ``name``, created on first use (same labels required later)."""
    with _REGISTRY_LOCK:
        existing = _REGISTRY.get(name)
        if existing is not None:
            if existing.label_names != tuple(labels):
                raise ValueError(f"counter {name} exists with labels {existing.label_names}")
            return existing
        created = Counter(name, help_text, labels)
        _REGISTRY[name] = created
        return created


def all_counters() -> list[Counter]:
    """Every registered counter, in registration order (for rendering)."""
    with _REGISTRY_LOCK:
        return list(_REGISTRY.values())


ARI_RECONNECTS = counter(
    "ari_app_ari_reconnects_total", "Reconnections of the ARI events WebSocket."
)
ARI_MALFORMED_EVENTS = counter(
    "ari_app_ari_malformed_events_total",
    "ARI event frames refused (undecodable, too big, too deep, non-finite numbers, invalid).",
    labels=("reason", "type"),
)
ARI_HANDLER_ERRORS = counter(
    "ari_app_ari_handler_errors_total",
    "ARI events whose handler raised (the listener carried on).",
    labels=("type",),
)
RTP_DROPPED_PACKETS = counter(
    "ari_app_dropped_packets_total",
    "Media packets dropped (malformed, unexpected payload, late).",
    labels=("reason",),
)
RTP_FOREIGN_PACKETS = counter(
    "ari_app_rtp_foreign_packets_total",
    "RTP packets dropped because they came from an address or port other than Asterisk's.",
)
CONFIG_RELOAD_FAILURES = counter(
    "ari_app_config_reload_failures_total",
    "Configuration reloads refused (the last good configuration stayed in force).",
)
DASHBOARD_REJECTED_CONNECTIONS = counter(
    "ari_app_dashboard_rejected_connections_total",
    "Dashboard connections refused or closed (connection limit, header or idle timeout).",
    labels=("reason",),
)
