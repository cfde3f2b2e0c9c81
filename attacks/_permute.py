"""An invariance check: latents permuted.

Which latent carries which factor is arbitrary; every metric should be
invariant to the order of the latents (a requirement in Carbonneau et al. 2022 and
Ridgeway & Zemel 2018).  Level ``a`` in ``[0, 1]`` moves ``round(a L)``
latents by a random cycle among themselves (the attack's ``rng`` picks which);
the attacked representation is information-equivalent to the original one.
"""
import numpy as np

from benchmark.representations import map_latents
from benchmark.validation import check_rng

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "permute"]


def permute(rep, level, rng):
    """Cycle ``round(min(level, 1) * dim)`` randomly chosen latents.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = permute(ideal(FactorSpace.synthetic([3, 4, 5])), 1.0, 0)
    >>> sorted(rep.order.tolist()), bool((rep.order != [0, 1, 2]).all())
    ([0, 1, 2], True)
    """
    rng = check_rng(rng)
    moved = int(round(min(level, 1.0) * rep.dim))
    ranking = rng.permutation(rep.dim)  # the same draw at every level: levels nest
    order = np.arange(rep.dim)
    if moved >= 2:
        chosen = np.sort(ranking[:moved])
        order[chosen] = np.roll(chosen, 1)  # one cycle: every chosen latent moves
    return map_latents(rep, order=order, name=f"permute({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "permute", permute, levels=(0.0, 0.25, 0.5, 0.75, 1.0), quick_levels=(0.0, 1.0),
    description="round(level L) latents permuted: an invariance check, nothing should move",
    max_level=1.0,
    expect=expect("flat", "flat", "flat", "flat", "flat"),
    why=why('which latent comes first is arbitrary',
            'the order of latents changes no latent',
            'a read-out does not depend on column order',
            'reordering loses nothing',
            'each latent carries what it carried'))
