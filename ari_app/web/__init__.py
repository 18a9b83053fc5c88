"""Dashboard and metrics."""
