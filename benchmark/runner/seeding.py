"""Where every random draw of a sweep comes from.

The attack's generator is seeded by (seed, attack) and each metric's by (seed,
metric), the same at every level of one seed (common random numbers): the
differences between levels come from the attack, not from resampling, and a
cell's result does not depend on which other cells ran, in which order or in
which process.
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["attack_rng", "metric_rng", "stable_hash"]


def stable_hash(text: str) -> int:
    """A hash of ``text`` that is the same in every process (unlike ``hash``)."""
    return zlib.crc32(text.encode("utf-8"))


def attack_rng(seed: int, attack: str) -> np.random.Generator:
    """The attack's randomness: shared by all levels of one seed."""
    return np.random.default_rng([seed, stable_hash("attack:" + attack)])


def metric_rng(seed: int, metric: str) -> np.random.Generator:
    """A metric's randomness: the same draws at every level of one seed."""
    return np.random.default_rng([seed, stable_hash("metric:" + metric)])
