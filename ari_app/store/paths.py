"""Where the store lives: ``store.path`` and ``store.voicemail_dir`` of ``config/app.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ari_app.config.models import StoreSettings

DEFAULT_DB = Path("var/ari_app.sqlite3")
DEFAULT_VOICEMAIL_DIR = Path("var/voicemail")


@dataclass(frozen=True)
class StorePaths:
    """The database file and the voicemail directory."""

    db: Path
    voicemail_dir: Path


def store_paths(app_yaml: Path = Path("config/app.yaml")) -> StorePaths:
    """The store paths from ``app_yaml`` if it exists and has a ``store`` section, else defaults."""
    try:
        data = yaml.safe_load(app_yaml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return StorePaths(DEFAULT_DB, DEFAULT_VOICEMAIL_DIR)
    section = data.get("store") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        return StorePaths(DEFAULT_DB, DEFAULT_VOICEMAIL_DIR)
    try:
        settings = StoreSettings.model_validate(section)
    except ValueError:
        return StorePaths(DEFAULT_DB, DEFAULT_VOICEMAIL_DIR)
    return StorePaths(Path(settings.path), Path(settings.voicemail_dir))
