"""Write an encodings file from a synthetic, imperfect "VAE-like" model of dSprites.

    python examples/make_encodings.py vae_like.npz
    python run_protocol.py --attack redundancy --encodings vae_like.npz

The file has the layout ``--encodings`` reads: ``factors`` (n, 5) value indices,
``codes`` (n, 7) posterior means, ``variances`` (n, 7) posterior variances,
``factor_names`` and ``factor_sizes``.  Its latents are deliberately flawed the
way trained VAEs are:

* z0 shape, z1 scale and z4 pos_y are clean (one factor each);
* z2 and z3 are orientation and pos_x rotated by 30 degrees (each mixes two factors);
* z5 is collapsed: its posterior is the prior N(0, 1) whatever the input;
* z6 is a noisy, partial duplicate of pos_y (redundancy).
"""
import argparse

import numpy as np

from benchmark import FactorSpace


def vae_like_encodings(num_rows: int, rng: np.random.Generator) -> dict:
    space = FactorSpace.named("dsprites")
    factors = space.sample(num_rows, rng)
    sizes = np.asarray(space.sizes, dtype=float)
    unit = (factors - (sizes - 1) / 2) / np.sqrt((sizes**2 - 1) / 12)  # standardised factors
    shape, scale, orientation, pos_x, pos_y = unit.T
    angle = np.pi / 6
    means = np.column_stack([
        shape,
        scale,
        np.cos(angle) * orientation - np.sin(angle) * pos_x,
        np.sin(angle) * orientation + np.cos(angle) * pos_x,
        pos_y,
        np.zeros(num_rows),
        0.6 * pos_y,
    ])
    posterior_sd = np.array([0.05, 0.08, 0.1, 0.1, 0.04, 1.0, 0.4])
    sd = posterior_sd * np.exp(0.1 * rng.standard_normal(means.shape))
    sd[:, 5] = 1.0  # collapsed latent: the posterior is the prior
    codes = means + 0.5 * sd * rng.standard_normal(means.shape)  # image-to-image jitter
    codes[:, 5] = 0.01 * rng.standard_normal(num_rows)
    return {
        "factors": factors,
        "codes": codes.astype(np.float32),
        "variances": (sd**2).astype(np.float32),
        "factor_names": np.array(space.names),
        "factor_sizes": np.array(space.sizes),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="vae_like.npz", help="output .npz path")
    parser.add_argument("--rows", type=int, default=20000, help="number of encoded examples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    arrays = vae_like_encodings(args.rows, np.random.default_rng(args.seed))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {args.rows} rows, {arrays['codes'].shape[1]} latents, "
          f"factors {', '.join(arrays['factor_names'])}")


if __name__ == "__main__":
    main()
