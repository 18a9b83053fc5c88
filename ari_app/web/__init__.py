"""Dashboard and metrics.

``ari_app.web.app.start_dashboard(reader, token)`` serves the dashboard;
``ari_app.web.metrics`` is the process-wide registry every part increments
(kept import-light: this package imports nothing on purpose, the store uses the metrics).
"""
