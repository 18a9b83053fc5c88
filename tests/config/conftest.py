"""Fixtures: a private copy of the sample config that a test may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config/ (YAML files, recorded messages, knowledge base) in a temporary
    directory."""
    target = tmp_path / "config"
    target.mkdir()
    for name in ("app.yaml", "people.yaml", "lines.yaml"):
        shutil.copy(SAMPLE / name, target / name)
    shutil.copytree(SAMPLE / "sounds", target / "sounds")  # recorded messages lines.yaml names
    shutil.copytree(SAMPLE / "knowledge", target / "knowledge")  # validated with the config
    return target
