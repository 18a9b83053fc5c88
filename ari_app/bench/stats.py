"""Figures from samples, shared by every benchmark: one percentile definition for all."""

from __future__ import annotations

import numpy as np


def percentile(values: list[float] | list[int], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation between the closest ranks, as
    numpy's default), None when there is nothing."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def rounded(value: float | None, digits: int = 0) -> float | None:
    return None if value is None else round(value, digits)
