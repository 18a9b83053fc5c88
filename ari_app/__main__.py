"""Allows ``python -m ari_app``."""

from ari_app.cli import main

raise SystemExit(main())
