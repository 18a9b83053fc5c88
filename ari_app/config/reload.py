"""Keeps the last good configuration; a reload that finds problems changes nothing.

A reload reads every file again, the knowledge bases included, within the bounds of the
YAML reader. On the event loop (SIGHUP) use :meth:`ConfigHolder.request_reload`: the
reading and validation run in a worker thread, so a slow disk or a hostile file never
blocks calls in progress; reloads requested meanwhile are folded into one more.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ari_app import counters
from ari_app.config.loader import ConfigError, load_config
from ari_app.config.marked_yaml import ConfigProblem
from ari_app.config.models import Config

_LOGGER = logging.getLogger(__name__)


class ConfigHolder:
    """The configuration in force, reloadable (e.g. on SIGHUP) without ever going bad."""

    def __init__(self, config_dir: Path | str) -> None:
        self.config_dir = Path(config_dir)
        self.current: Config = load_config(self.config_dir)
        self.generation = 1
        """Bumped on every successful reload."""
        self._task: asyncio.Task[ConfigError | None] | None = None
        self._again = False

    def _load(self) -> Config | ConfigError:
        try:
            return load_config(self.config_dir)
        except ConfigError as err:
            return err
        except Exception as err:  # a reader bug must never take the running config down
            _LOGGER.exception("unexpected error reading the configuration")
            return ConfigError([ConfigProblem(self.config_dir, None, "", f"cannot load: {err!r}")])

    def _apply(self, result: Config | ConfigError) -> ConfigError | None:
        if isinstance(result, ConfigError):
            counters.CONFIG_RELOAD_FAILURES.inc()
            _LOGGER.error("config reload failed, keeping the last good config:\n%s", result)
            return result
        self.current = result
        self.generation += 1
        _LOGGER.info("config reloaded from %s (generation %d)", self.config_dir, self.generation)
        return None

    def reload(self) -> ConfigError | None:
        """Re-read the directory now; on problems keep the current config and return them."""
        return self._apply(self._load())

    async def reload_async(self) -> ConfigError | None:
        """Like :meth:`reload`, reading and validating in a worker thread."""
        return self._apply(await asyncio.to_thread(self._load))

    def request_reload(self) -> asyncio.Task[ConfigError | None]:
        """Start a reload in the background (for a signal handler); returns its task.

        One reload runs at a time; requests made while it runs give one more afterwards.
        """
        if self._task is not None and not self._task.done():
            self._again = True
            return self._task
        self._task = asyncio.get_running_loop().create_task(
            self._reload_until_settled(), name="config-reload"
        )
        return self._task

    async def _reload_until_settled(self) -> ConfigError | None:
        while True:
            self._again = False
            result = await self.reload_async()
            if not self._again:
                return result
