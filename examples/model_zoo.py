"""Write a zoo of synthetic "trained-VAE-like" encoders of dSprites, one encodings file each.

    python examples/model_zoo.py zoo/                   # 6 characters x 3 seeds, full dSprites grid
    python examples/model_zoo.py zoo/ --grid small --seeds 1 --characters disentangled,redundant
    python run_protocol.py --attack redundancy --encodings zoo/redundant_s0.npz

Real VAEs need a GPU and the dSprites images; these files stand in for them.  Each
file ``<character>_s<seed>.npz`` holds the posterior means (``codes``) and
variances (``variances``) of a 10-latent encoder on EVERY combination of the
factor grid exactly once (dSprites: 737,280 rows; ``--grid small``: 3 x 6 x 8 x
8 x 8 = 9,216 rows, a quick stand-in), in the layout ``--encodings`` and
:func:`benchmark.encodings.load_encodings` read; UniBound's exact estimator uses
every row of either as a mixture component.  The same character and seed give
byte-identical files.  A dSprites file is 88 MB, written in about a second; it is
stored uncompressed (deflate saves 42% but takes 2.3 s a file).

The characters, and what their PID bars should show (lower bounds on unique,
redundant and synergistic information per factor, the best latent's, as
``metrics_pid.pid_profile`` gives them; ranges measured on the small grid,
seeds 0-2, exact estimator).  Seed ``s`` of every character shares one base
encoder (noise levels, warps, latent order, row noise), so two characters of
one seed differ only in their entanglement:

* ``disentangled``: one latent per factor, five collapsed latents.  Scale,
  pos_x and pos_y are read almost perfectly from their own latent (unique
  0.95-0.99, nothing else).  Shape's latent separates squares from the round
  shapes but hardly tells ellipses from hearts (unique 0.7-0.8; the rest is
  missing, not entangled).  Orientation is barely encoded (unique about 0.1).
* ``rotated``: as ``disentangled`` but the pos_x and pos_y latents are rotated
  by 30-45 degrees (seed-dependent), so each holds part of both positions.
  pos_x and pos_y lose their unique information (0-0.12 left): only the pair
  pins a position, a synergy bar of 0.3-0.4.  On the coarse 8 x 8 small grid
  one rotated latent can nearly separate the 64 position pairs by itself, and
  at some angles (seed 2) the loss shows as redundancy (0.14) instead.  MIG
  falls with them (about 0.9 -> 0.5); BetaVAE and FactorVAE do not notice.
* ``redundant``: ``disentangled`` plus four partly collapsed latents
  (posterior sd 0.3-0.5) holding a noisy reflected copy ``U z`` of the shape,
  scale and position latents, ``U = I - (1/2) 1 1^T`` (the paper's redundancy
  attack, inside the model).  Each copy weighs four factors equally, so it says
  little about any one of them: MIG moves by less than 0.1, BetaVAE and
  FactorVAE not at all.  But with the clean latents the copies re-encode every
  factor they mix: redundancy 0.35-0.55, unique information down to 0.5-0.65
  (shape's to 0.15-0.25), UniBound about halved.
* ``synergistic``: ``disentangled`` plus two sign latents.  One holds the
  sprite's diagonal-quadrant sign (pos_x in its upper half XOR pos_y in its
  upper half), the other that sign times an ellipse-or-not bit of shape.  Each
  alone is independent of every single factor, so MIG, BetaVAE and FactorVAE
  score what ``disentangled`` scores; but the second completes shape's
  information only together with the rest: shape gets a synergy bar (0.17-0.29)
  and a redundancy bar (0.3-0.45, the bit its own latent partly knows), its
  unique bar falls to 0.1-0.2.  The quadrant sign is redundant with the
  position latents: pos_x and pos_y each show a redundancy of log 2 / log 8 =
  0.33 on the small grid (log 2 / log 32 = 0.2 on dSprites).
* ``shared``: no latent of its own for shape; the scale latent carries scale
  and shape mixed at 30-40 degrees, as a VAE that encodes the sprite's pixel
  area would.  Neither factor is fully decodable from it and nothing else holds
  them, so both bars are unique information of that one latent (scale
  0.7-0.75, shape 0.25-0.35) with no redundancy or synergy: UniBound does not
  penalise sharing, FactorVAE (one factor per latent) loses a factor (1 -> 0.78).
* ``noisy``: ``disentangled`` with posteriors 3-5 times wider, a high-beta
  model: orientation practically collapses and every other factor's
  information is unique but smaller (0.4-0.9).  UniBound falls nearly as far as
  ``redundant``'s (0.46-0.53 against 0.36-0.41) and MIG a little further, but
  the profile shows why (no redundancy at all), and the remedy differs: less
  beta, not less duplication.

Imperfections every character shares, as in trained VAEs:

* posterior means are smooth, slightly compressive monotone functions
  (``tanh``) of the standardised factor values (which span about
  [-1.7, 1.7]), with an arbitrary sign per latent;
* per-row posterior standard deviations vary log-normally (log-sd 0.1-0.2)
  around a per-latent level (informative latents 0.03-0.15, orientation
  0.3-0.5, collapsed 1);
* the means jitter from image to image by 15-30% of the posterior sd;
* collapsed latents have the prior as posterior: mean about 0 (jitter 0.01),
  variance about 1;
* orientation is encoded weakly and ambiguously (a cosine of its angle);
* the latent order is permuted, and levels, warps and angles vary, by seed.

A caveat for reading small bars: the jitter and the varying posterior widths
make each row a little identifiable, so with posterior variances the exact
estimator finds a factor partly in latents that do not encode it, the more the
more narrow latents a model has.  Weakly encoded orientation shows it most, as
a synergy bar of 0.03-0.12.  A real encoder's jitter does the same.
"""
import argparse
import os
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

from benchmark import FactorSpace

__all__ = ["CHARACTERS", "GRIDS", "NUM_LATENTS", "grid_factors", "main", "model_encodings",
           "write_npz", "write_zoo"]

NUM_LATENTS = 10
FACTORS = ("shape", "scale", "orientation", "pos_x", "pos_y")
GRIDS = {
    "dsprites": FactorSpace.named("dsprites"),
    "small": FactorSpace(FACTORS, (3, 6, 8, 8, 8), name="dsprites_small"),
}
CHARACTERS = ("disentangled", "rotated", "redundant", "synergistic", "shared", "noisy")
COLLAPSED = "collapsed"

# Before the latent order is permuted, slot k < 5 holds factor FACTORS[k]; slots 5-9
# are collapsed unless a character uses them.
SHAPE, SCALE, ORIENTATION, POS_X, POS_Y = range(5)

# zip members are stamped with this instead of the clock, so that files are byte-identical
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def grid_factors(space: FactorSpace) -> np.ndarray:
    """Every combination of factor values once, ``(prod(sizes), K)`` int64, the last
    factor varying fastest (the order of the dSprites file)."""
    return np.indices(space.sizes).reshape(space.num_factors, -1).T.astype(np.int64)


def _rng(tag: str, seed: int) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, and files must not change
    return np.random.default_rng([zlib.crc32(tag.encode()), int(seed)])


def _standardised(values, size):
    """Factor values scaled to mean 0 and variance 1 over the uniform grid."""
    return (values - (size - 1) / 2) / np.sqrt((size**2 - 1) / 12)


class _Encoder:
    """The base encoder of one seed: means, posterior sd levels and roles of 10 slots."""

    def __init__(self, factors, space, rng):
        n = len(factors)
        self.value = {name: factors[:, space.names.index(name)] for name in FACTORS}
        self.size = dict(zip(space.names, space.sizes))
        self.means = np.zeros((n, NUM_LATENTS))
        self.level = np.ones(NUM_LATENTS)
        self.roles = [COLLAPSED] * NUM_LATENTS

        def warped(name):
            # VAEs squash the extremes of a factor a little: a mild, monotone tanh
            w = rng.uniform(0.2, 0.5)
            return np.tanh(w * _standardised(self.value[name], self.size[name])) / w

        # squares look unlike the round shapes; ellipses and hearts look alike, so their
        # means nearly coincide and the posterior noise blurs them
        round_gap = rng.uniform(0.15, 0.25)
        shape_levels = np.concatenate([[-1.3], 0.55 + round_gap * np.arange(self.size["shape"] - 1)])
        # orientation: a cosine is ambiguous (two angles per value) and has small amplitude,
        # as dSprites VAEs barely encode orientation
        phase = rng.uniform(0, 2 * np.pi)
        angle = 2 * np.pi * self.value["orientation"] / self.size["orientation"] + phase
        self.set(SHAPE, shape_levels[self.value["shape"]], rng.uniform(0.08, 0.15), "shape")
        self.set(SCALE, warped("scale"), rng.uniform(0.05, 0.12), "scale")
        self.set(ORIENTATION, rng.uniform(0.4, 0.6) * np.cos(angle), rng.uniform(0.3, 0.5),
                 "orientation (weak)")
        self.set(POS_X, warped("pos_x"), rng.uniform(0.03, 0.08), "pos_x")
        self.set(POS_Y, warped("pos_y"), rng.uniform(0.03, 0.08), "pos_y")
        self.signs = rng.choice([-1.0, 1.0], size=NUM_LATENTS)
        self.jitter = rng.uniform(0.15, 0.3)
        self.spread = rng.uniform(0.1, 0.2)
        self.order = rng.permutation(NUM_LATENTS)
        # row noise is drawn for all slots whatever the character, so that the
        # characters of one seed share it and differ only where they differ
        self.sd_noise = rng.standard_normal((n, NUM_LATENTS))
        self.mean_noise = rng.standard_normal((n, NUM_LATENTS))

    def set(self, slot, means, level, role):
        self.means[:, slot] = means
        self.level[slot] = level
        self.roles[slot] = role

    def collapse(self, slot):
        self.set(slot, 0.0, 1.0, COLLAPSED)

    def arrays(self):
        collapsed = np.array([role == COLLAPSED for role in self.roles])
        sd = self.level * np.exp(self.spread * self.sd_noise)
        codes = self.signs * self.means + self.jitter * sd * self.mean_noise
        # a collapsed latent's posterior is the prior whatever the image; its mean and
        # variance still wobble a little, as the encoder's output never is exactly constant
        sd[:, collapsed] = np.exp(0.01 * self.sd_noise[:, collapsed])
        codes[:, collapsed] = 0.01 * self.mean_noise[:, collapsed]
        return codes[:, self.order], sd[:, self.order] ** 2


def _rotated(enc, rng):
    angle = rng.uniform(30, 45)
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    x, y = enc.means[:, POS_X].copy(), enc.means[:, POS_Y].copy()
    role = f"pos_x, pos_y rotated {angle:.0f} deg"
    enc.set(POS_X, c * x - s * y, enc.level[POS_X], role)
    enc.set(POS_Y, s * x + c * y, enc.level[POS_Y], role)


def _redundant(enc, rng):
    strong = [SHAPE, SCALE, POS_X, POS_Y]
    # the paper's reflection U = I - (2/L) 1 1^T, L = 4: each copy weighs all four
    # factors equally (0.5 in magnitude), so it singles out none of them
    reflection = np.eye(4) - 0.5
    copies = rng.uniform(0.8, 1.0) * enc.means[:, strong] @ reflection.T
    for j, slot in enumerate(range(5, 9)):
        enc.set(slot, copies[:, j], rng.uniform(0.3, 0.5), f"copy of {FACTORS[strong[j]]} minus the rest")


def _synergistic(enc, rng):
    # the key is a function of both positions that is independent of each alone (for
    # even grid sizes), and shape's bit hides behind it: neither latent alone says
    # anything about any single factor
    key = np.where((enc.value["pos_x"] >= enc.size["pos_x"] / 2)
                   == (enc.value["pos_y"] >= enc.size["pos_y"] / 2), 1.0, -1.0)
    ellipse = np.where(enc.value["shape"] % 2 == 1, 1.0, -1.0)
    level = rng.uniform(0.15, 0.25)  # the signs stay readable: magnitudes are >= 3 sd
    enc.set(5, rng.uniform(0.8, 1.1) * key, level, "quadrant sign")
    enc.set(6, rng.uniform(0.8, 1.1) * key * ellipse, level, "ellipse bit x quadrant sign")


def _shared(enc, rng):
    beta = np.radians(rng.uniform(30, 40))
    enc.set(SCALE, np.cos(beta) * enc.means[:, SCALE] + np.sin(beta) * enc.means[:, SHAPE],
            enc.level[SCALE], "scale + shape")
    enc.collapse(SHAPE)


def _noisy(enc, rng):
    for slot in range(5):
        enc.level[slot] *= rng.uniform(3, 5)


_CHARACTER = {"disentangled": lambda enc, rng: None, "rotated": _rotated, "redundant": _redundant,
              "synergistic": _synergistic, "shared": _shared, "noisy": _noisy}


def model_encodings(character: str, seed: int, space: FactorSpace = GRIDS["dsprites"]):
    """The encodings of one zoo model on every point of a factor grid.

    Parameters
    ----------
    character : str
        One of :data:`CHARACTERS` (see the module docstring).
    seed : int
        Seeds the base encoder (shared by all characters of this seed) and the
        character's own parameters.
    space : FactorSpace
        A grid of the five dSprites factors by name (any sizes, any order);
        :data:`GRIDS` has the full and the small grid.

    Returns
    -------
    arrays : dict
        ``factors`` (n, 5) int64, ``codes`` and ``variances`` (n, 10) float32,
        ``factor_names`` and ``factor_sizes``: the keys of an encodings file.
    roles : tuple of str
        What each of the 10 latents (in file order) encodes.

    Examples
    --------
    >>> arrays, roles = model_encodings("shared", 0, GRIDS["small"])
    >>> arrays["codes"].shape, roles.count("collapsed")
    ((9216, 10), 6)
    """
    if character not in _CHARACTER:
        raise ValueError(f"unknown character {character!r}; available: {', '.join(CHARACTERS)}")
    if sorted(space.names) != sorted(FACTORS):
        raise ValueError(f"the zoo encodes the dSprites factors {', '.join(FACTORS)}; "
                         f"got {', '.join(space.names)}")
    factors = grid_factors(space)
    enc = _Encoder(factors, space, _rng("model_zoo", seed))
    _CHARACTER[character](enc, _rng(character, seed))
    codes, variances = enc.arrays()
    arrays = {
        "factors": factors,
        "codes": codes.astype(np.float32),
        "variances": variances.astype(np.float32),
        "factor_names": np.array(space.names),
        "factor_sizes": np.array(space.sizes),
    }
    return arrays, tuple(enc.roles[i] for i in enc.order)


def write_npz(path, arrays: dict) -> None:
    """``numpy.savez``'s layout (uncompressed), but byte-identical from run to run and
    atomic: a reader never sees a half-written file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for key, value in arrays.items():
                # numpy.savez stamps members with the current time; a fixed date keeps
                # the bytes a function of the arrays alone
                info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                with archive.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_zoo(out_dir, characters=CHARACTERS, seeds=range(3), space: FactorSpace = GRIDS["dsprites"],
              log=print) -> list:
    """Write ``<character>_s<seed>.npz`` for every character and seed; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for character in characters:
        for seed in seeds:
            arrays, roles = model_encodings(character, seed, space)
            path = out_dir / f"{character}_s{seed}.npz"
            write_npz(path, arrays)
            paths.append(path)
            log(f"wrote {path}: {len(arrays['codes']):,} rows; "
                + ", ".join(f"z{i} {role}" for i, role in enumerate(roles)))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="directory for the .npz files (created if missing)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. SEEDS-1 of each character")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="dsprites",
                        help="dsprites: 737,280 rows a file; small: 9,216")
    parser.add_argument("--characters", default=",".join(CHARACTERS),
                        help=f"comma-separated subset of {','.join(CHARACTERS)}")
    args = parser.parse_args(argv)
    characters = [c.strip() for c in args.characters.split(",") if c.strip()]
    unknown = [c for c in characters if c not in CHARACTERS]
    if unknown or not characters:
        parser.error(f"unknown character(s) {', '.join(unknown) or '(none given)'}; "
                     f"available: {', '.join(CHARACTERS)}")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    write_zoo(args.out_dir, characters, range(args.seeds), GRIDS[args.grid])
    return 0


if __name__ == "__main__":
    sys.exit(main())
