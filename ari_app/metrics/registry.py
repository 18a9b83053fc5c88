"""A small in-process metrics registry with the Prometheus text exposition format.

The call metrics are fed by the call event stream (:mod:`ari_app.metrics.calls`); the
voicemail service counts its jobs and notifications here; the layers below (ARI, RTP,
config) count in :mod:`ari_app.counters`, and ``REGISTRY.render()`` renders every counter
of that registry too. The dashboard serves ``render()`` at ``/metrics``. Thread-safe:
recognizer threads may observe too. This module imports only :mod:`ari_app.counters`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from typing import TypeVar

from ari_app import counters as _counters

LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


M = TypeVar("M", bound="_Metric")


class _Metric:
    """Common part of every metric: name, help text, label names and a lock."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(
                f"metric {self.name} takes labels {list(self.label_names)}, got {sorted(labels)}"
            )
        return tuple(str(labels[n]) for n in self.label_names)

    def samples(self) -> Iterable[str]:
        """Yield the sample lines of this metric."""
        raise NotImplementedError

    def render(self) -> str:
        """The metric in the Prometheus text format, with HELP and TYPE lines."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        lines.extend(self.samples())
        return "\n".join(lines) + "\n"


class _Series(_Metric):
    """A metric holding one number per label combination."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {} if labels else {(): 0.0}

    def _add(self, amount: float, labels: dict[str, str]) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 if never set)."""
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        """Yield one line per series."""
        with self._lock:
            items = sorted(self._values.items())
        for key, value in items:
            yield f"{self.name}{_format_labels(self.label_names, key)} {_format_value(value)}"


class Counter(_Series):
    """A value that only goes up."""

    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (>= 0) to the series named by ``labels``."""
        if amount < 0:
            raise ValueError("a counter cannot go down")
        self._add(amount, labels)


class Gauge(_Series):
    """A value that goes up and down."""

    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        """Set the series to ``value``."""
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the series."""
        self._add(amount, labels)

    def dec(self, amount: float = 1.0, **labels: str) -> None:
        """Subtract ``amount`` from the series."""
        self._add(-amount, labels)


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> None:
        super().__init__(name, help_text, labels)
        if list(buckets) != sorted(buckets) or not buckets:
            raise ValueError("histogram buckets must be a non-empty ascending list")
        self.buckets = tuple(float(b) for b in buckets)
        self._counts: dict[LabelValues, list[int]] = {}
        self._sums: dict[LabelValues, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        """Count one observation."""
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
                    break
            else:
                counts[-1] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        """How many observations the series holds."""
        with self._lock:
            return sum(self._counts.get(self._key(labels), []))

    def samples(self) -> Iterable[str]:
        """Yield bucket, sum and count lines per series."""
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        for key, counts, total in items:
            running = 0
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                running += n
                le = f'le="{_format_value(bound)}"'
                labels = _format_labels(self.label_names, key, le)
                yield f"{self.name}_bucket{labels} {running}"
            plain = _format_labels(self.label_names, key)
            yield f"{self.name}_sum{plain} {_format_value(total)}"
            yield f"{self.name}_count{plain} {running}"


class Registry:
    """A set of metrics rendered together."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def register(self, metric: M) -> M:
        """Add a metric; its name must be new."""
        with self._lock:
            if metric.name in self._metrics:
                raise ValueError(f"metric {metric.name} is already registered")
            self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        """Every metric in the Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            metrics: list[_Metric] = list(self._metrics.values())
        names = {m.name for m in metrics}
        shared = [_SharedCounter(c) for c in _counters.all_counters() if c.name not in names]
        return "".join(m.render() for m in [*metrics, *shared])


class _SharedCounter(_Metric):
    """Renders a counter of :mod:`ari_app.counters` (the layers below web count there)."""

    kind = "counter"

    def __init__(self, counter: _counters.Counter) -> None:
        super().__init__(counter.name, counter.help, counter.label_names)
        self._counter = counter

    def samples(self) -> Iterable[str]:
        """Yield one line per series."""
        for key, value in self._counter.samples():
            yield f"{self.name}{_format_labels(self.label_names, key)} {_format_value(value)}"


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Content-Type of the Prometheus text format."""

REGISTRY = Registry()
"""The process-wide registry served at ``/metrics``."""

CALLS = REGISTRY.register(
    Counter("ari_app_calls_total", "Finished calls by outcome.", labels=("outcome",))
)
ACTIVE_CALLS = REGISTRY.register(Gauge("ari_app_active_calls", "Calls in progress."))
TURN_LATENCY = REGISTRY.register(
    Histogram(
        "ari_app_turn_latency_seconds",
        "From the end of the caller's speech to the start of the reply.",
        buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
    )
)
ARI_RECONNECTS = _counters.ARI_RECONNECTS
"""Counted by the ARI layer in :mod:`ari_app.counters`; rendered by ``Registry.render``."""
DROPPED_PACKETS = _counters.RTP_DROPPED_PACKETS
"""Counted by the media layer in :mod:`ari_app.counters`; rendered by ``Registry.render``."""
VOICEMAILS = REGISTRY.register(
    Counter("ari_app_voicemails_total", "Voicemail jobs finished by result.", labels=("result",))
)
NOTIFICATIONS = REGISTRY.register(
    Counter(
        "ari_app_notifications_total",
        "Voicemail notifications by channel and result.",
        labels=("channel", "result"),
    )
)
