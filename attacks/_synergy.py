"""Synergistic key pad: ``(z + level * m, m)`` with independent ``m ~ N(0, I)``."""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, geometric_grid, why

__all__ = ["SPEC", "synergy"]


def synergy(rep, level, rng):
    """Mask every latent with an independent Gaussian pad that is appended as well.

    >>> from benchmark import FactorSpace, ideal
    >>> synergy(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0).dim
    4
    """
    eye = np.eye(rep.dim)
    zero = np.zeros((rep.dim, rep.dim))
    return linear_transform(rep, np.vstack([eye, zero]), np.vstack([level * eye, eye]),
                            name=f"synergy({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "synergy", synergy, levels=geometric_grid(-6, 2), quick_levels=(0.0, 0.25, 1.0, 4.0),
    description="(z + level * m, m): only the pair of latents together carries the factor",
    expect=expect("flat", "fall", "flat", "flat", "fall"),
    why=why('no latent carries two factors (the pad m is no factor)',
            'the factor is readable only from the pair (z + level m, m)',
            "still linear: z = z' - level m",
            'the pair keeps all of it',
            'neither latent alone carries the factor: it is synergistic'))
