"""The metric review's compactness/modularity mixing: ``z' = P z``, ``P = (1 - a) I + a S``.

Carbonneau et al., *Measuring Disentanglement: A Review of Metrics* (2022), section
5.3: ``S`` is the cyclic shift, so latent ``l`` becomes ``(1 - a) z_l + a
z_{l+1}``: every latent carries two factors and every factor sits in two
latents.  The grid stops at ``a = 7/16``, nearly an even mix: at ``a = 1/2``
the matrix is singular for an even number of latents (the alternating pattern
is lost), and beyond it the shifted copy dominates and the mixing undoes
itself.
"""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "cyclic", "cyclic_mixing"]


def cyclic_mixing(dim: int, a: float) -> np.ndarray:
    """``(1 - a) I + a S`` with ``S`` the cyclic shift (row ``l`` picks latent ``l + 1``).

    >>> cyclic_mixing(3, 0.25).tolist()
    [[0.75, 0.25, 0.0], [0.0, 0.75, 0.25], [0.25, 0.0, 0.75]]
    """
    return (1 - a) * np.eye(dim) + a * np.roll(np.eye(dim), 1, axis=1)


def cyclic(rep, level, rng):
    """Mix every latent with its cyclic neighbour, ``a = min(level, 7/16)`` (invertible)."""
    a = min(level, 7 / 16)
    return linear_transform(rep, cyclic_mixing(rep.dim, a), name=f"cyclic({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "cyclic", cyclic, levels=tuple(i / 16 for i in range(8)), quick_levels=(0.0, 0.25, 0.4375),
    description="P z, P = (1 - level) I + level S: each latent mixes two factors (the review's)",
    max_level=7 / 16,
    expect=expect("fall", "fall", "flat", "flat", "fall"),
    why=why('each latent mixes two factors',
            'each factor sits in two latents',
            'P is invertible below level 1/2: a linear read-out undoes it',
            'an invertible map loses nothing',
            'no latent alone carries a factor fully'))
