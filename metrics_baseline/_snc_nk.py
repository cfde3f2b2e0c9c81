"""Single-neuron classification (SNC) and neural knockout (NK) (Mahon, Sha & Lukasiewicz,
"Correcting flaws in common disentanglement metrics", TMLR 2023).

The reference is ``PredictorAligner.predict_unsupervised_vae`` in Lou1sM/snc_nk,
``snc_nk.py`` and ``utils.py``, reimplemented in numpy:

* alignment: each factor is matched to one neuron by a Hungarian assignment that
  minimises ``H(f | z cut into c equal-frequency bins) - H(f)`` (nats, training rows),
  ``c`` the number of values the factor takes there; with more factors than neurons
  the neurons are repeated, so several factors may share one;
* SNC: the aligned neuron is cut at the same training quantiles, each bin is mapped
  to a factor value by a Hungarian assignment that maximises the training rows it gets
  right, and the accuracy of that map on the test rows is the factor's score; SNC is
  the mean over factors (deterministic);
* NK: a probe Linear-256-ReLU-Linear (softmax cross-entropy, PyTorch's default
  initialisation, Adam with learning rate 1e-2 multiplied by 0.65 at epochs 1, 2, 4,
  8, ..., minibatches of 4096 in an order drawn from ``rng``, at most ``max_epochs``
  epochs) predicts the factor from all neurons (``mlp``) and from all but its aligned
  neuron (``re1``); NK is the mean over factors of ``mlp - re1`` test accuracy.  As in
  the reference, the probe reads the raw codes (as float32: no standardisation, so NK,
  unlike SNC, depends on the scale of a latent), the training accuracy of an epoch is
  that of the predictions made during it, training stops after the first epoch above
  0.99, and the test accuracy reported is that of the epoch of highest training
  accuracy before it (the first epoch's if it is the one).

Two behaviours of the reference are kept.  SNC's bins hold equal numbers of training
rows, so it assumes equally frequent values, as on the full grids of the paper's data
sets: on a uniform draw a value a few rows over its share has those rows read as a
neighbour, and an ideal code scores below 1 (0.988 on the reference's ``small`` set;
about 0.93 on dSprites' factors of 32 and 40 values with 8,000 rows, less on smaller
draws).  A probe whose training accuracy passes 0.99 in its second epoch reports the
test accuracy of its first, which can be chance (a binary factor in two neurons: 0.51
without its aligned neuron, 1.0 with it), so NK is noisy on easy factors.

SNC asks for one neuron per factor from which the factor can be read, and NK that the
factor is lost when that neuron is knocked out, so both target compactness (each factor
in one latent), as MCC does.

Deliberate differences, none of which arises on codes without ties: the reference's
floating-point ``arange`` of cut positions sometimes gives one cut too many (10,000 rows
and a factor of 59 values), which either raises or adds a bin of one row; here there are
always ``c - 1`` cuts.  When ties in a neuron leave fewer bins than values, the reference
matches the bins only to the lowest values and fails on a test row in a bin empty in
training; here bins are matched to all values and such a row counts as wrong.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmark.spec import MetricSpec
from benchmark.validation import (
    BenchmarkError,
    check_codes,
    check_factor_array,
    check_positive_int,
    check_rng,
)

from ._sampling import train_test_codes

__all__ = ["SPEC", "snc_nk", "snc_nk_accuracies", "snc_nk_score"]

_HIDDEN, _LR, _DECAY, _BATCH, _STOP = 256, 1e-2, 0.65, 4096, 0.99
_BETAS, _EPS = (0.9, 0.999), 1e-8  # PyTorch's Adam defaults


def _check(codes, factors, codes_test, factors_test):
    codes, codes_test = check_codes(codes), check_codes(codes_test, "codes_test")
    factors = check_factor_array(factors)
    factors_test = check_factor_array(factors_test, "factors_test", num_factors=factors.shape[1])
    for x, y, suffix in ((codes, factors, ""), (codes_test, factors_test, "_test")):
        if y.shape[0] != x.shape[0]:
            raise BenchmarkError(f"factors{suffix} has {y.shape[0]} rows, codes{suffix} {x.shape[0]}")
        if x.shape[0] < 2:
            raise BenchmarkError(f"codes{suffix} and factors{suffix} need at least two rows, "
                                 f"got {x.shape[0]}")
    if codes_test.shape[1] != codes.shape[1] or codes.shape[1] == 0:
        raise BenchmarkError(f"codes_test has {codes_test.shape[1]} latents, codes {codes.shape[1]}; "
                             "they need the same number, at least one")
    if factors.shape[1] == 0:
        raise BenchmarkError("factors has no column: there is nothing to predict")
    if factors.min() < 0 or factors_test.min() < 0:
        raise BenchmarkError("factors and factors_test must be value indices (non-negative)")
    return codes, factors, codes_test, factors_test


def _cuts(sorted_x: np.ndarray, num_bins: int) -> np.ndarray:
    """The ``num_bins - 1`` inner cuts: the sorted training values at positions
    ``floor(i * n / num_bins)`` (the reference's, whose first, the minimum, cuts nothing)."""
    n = sorted_x.shape[0]
    return sorted_x[(np.arange(1, num_bins) * (n / num_bins)).astype(np.int64)]


def _bins(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    # Numbered as the reference numbers them (how many cuts lie above the value), so that
    # ties in the matchings are broken alike.
    return cuts.size - np.searchsorted(cuts, x, side="right")


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _align_neurons(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    """``(neurons, cost)``: the neuron aligned with each factor and the ``(K, L)`` matrix
    ``H(f_k | binned z_l) - H(f_k)`` it minimises."""
    num_factors, num_codes = factors.shape[1], codes.shape[1]
    cost = np.empty((num_factors, num_codes))
    for k in range(num_factors):
        values, y = np.unique(factors[:, k], return_inverse=True)
        h_f = _entropy(np.bincount(y))
        for latent in range(num_codes):
            bins = _bins(codes[:, latent], _cuts(np.sort(codes[:, latent]), values.size))
            joint = np.zeros((values.size, values.size))
            np.add.at(joint, (bins, y), 1)
            # H(f | bin) as the reference sums it, bin by bin, so near-ties resolve alike
            cost[k, latent] = sum(_entropy(row) * row.sum() / y.size for row in joint if row.any()) - h_f
    # More factors than neurons: the reference repeats the columns so every factor gets one.
    reps = -(-num_factors // num_codes)
    rows, cols = linear_sum_assignment(np.tile(cost, (1, reps)))
    neurons = np.empty(num_factors, dtype=np.int64)
    neurons[rows] = cols % num_codes
    return neurons, cost


def _single_neuron_accuracy(x, y, x_test, y_test) -> tuple[float, float]:
    """Training and test accuracy of reading ``y`` off the 1-D ``x`` by quantile bins
    matched to values (see the module docstring)."""
    values, labels = np.unique(y, return_inverse=True)
    cuts = _cuts(np.sort(x), values.size)
    bins, bins_test = _bins(x, cuts), _bins(x_test, cuts)
    present, rows = np.unique(bins, return_inverse=True)
    hits = np.zeros((present.size, values.size))
    np.add.at(hits, (rows, labels), 1)
    # The reference's cost, the rows of a bin that its value gets wrong (minimised, so that
    # ties resolve as there).
    matched, value = linear_sum_assignment(hits.sum(axis=1, keepdims=True) - hits)
    lookup = np.full(values.size, -1, dtype=np.int64)  # bins unseen in training: no value
    lookup[present[matched]] = values[value]
    return float(np.mean(lookup[bins] == y)), float(np.mean(lookup[bins_test] == y_test))


def _linear(fan_in: int, fan_out: int, rng) -> list:
    bound = 1.0 / np.sqrt(fan_in) if fan_in else 0.0  # PyTorch: no inputs, zero bias
    return [rng.uniform(-bound, bound, size).astype(np.float32) for size in ((fan_in, fan_out), fan_out)]


def _forward(params, x):
    w1, b1, w2, b2 = params
    hidden = np.maximum(x @ w1 + b1, 0.0)
    return hidden, hidden @ w2 + b2


def _probe_accuracy(x, y, x_test, y_test, rng, *, max_epochs: int = 75) -> tuple[float, float]:
    """``(train, test)`` accuracy of the reference's MLP probe of labels ``y`` from ``x`` (2-D).

    ``train`` is that of the last epoch run (predictions made while it trained), ``test``
    that of the epoch chosen by the reference's stopping rule (module docstring).
    """
    x, x_test = np.asarray(x, np.float32), np.asarray(x_test, np.float32)
    n = x.shape[0]
    params = _linear(x.shape[1], _HIDDEN, rng) + _linear(_HIDDEN, int(max(y.max(), y_test.max())) + 1, rng)
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    step, best, train, test = 0, 0.0, 0.0, 0.0
    for epoch in range(max_epochs):
        lr = _LR * _DECAY ** epoch.bit_length()  # one decay at each power of two
        order, correct = rng.permutation(n), 0
        for start in range(0, n, _BATCH):
            xb, yb = x[order[start:start + _BATCH]], y[order[start:start + _BATCH]]
            hidden, logits = _forward(params, xb)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
            grad = np.exp(logits - logits.max(axis=1, keepdims=True))
            grad /= grad.sum(axis=1, keepdims=True)
            grad[np.arange(yb.size), yb] -= 1.0
            grad /= yb.size
            back = (grad @ params[2].T) * (hidden > 0)
            grads = [xb.T @ back, back.sum(axis=0), hidden.T @ grad, grad.sum(axis=0)]
            step += 1
            c1, c2 = 1 - _BETAS[0] ** step, (1 - _BETAS[1] ** step) ** 0.5  # floats keep float32
            for p, g, m, v in zip(params, grads, first, second):
                m *= _BETAS[0]
                m += (1 - _BETAS[0]) * g
                v *= _BETAS[1]
                v += (1 - _BETAS[1]) * g * g
                p -= (lr / c1) * m / (np.sqrt(v) / c2 + _EPS)
        train = correct / n
        if train > _STOP:
            if epoch == 0:
                test = _accuracy(params, x_test, y_test)
            break
        if train > best:
            best, test = train, _accuracy(params, x_test, y_test)
    return train, test


def _accuracy(params, x, y) -> float:
    return float(np.mean(_forward(params, x)[1].argmax(axis=1) == y))


def snc_nk_accuracies(codes, factors, codes_test, factors_test, rng, *, max_epochs: int = 75,
                      knockout: bool = True) -> dict:
    """Per-factor accuracies behind SNC and NK, as arrays of length ``K``.

    Returns
    -------
    dict
        ``neuron`` (the aligned neuron of each factor), ``snc_train``, ``snc_test`` and,
        with ``knockout``, ``mlp_train``, ``mlp_test``, ``re1_train``, ``re1_test`` (the
        probe on all neurons, and on all but the aligned one).
    """
    codes, factors, codes_test, factors_test = _check(codes, factors, codes_test, factors_test)
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    neurons, _ = _align_neurons(codes, factors)
    out = {"neuron": neurons}
    out["snc_train"], out["snc_test"] = np.array(
        [_single_neuron_accuracy(codes[:, neuron], factors[:, k], codes_test[:, neuron], factors_test[:, k])
         for k, neuron in enumerate(neurons)]).T
    if knockout:
        rng = check_rng(rng)
        # As in the reference, all the knockout probes first, then all the full ones.
        for name, drop in (("re1", True), ("mlp", False)):
            out[f"{name}_train"], out[f"{name}_test"] = np.array([_probe_accuracy(
                np.delete(codes, neuron, axis=1) if drop else codes, factors[:, k],
                np.delete(codes_test, neuron, axis=1) if drop else codes_test, factors_test[:, k],
                rng, max_epochs=max_epochs) for k, neuron in enumerate(neurons)]).T
    return out


def snc_nk_score(codes, factors, codes_test, factors_test, rng, *, max_epochs: int = 75,
                 knockout: bool = True) -> dict:
    """SNC and NK of given training and test codes.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
        Factor value indices (the probes' class labels).
    codes_test : ndarray of shape (m, L)
    factors_test : ndarray of shape (m, K), integer
    rng : int or numpy.random.Generator
        Initialisation and minibatch order of the probes.
    max_epochs : int, default 75
        Epochs per probe at most (that of the paper's experiments).
    knockout : bool, default True
        Train the ``2K`` probes of NK (SNC alone is cheap and deterministic).

    Returns
    -------
    dict
        ``snc`` (the headline: mean single-neuron test accuracy), ``snc/<k>`` per factor
        and, with ``knockout``, ``nk`` (mean over factors of the full probe's test accuracy
        minus that without the aligned neuron).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(600) % 3, np.arange(600) // 150], axis=1)  # balanced values
    >>> z = np.stack([-2.0 * y[:, 1], np.exp(y[:, 0])], axis=1)  # permuted, rescaled, flipped
    >>> snc_nk_score(z, y, z, y, 0, knockout=False)["snc"]
    1.0
    """
    acc = snc_nk_accuracies(codes, factors, codes_test, factors_test, rng, max_epochs=max_epochs,
                            knockout=knockout)
    out = {"snc": float(acc["snc_test"].mean())}
    out.update({f"snc/{k}": float(a) for k, a in enumerate(acc["snc_test"])})
    if knockout:
        out["nk"] = float(np.mean(acc["mlp_test"] - acc["re1_test"]))
    return out


def snc_nk(rep, rng, *, num_train: int = 8000, num_test: int = 2000, max_epochs: int = 75,
           knockout: bool = True) -> dict:
    """SNC and NK of ``rep`` on training and test codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 8000 and 2000
        The split of the reference numbers the tests compare with.
    max_epochs, knockout
        As in :func:`snc_nk_score`.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = snc_nk(ideal(FactorSpace.synthetic([3, 4]), noise=0.05), 0, num_train=1000,
    ...              num_test=500)
    >>> out["snc"] > 0.9, out["nk"] > 0.6  # SNC: the draw's values are not equally frequent
    (True, True)
    """
    rng = check_rng(rng)
    codes, factors, codes_test, factors_test = train_test_codes(rep, rng, num_train, num_test)
    return snc_nk_score(codes, factors, codes_test, factors_test, rng, max_epochs=max_epochs,
                        knockout=knockout)


# --quick keeps the draws (a smaller one lowers SNC itself, its values being less evenly
# spread) and shortens the probes: SNC is unchanged, NK on dSprites' ideal code 0.43 -> 0.38.
SPEC = MetricSpec("snc_nk", snc_nk, headline="snc", family="predictor", display_name="SNC",
                  target="compactness", quick={"max_epochs": 25}, cost=(11, 4))
