"""Configuration: YAML files with file:line marks, one schema, validation and reload."""
