"""Metrics: the registry served at ``/metrics`` and the listener that feeds it from calls."""
