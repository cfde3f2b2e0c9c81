"""Out-of-distribution read-out: how well a read-out of the factors trained on one part of
the factor space carries over to another, after Schott et al. (ICLR 2022), "Visual
representation learning does not generalize strongly within the same domain"
(bethgelab/InDomainGeneralizationBenchmark).

A read-out (a linear regression, or an MLP) predicts every factor, scaled to [0, 1]
(value index over size - 1), from the codes of training rows and is scored on test rows
by the benchmark's R^2 per factor, ``1 - MSE / Var``, averaged over every factor, where
``Var`` is the variance of the scaled factor over the whole factor grid,
``(s + 1) / (12 (s - 1))`` for ``s`` values (the authors' ``RSquared`` of
``evaluate_model.py``, whose variance is over ``normalized_targets``, every combination
of the grid, also for a test set that covers a small part of it).  Four splits of the
factor space, on the factors of at least ``min_values`` values (smaller,
categorical-like factors are never held out); of a factor of ``s`` values,
``m = max(1, round(fraction * s))`` values are held out:

* ``random``: test rows drawn like training rows (in distribution);
* ``composition``: training rows have some such factor among its ``m`` lowest values
  (an L-shape along the axes), test rows have none: every value is seen in training,
  but not these combinations;
* ``interpolation``: test rows have some such factor at one of ``m`` values spread
  over its interior (``linspace(0, s - 1, m + 2)`` without the two ends, rounded half
  up), never seen in training but lying between seen ones;
* ``extrapolation``: test rows have some such factor among its ``m`` highest values,
  beyond every value seen in training.

A representation whose factors a simple read-out finds along straight, separate axes
extrapolates; one that mixes or bends them does not, so the headline
(``extrapolation``) targets explicitness.

Difference from the reference: Schott et al. publish their splits as data files
(zenodo), not the code that drew them, and train their read-outs on images or on
models' features; here the splits are drawn on the factor grid by the rules above, the
shapes of the two-factor sketch in their README (an L-shape of training combinations,
spread-out held-out values, the upper range) with ``fraction`` 0.3, generalised to any
number of factors, so the numbers are in their spirit, not comparable with their
leaderboards.  With a single factor of ``min_values`` values or more, composition has
no combination to hold out: it holds out that factor's ``s - m`` upper values, an
extrapolation.  On a table of encodings the variance is still the whole grid's, as the
authors compute it, not the table's own.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes, check_positive_int, check_rng

from ._sampling import encode_batches, seed_from

__all__ = ["READOUTS", "SPEC", "SPLITS", "grid_variance", "ood_readout", "ood_readout_score",
           "split_masks"]


def _linear(seed):
    return LinearRegression()


def _mlp(seed):
    return MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=200, early_stopping=True,
                        random_state=seed)


#: The read-outs: a least-squares linear map, or a two-layer MLP of 256 units.
READOUTS = {"linear": _linear, "mlp": _mlp}


def _scaled(factors: np.ndarray, sizes) -> np.ndarray:
    return factors / np.maximum(np.asarray(sizes, float) - 1.0, 1.0)


def _interior(size: int, m: int) -> np.ndarray:
    """``m`` values of ``0 .. size - 1`` spread over its interior (the ends stay seen)."""
    return np.unique(np.floor(np.linspace(0, size - 1, m + 2)[1:-1] + 0.5).astype(np.int64))


def _held_out(split: str, factors: np.ndarray, sizes: np.ndarray, fraction: float) -> np.ndarray:
    """Per row and held-out-able factor (value indices ``factors``, sizes ``sizes``): whether
    the value is among the split's ``m = max(1, round(fraction * size))`` held-out ones
    (for composition: among the ``m`` lowest, which keep a row in training)."""
    m = np.maximum(1, np.round(fraction * sizes)).astype(np.int64)
    if split == "composition":
        return factors < m
    if split == "interpolation":
        return np.stack([np.isin(factors[:, k], _interior(int(s), int(mk)))
                         for k, (s, mk) in enumerate(zip(sizes, m))], axis=1)
    return factors >= sizes - m  # extrapolation


def split_masks(factors, sizes, split: str, *, fraction: float = 0.3, min_values: int = 4):
    """``(train, test)`` boolean masks of the rows of ``factors`` for a split of
    :data:`SPLITS` other than ``random`` (whose rows are all both).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 0], [9, 0], [5, 1], [2, 1]])
    >>> train, test = split_masks(y, (10, 2), "extrapolation")
    >>> train.tolist(), test.tolist()
    ([True, False, True, True], [False, True, False, False])
    >>> split_masks(y, (10, 2), "composition")[1].tolist()
    [False, True, True, False]
    """
    if split not in SPLITS or split == "random":
        raise BenchmarkError(f"split must be one of {', '.join(map(repr, SPLITS[1:]))}, got {split!r}")
    sizes = np.asarray(sizes)
    used = sizes >= min_values
    if not used.any():
        raise BenchmarkError(f"no factor has at least min_values = {min_values} values to hold out")
    inside = _held_out(split, np.asarray(factors)[:, used], sizes[used], fraction)
    # composition trains on the rows with some factor low (the L-shape); the others hold out
    # a row with any factor at a held-out value
    test = ~inside.any(axis=1) if split == "composition" else inside.any(axis=1)
    return ~test, test


#: The splits, in-distribution first.
SPLITS = ("random", "composition", "interpolation", "extrapolation")


def grid_variance(sizes) -> np.ndarray:
    """The variance of each factor scaled to [0, 1] over the whole grid: of ``k / (s - 1)``
    for ``k`` uniform on ``0 .. s - 1``, ``(s + 1) / (12 (s - 1))``."""
    sizes = np.asarray(sizes, float)
    return (sizes + 1.0) / (12.0 * (sizes - 1.0))


def ood_readout_score(codes, factors, codes_test, factors_test, sizes, *, readout: str = "linear",
                      seed: int = 0) -> float:
    """Mean R^2 over factors of a read-out fitted on ``(codes, factors)`` and scored on the
    test rows, the factors scaled by ``sizes`` to [0, 1], each factor's error over its
    variance on the whole grid (:func:`grid_variance`)."""
    codes, codes_test = check_codes(codes), check_codes(codes_test, "codes_test")
    if readout not in READOUTS:
        raise BenchmarkError(f"readout must be one of {', '.join(map(repr, READOUTS))}, got {readout!r}")
    if len(codes) < 2 or len(codes_test) < 2:
        raise BenchmarkError("a split needs at least two training and two test rows")
    if np.any(np.asarray(sizes) < 2):
        raise BenchmarkError(f"every factor needs at least two values, got sizes {tuple(sizes)}")
    scaler = StandardScaler().fit(codes)
    model = READOUTS[readout](seed).fit(scaler.transform(codes), _scaled(factors, sizes))
    predicted = model.predict(scaler.transform(codes_test)).reshape(len(codes_test), -1)
    mse = ((predicted - _scaled(factors_test, sizes)) ** 2).mean(axis=0)
    return float(np.mean(1.0 - mse / grid_variance(sizes)))


def _draw(rep, n: int, keep, rng) -> np.ndarray:
    """``n`` factor vectors drawn by ``rep.space`` among those ``keep`` accepts: a table's
    accepted rows, or rejection from the grid's draws (every region drawn this way holds a
    sizeable share of the grid; the composition test region is drawn by :func:`_corner`)."""
    space = rep.space
    rows = getattr(space, "rows", None)
    if rows is not None:
        candidates = rows[keep(rows)]
        if len(candidates) < 2:
            raise BenchmarkError("the encodings hold fewer than two rows in a split's region")
        # without replacement while the region has rows enough, as the random split draws
        return candidates[rng.choice(len(candidates), size=n, replace=n > len(candidates))]
    out, have = [], 0
    for _ in range(1000):
        draw = space.sample(max(4 * n, 1000), rng)
        draw = draw[keep(draw)]
        out.append(draw)
        have += len(draw)
        if have >= n:
            return np.concatenate(out)[:n]
    raise BenchmarkError("a split's region is too small to draw from")


def _corner(rep, n: int, fraction: float, min_values: int, rng) -> np.ndarray:
    """The composition test region of a grid drawn value by value (it is a product of
    ranges: every held-out-able factor above its ``m`` lowest values)."""
    sizes = np.asarray(rep.space.sizes)
    out = rep.space.sample(n, rng)
    for k, size in enumerate(sizes):
        if size >= min_values:
            out[:, k] = rng.integers(max(1, round(fraction * size)), size, size=n)
    return out


def ood_readout(rep, rng, *, num_train: int = 10000, num_test: int = 5000, readout: str = "linear",
                fraction: float = 0.3, min_values: int = 4) -> dict:
    """R^2 of a read-out in distribution and on the three out-of-distribution splits.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 10000, 5000
        Rows per split.
    readout : {"linear", "mlp"}, default "linear"
    fraction : float, default 0.3
        The share of a factor's range held out.
    min_values : int, default 4
        Factors with fewer values are never held out (at least 3: interpolation holds
        out interior values).

    Returns
    -------
    dict
        ``random``, ``composition``, ``interpolation``, ``extrapolation`` (headline).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> result = ood_readout(ideal(FactorSpace.synthetic([8, 10]), noise=0.0), 0, num_train=500,
    ...                      num_test=300)
    >>> {k: round(v, 6) for k, v in result.items()}
    {'random': 1.0, 'composition': 1.0, 'interpolation': 1.0, 'extrapolation': 1.0}
    """
    rng = check_rng(rng)
    num_train = check_positive_int(num_train, "num_train", 2)
    num_test = check_positive_int(num_test, "num_test", 2)
    if not 0 < fraction < 1:
        raise BenchmarkError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    min_values = check_positive_int(min_values, "min_values", 3)  # an interior needs 3 values
    sizes = rep.space.sizes
    for name, size in zip(rep.space.names, sizes):
        if size >= min_values and max(1, round(fraction * size)) >= size - 1:
            raise BenchmarkError(
                f"fraction={fraction} holds out {max(1, round(fraction * size))} of the {size} "
                f"values of factor {name!r}, leaving too few to train on; lower fraction or raise "
                "min_values")
    seed = seed_from(rng)
    result = {}
    for split in SPLITS:
        if split == "random":
            train = rep.space.sample(num_train, rng)
            test = rep.space.sample(num_test, rng)
        else:
            def region(rows, part, split=split):
                masks = split_masks(rows, sizes, split, fraction=fraction, min_values=min_values)
                return masks[part]
            train = _draw(rep, num_train, lambda r: region(r, 0), rng)
            test = (_corner(rep, num_test, fraction, min_values, rng)
                    if split == "composition" and getattr(rep.space, "rows", None) is None
                    else _draw(rep, num_test, lambda r: region(r, 1), rng))
        result[split] = ood_readout_score(encode_batches(rep, train, rng), train,
                                          encode_batches(rep, test, rng), test, sizes,
                                          readout=readout, seed=seed)
    return result


SPEC = MetricSpec("ood_readout", ood_readout, headline="extrapolation", family="predictor",
                  display_name="OOD read-out", target="explicitness",
                  quick={"num_train": 3000, "num_test": 1500})
