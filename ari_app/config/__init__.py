"""Configuration: YAML files with file:line marks, one schema, validation and reload."""

from ari_app.config.loader import ConfigError, load_config
from ari_app.config.marked_yaml import ConfigProblem
from ari_app.config.models import Config
from ari_app.config.reload import ConfigHolder

__all__ = ["Config", "ConfigError", "ConfigHolder", "ConfigProblem", "load_config"]
