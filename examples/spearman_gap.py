"""An example metric plugin (not a metric from the literature): the Spearman gap.

Per factor, the absolute Spearman rank correlation of every latent with it; the
score is the mean over factors of the gap between the two largest, like SAP's
gap but on ranks, so a monotone warp of a latent changes nothing.  It is here to
show how a metric of your own is compared with all the built-in ones:

    python run_protocol.py --attack all --quick --metric examples/spearman_gap.py:spearman_gap
"""
import numpy as np
from scipy.stats import rankdata


def spearman_gap(rep, rng, num_samples=10000):
    """Mean over factors of the gap between the two largest |Spearman rho| of the latents."""
    factors = rep.space.sample(num_samples, rng)
    codes = rep.encode(factors, rng)
    ranks = [rankdata(a, axis=0) for a in (codes, factors)]
    z, y = ((r - r.mean(axis=0)) / (r.std(axis=0) + 1e-12) for r in ranks)
    rho = np.abs(z.T @ y) / len(z)  # (latents, factors)
    top = -np.sort(-rho, axis=0)
    second = top[1] if len(top) > 1 else 0.0
    return {"spearman_gap": float(np.mean(top[0] - second))}


spearman_gap.headline = "spearman_gap"
spearman_gap.target = "compactness"  # one latent per factor: what the report card holds it to
