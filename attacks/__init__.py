"""Entanglement attacks, one private module per family, declared as :class:`AttackSpec` data.

An attack is ``attack(rep, level, rng) -> Representation``; level 0 means no
entanglement.  :data:`SPECS` lists the built-in attacks in the order the
runner shows them; :func:`get` resolves a name, and names joined with ``+``
compose: ``"rotation+redundancy"`` applies rotation, then redundancy, at the
same level.

>>> from benchmark import FactorSpace, ideal
>>> rep = get("redundancy")(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0)
>>> rep.dim
4
"""
from __future__ import annotations

from benchmark.validation import BenchmarkError, unknown_name

from . import (
    _circular,
    _cyclic,
    _duplicate,
    _missing,
    _mixing_noise,
    _noise,
    _nuisance,
    _permute,
    _redundancy,
    _rescale,
    _rotation,
    _synergy,
    _warp,
    _xor,
)
from ._circular import circular
from ._cyclic import cyclic
from ._duplicate import duplicate
from ._missing import missing
from ._mixing_noise import mixing_noise
from ._noise import noise
from ._nuisance import nuisance
from ._permute import permute
from ._redundancy import redundancy
from ._rescale import rescale
from ._rotation import pair_rotation, rotation
from ._spec import MAX_LATENTS, AttackSpec, compose, expect, geometric_grid, reflection, why
from ._synergy import synergy
from ._warp import warp
from ._xor import xor

#: The built-in attacks, in listing order: the paper's five, the kinds of entanglement
#: of the metric review, then the changes a metric should ignore.
SPECS = (_noise.SPEC, _duplicate.SPEC, _redundancy.SPEC, _rotation.SPEC, _synergy.SPEC,
         _mixing_noise.SPEC, _cyclic.SPEC, _circular.SPEC, _xor.SPEC, _missing.SPEC,
         _warp.SPEC, _nuisance.SPEC, _permute.SPEC, _rescale.SPEC)

_BY_NAME = {spec.name: spec for spec in SPECS}

__all__ = ["MAX_LATENTS", "SPECS", "AttackSpec", "circular", "compose", "cyclic", "duplicate", "expect",
           "geometric_grid", "get", "missing", "mixing_noise", "names", "noise", "nuisance",
           "pair_rotation", "permute", "redundancy", "reflection", "register", "rescale",
           "rotation", "synergy", "warp", "why", "xor"]


def names() -> list[str]:
    """Built-in attack names, in listing order."""
    return list(_BY_NAME)


def get(name: str) -> AttackSpec:
    """The attack ``name``; ``a+b`` composes attacks in order."""
    parts = [p.strip() for p in str(name).split("+")]
    for p in parts:
        if p not in _BY_NAME:
            raise unknown_name("attack", p, _BY_NAME)
    if len(parts) == 1:
        return _BY_NAME[parts[0]]
    return compose(_BY_NAME[p] for p in parts)


def register(spec: AttackSpec) -> AttackSpec:
    """Make a user's attack available by name in this process (built-in names are refused).

    For experiments from Python; a built-in attack is added as a module of this
    package and an entry of :data:`SPECS`.
    """
    if not isinstance(spec, AttackSpec):
        raise BenchmarkError(f"register takes an AttackSpec, got {type(spec).__name__}")
    if spec.name in {s.name for s in SPECS} or "+" in spec.name:
        raise BenchmarkError(f"attack name {spec.name!r} is taken or contains '+'")
    _BY_NAME[spec.name] = spec
    return spec
