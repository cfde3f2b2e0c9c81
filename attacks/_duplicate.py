"""Factor-aligned duplication: ``(z, level * z + eps)``."""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, geometric_grid, why

__all__ = ["SPEC", "duplicate"]


def duplicate(rep, level, rng):
    """Append a noisy scaled copy of every latent (dimension doubles).

    >>> from benchmark import FactorSpace, ideal
    >>> duplicate(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0).dim
    4
    """
    eye = np.eye(rep.dim)
    zero = np.zeros((rep.dim, rep.dim))
    return linear_transform(rep, np.vstack([eye, level * eye]), np.vstack([zero, eye]),
                            name=f"duplicate({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "duplicate", duplicate, levels=geometric_grid(-2, 6), quick_levels=(0.0, 1.0, 4.0, 64.0),
    description="(z, level * z + eps): a noisy copy aligned with the factors",
    expect=expect("flat", "fall", "flat", "flat", "fall"),
    why=why('each copy carries the same one factor as its original',
            'each factor now sits in two latents',
            'the originals still give the linear read-out',
            'a copy adds no information',
            "the copy makes each latent's information redundant, not unique"))
