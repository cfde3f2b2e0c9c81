"""The paper's redundancy attack: ``(z, level * U z + eps)`` with ``U = I - (2/L) 1 1^T``."""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, geometric_grid, reflection, why

__all__ = ["SPEC", "redundancy"]


def redundancy(rep, level, rng):
    """Append ``level * U z + eps``; every appended dimension mixes all latents.

    >>> from benchmark import FactorSpace, ideal
    >>> redundancy(ideal(FactorSpace.synthetic([3, 4, 5])), 1.0, 0).dim
    6
    """
    eye = np.eye(rep.dim)
    zero = np.zeros((rep.dim, rep.dim))
    return linear_transform(rep, np.vstack([eye, level * reflection(rep.dim)]),
                            np.vstack([zero, eye]), name=f"redundancy({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "redundancy", redundancy, levels=geometric_grid(-2, 6), quick_levels=(0.0, 1.0, 4.0, 64.0),
    description="(z, level * U z + eps): a rotated noisy copy mixing all latents (Tokui & Sato)",
    expect=expect("fall", "fall", "flat", "flat", "fall"),
    why=why('the rotated copy mixes all latents: each carries several factors',
            "each factor is spread over the copy's latents too",
            'the originals still give the linear read-out',
            'a noisy copy adds no information',
            "the copy repeats the originals' information: redundant, not unique"))
