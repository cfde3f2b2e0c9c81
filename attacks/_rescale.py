"""An invariance check: each latent multiplied by a positive or negative factor.

The units and the sign of a latent are arbitrary; metrics should not depend on
them (Carbonneau et al. 2022).  Latent ``l`` is multiplied by ``s_l exp(a g_l)``
with ``g_l ~ N(0, 1)`` and a sign ``s_l`` that is negative with probability
``min(a, 1) / 2`` (both drawn from the attack's ``rng``, the same draws at
every level); level 0 is the identity.  The attacked representation is
information-equivalent to the original one.
"""
import numpy as np

from benchmark.representations import map_latents
from benchmark.validation import check_rng

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "Scale", "rescale"]


class Scale:
    """Multiply column ``l`` by ``factors[l]``."""

    def __init__(self, factors):
        self.factors = np.asarray(factors, dtype=float)

    def __call__(self, z):
        return z * self.factors


def rescale(rep, level, rng):
    """Multiply each latent by ``s_l exp(level g_l)``.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = rescale(ideal(FactorSpace.synthetic([3, 4])), 0.0, 0)
    >>> rep.latent_map.factors.tolist()
    [1.0, 1.0]
    """
    rng = check_rng(rng)
    g = rng.standard_normal(rep.dim)
    u = rng.random(rep.dim)
    signs = np.where(u < min(level, 1.0) / 2, -1.0, 1.0)
    return map_latents(rep, latent_map=Scale(signs * np.exp(level * g)),
                       name=f"rescale({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "rescale", rescale, levels=(0.0, 0.25, 0.5, 1.0, 2.0, 3.0), quick_levels=(0.0, 1.0, 3.0),
    description="each latent times s exp(level g), sign flips too: an invariance check",
    expect=expect("flat", "flat", "flat", "flat", "flat"),
    why=why('units and signs of a latent are arbitrary',
            'a rescaled latent is the same latent',
            'a linear read-out absorbs a scale',
            'an invertible scaling loses nothing',
            'information is unchanged by rescaling'))
