"""Pairwise rotation of latents (0,1), (2,3), ... by ``level * pi/4``."""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "pair_rotation", "rotation"]


def pair_rotation(dim: int, angle: float) -> np.ndarray:
    """Block-diagonal rotation of the pairs (0,1), (2,3), ...; an odd last latent is kept."""
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.eye(dim)
    for i in range(0, dim - 1, 2):
        matrix[i:i + 2, i:i + 2] = [[c, -s], [s, c]]
    return matrix


def rotation(rep, level, rng):
    """Rotate disjoint latent pairs by ``level * 45`` degrees (level 1 mixes them evenly).

    >>> import numpy as np
    >>> np.round(pair_rotation(3, np.pi / 4), 3).tolist()  # level 1; latent 2 has no partner
    [[0.707, -0.707, 0.0], [0.707, 0.707, 0.0], [0.0, 0.0, 1.0]]
    """
    return linear_transform(rep, pair_rotation(rep.dim, level * np.pi / 4),
                            name=f"rotation({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "rotation", rotation, levels=tuple(i / 8 for i in range(9)), quick_levels=(0.0, 0.5, 1.0),
    description="rotate latent pairs by level * 45 degrees",
    max_level=2.0, unit=("rotation angle (degrees)", 45.0),
    expect=expect("fall", "fall", "flat", "flat", "fall"),
    why=why('a rotated pair: each latent carries two factors',
            'each factor is spread over two latents',
            'an invertible linear map: a linear read-out undoes it',
            'an invertible map loses nothing',
            'no latent alone carries a factor fully'))
