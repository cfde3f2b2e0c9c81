"""Entanglement attacks, one module per family, registered by name.

An attack is ``attack(rep, level, rng) -> Representation``; level 0 means no
entanglement.  Names joined with ``+`` compose: ``"rotation+redundancy"``
applies rotation, then redundancy, at the same level.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmark.validation import BenchmarkError, check_level, check_rng


@dataclass(frozen=True)
class AttackSpec:
    """A registered attack with its default and ``--quick`` level grids."""

    name: str
    func: Callable
    levels: tuple
    quick_levels: tuple
    description: str

    def __call__(self, rep, level, rng):
        return self.func(rep, check_level(level), check_rng(rng))


_ATTACKS: dict[str, AttackSpec] = {}


def register(name, levels, quick_levels, description):
    """Decorator adding an attack function to the registry."""

    def decorate(func):
        _ATTACKS[name] = AttackSpec(name, func, tuple(levels), tuple(quick_levels), description)
        return func

    return decorate


def names() -> list[str]:
    """Registered attack names, in registration order."""
    return list(_ATTACKS)


def get(name: str) -> AttackSpec:
    """The attack ``name``; ``a+b`` composes registered attacks in order."""
    parts = [p.strip() for p in str(name).split("+")]
    for p in parts:
        if p not in _ATTACKS:
            raise BenchmarkError(f"unknown attack {p!r}; available: {', '.join(_ATTACKS)}")
    if len(parts) == 1:
        return _ATTACKS[parts[0]]
    specs = [_ATTACKS[p] for p in parts]
    return AttackSpec(
        "+".join(parts),
        _Composed(tuple(specs)),
        levels=specs[0].levels,
        quick_levels=specs[0].quick_levels,
        description=" then ".join(s.name for s in specs),
    )


class _Composed:
    def __init__(self, specs):
        self.specs = specs

    def __call__(self, rep, level, rng):
        for spec in self.specs:
            rep = spec.func(rep, level, rng)
        return rep


def geometric_grid(lowest_exponent: int, highest_exponent: int) -> tuple:
    """``0`` followed by ``2**e`` for ``e`` in the inclusive exponent range."""
    return (0.0,) + tuple(float(2.0**e) for e in range(lowest_exponent, highest_exponent + 1))


def reflection(dim: int) -> np.ndarray:
    """The paper's orthogonal mixing matrix ``U = I - (2/L) 1 1^T``."""
    return np.eye(dim) - (2.0 / dim) * np.ones((dim, dim))


# Registration happens on import of each module; order sets the listing order.
from . import noise, duplicate, redundancy, rotation, synergy  # noqa: E402,F401
