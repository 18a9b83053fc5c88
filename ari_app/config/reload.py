"""Keeps the last good configuration; a reload that finds problems changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from ari_app.config.loader import ConfigError, load_config
from ari_app.config.models import Config

_LOGGER = logging.getLogger(__name__)


class ConfigHolder:
    """The configuration in force, reloadable (e.g. on SIGHUP) without ever going bad."""

    def __init__(self, config_dir: Path | str) -> None:
        self.config_dir = Path(config_dir)
        self.current: Config = load_config(self.config_dir)
        self.generation = 1
        """Bumped on every successful reload."""

    def reload(self) -> ConfigError | None:
        """Re-read the directory; on problems keep the current config and return the error."""
        try:
            new = load_config(self.config_dir)
        except ConfigError as err:
            _LOGGER.error("config reload failed, keeping the last good config:\n%s", err)
            return err
        self.current = new
        self.generation += 1
        _LOGGER.info("config reloaded from %s (generation %d)", self.config_dir, self.generation)
        return None
