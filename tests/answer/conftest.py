"""Shared fixtures for the answer engine tests: the real model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.answer.embedder import Embedder, get_embedder
from ari_app.answer.engine import AnswerEngine
from ari_app.config import load_config
from ari_app.config.models import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled sentence-embedding model (loaded once for the whole test session)."""
    return get_embedder()


@pytest.fixture(scope="session")
def config() -> Config:
    """The sample Harbour Light Dental configuration."""
    return load_config(CONFIG_DIR)


@pytest.fixture(scope="session")
def engine(config: Config, embedder: Embedder) -> AnswerEngine:
    """The answer engine of the sample line ``main``."""
    return AnswerEngine.for_line(config, "main", embedder=embedder)
