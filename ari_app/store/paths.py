"""Where the store lives: ``store.path`` (or ``store.url``) and ``store.voicemail_dir``.

Only app.yaml's ``store`` section is read (with the config schema's ``StoreSettings``), so
record commands work even while lines.yaml or people.yaml is being edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from ari_app.config.models import StoreSettings
from ari_app.store.errors import StoreError

DEFAULT_DB = Path("var/ari_app.sqlite3")
DEFAULT_VOICEMAIL_DIR = Path("var/voicemail")


@dataclass(frozen=True)
class StorePaths:
    """The database file and the voicemail directory."""

    db: Path
    voicemail_dir: Path


def store_settings(app_yaml: Path = Path("config/app.yaml")) -> StoreSettings:
    """The ``store`` section of ``app_yaml``; defaults when the file or the section is absent."""
    try:
        text = app_yaml.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StoreSettings()
    except OSError as exc:
        raise StoreError(f"cannot read {app_yaml}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StoreError(f"{app_yaml} is not valid YAML: {exc}") from exc
    section = data.get("store") if isinstance(data, dict) else None
    if section is None:
        return StoreSettings()
    try:
        return StoreSettings.model_validate(section)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("store", *first["loc"]))
        raise StoreError(f"{app_yaml}: {where}: {first['msg']}") from None


def store_paths(app_yaml: Path = Path("config/app.yaml")) -> StorePaths:
    """The store paths from ``app_yaml``; defaults when the file or its ``store`` is absent."""
    settings = store_settings(app_yaml)
    return StorePaths(Path(settings.path), Path(settings.voicemail_dir))
