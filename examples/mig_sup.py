"""An example metric plugin: MIG-sup (Li et al., 2020).

MIG asks, per *factor*, whether one latent stands out; MIG-sup asks, per
*latent*, whether it carries one factor more than any other (modularity).
Run it against every attack without touching the package:

    python run_protocol.py --attack all --quick --metric examples/mig_sup.py:mig_sup
"""
import numpy as np

from benchmark.information import discrete_entropy, discrete_mutual_info, discretize


def mig_sup(rep, rng, num_samples=10000, num_bins=20):
    """Mean over latents of the gap between the two largest normalised MIs."""
    factors = rep.space.sample(num_samples, rng)
    codes = rep.encode(factors, rng)
    mi = discrete_mutual_info(discretize(codes, num_bins), factors)  # (latents, factors)
    normalised = mi / discrete_entropy(factors)[None, :]
    top = -np.sort(-normalised, axis=1)
    second = top[:, 1] if top.shape[1] > 1 else 0.0
    return {"mig_sup": float(np.mean(top[:, 0] - second))}


mig_sup.headline = "mig_sup"
mig_sup.target = "modularity"  # what the report card holds it to
