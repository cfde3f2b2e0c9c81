"""DCI-ES explicitness (E) and size (S) (Eastwood et al., ICLR 2023).

Reference: andreinicolicioiu/DCI-ES, the random-forest probes of
``src/loss_capacity/train_model_random_forest.py`` (``train_test_random_forest``,
one ``RandomForestClassifier`` / ``RandomForestRegressor`` per factor and probe
capacity), the loss-capacity summary of ``src/simple_gather.py`` and the score of
``metrics/explitcitness.py`` (``Explitcitness``, ``compute_explitcitness``), with
the probe grid of ``configs/random_forest/config.yaml``.

For each factor, probes of growing capacity ``kappa_1 < ... < kappa_M`` (random
forests of growing ``max_depth``; the capacity axis is the depth itself, not its
log) are fitted on training codes and scored on held-out codes.  The factor's
loss is ``1 - accuracy`` for a categorical factor (classes = value indices) and
``1 - R^2`` for the others (regression on the value index scaled to [0, 1],
``index / (size - 1)``).  The loss-capacity curve keeps, at each capacity, the
lowest loss reached so far.  With ``l*`` the floor the curve is measured from and
``l_b`` the loss of a probe that knows nothing (``1 - 1/size`` for a categorical
factor, 1 for a regression), the factor's explicitness is::

    E_k = 1 - AULCC / Z,   AULCC = trapezoid area between the curve and l*,
                           Z = (kappa_M - kappa_1) * l_b / 2

(``Z`` is the triangle from ``(kappa_1, l_b)`` down to ``(kappa_M, l*)``, taking
``l* = 0`` in it as the authors do).  ``explicitness`` is the mean of ``E_k`` over
factors.  A curve that is at ``l*`` from the smallest probe on scores 1, one that
falls linearly from ``l_b`` scores 0, one that stays at ``l_b`` scores -1 (a little
below when the smallest probe does worse than chance).  The repository's latest
``explitcitness.py`` passes the normaliser under a keyword its
``compute_explitcitness`` no longer accepts; this follows the version that runs
(its ``global`` mode, commented "used in the iclr paper. we assume l* = 0").  Its
default ``baseline`` mode, the one the earlier ``simple_gather.py`` used, takes
``Z = (kappa_M - kappa_1) * (l_b - min loss) / 2`` instead.

Size is ``S = K / L``: the number of factors over the number of latents (1 when
there are as many latents as factors, below 1 for a larger representation).  This
definition is **unverified**: the authors' code does not compute S, and the paper's
section defining it could not be consulted (only its abstract, which names S
without a formula, was available); check it against the paper before relying on it.

The other keys follow ``simple_gather.py``: at the capacity whose probes reach the
best mean held-out score (``informativeness``, the first such capacity,
``best_capacity``), the DCI ``disentanglement`` and ``completeness`` of the
forests' absolute impurity importances (the formulas of :mod:`._dci`).

The defaults of :func:`dci_es_score` are the reference's (100 trees, depths 1, 2,
3, 4, 8, 10, 12, 14, 16, 18, 20, 32; scikit-learn's default forests otherwise),
except ``loss_floor``; :func:`dci_es` keeps the depths and uses fewer trees and
codes (see there).

**MLP probes** (``probe="mlp"`` in :func:`dci_es_score`).  The last version of the
authors' ``simple_gather.py`` gathers MLP probes on MPI3D by default
(``plot_probe = 'mlp'``), with the grid of ``configs/mlp/config.yaml``: per factor,
an MLP of two ReLU hidden layers of width 14, 21, ..., 3603 (width 0: a linear
probe), the capacity axis the log of the probe's parameter count per factor
(``src/loss_capacity/probing.py``: a softmax head of ``size`` outputs for a
categorical factor, one output otherwise; ``src/train_probe.py`` divides the total
by the number of factors; scikit-learn fits a binary factor with one logistic
output, but the axis counts the reference's two).  They are fitted with scikit-learn's ``MLPClassifier`` /
``MLPRegressor`` on standardised codes, with the authors' Adam learning rate 2e-4,
batches of 128, no weight decay and their training length (10 epochs over 295,488
rows, i.e. that many samples whatever the training set's size).  Unlike the
authors' PyTorch loop the learning rate stays constant (theirs drops tenfold at 40 %
and 80 % of training) and the last iterate is scored (theirs: the best of ten
validation checks); D and C are not reported, since the authors read them from SAGE
values of the MLPs, which this module does not compute.  The widest probes are
large (3603^2 weights per layer) and slow on a CPU.

Where this implementation deliberately differs from the reference:

* **the loss floor (a fix, opt out with** ``loss_floor=None`` **).**  The
  reference measures the area above the curve's *own* minimum but normalises
  by a triangle that assumes ``l* = 0``, so a representation that carries no
  information at all (flat curve at ``l_b``) scores ``E = 1``, like a perfect
  one.  By default both use ``l* = loss_floor = 0`` (the loss of a probe that
  recovers the factor exactly), so a flat curve at chance scores -1.  E then
  also drops when information is lost, not only when it is hard to read out.
  ``loss_floor=None`` is the reference's definition, like for like.
* The reference's validation split never enters its score; the core takes a
  training and a held-out (the reference's test) split only.
* Codes are presented to the probes in a canonical column order, and each
  factor's probes get their own seed (the same at every capacity), so results are
  exactly invariant to permuting the latents and deterministic for a given seed.
* Which factors are categorical is an argument (the reference reads it from its
  data set: dSprites' shape, MPI3D's object colour, object shape and background
  colour); the classification baseline ``1 - 1/size`` is the value the
  reference's ``simple_gather.py`` hard-codes per data set.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._dci import _canonical_order, completeness, disentanglement
from ._parallel import fit_in_threads
from ._sampling import seed_from, train_test_codes

__all__ = ["CATEGORICAL_NAMES", "REFERENCE_DEPTHS", "REFERENCE_HIDDEN_DIMS", "SPEC", "dci_es",
           "dci_es_score", "loss_capacity_explicitness"]

#: The reference's probe grid (``configs/random_forest/config.yaml``).
REFERENCE_DEPTHS = (1, 2, 3, 4, 8, 10, 12, 14, 16, 18, 20, 32)

#: The reference's MLP grid (``configs/mlp/config.yaml``): widths of the two hidden
#: layers, 0 for a linear probe.
REFERENCE_HIDDEN_DIMS = (0, 14, 21, 28, 33, 47, 75, 103, 131, 243, 467, 915, 1811, 3603)

# The reference's MLP training (configs/mlp: lr 0.0002, batch 128, AdamW without weight
# decay, 10 epochs scaled in train_model.py to 10 * 295488 samples whatever the set's size).
_MLP_LEARNING_RATE = 2e-4
_MLP_BATCH = 128
_MLP_SAMPLES = 10 * 295_488

#: Factor names the authors' data sets treat as classes (dSprites' shape; MPI3D's
#: object colour, object shape and background colour); :func:`dci_es` uses them by default.
CATEGORICAL_NAMES = frozenset({"shape", "object_color", "object_shape", "background_color"})


def _check_capacities(capacities, argname: str) -> np.ndarray:
    values = np.asarray(capacities, dtype=float).reshape(-1)
    if values.size < 2 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise BenchmarkError(f"{argname} must hold at least two strictly increasing finite "
                             f"values, got {capacities!r}")
    return values


def _check_floor(loss_floor):
    if loss_floor is None:
        return None
    if isinstance(loss_floor, bool) or not isinstance(loss_floor, numbers.Real) \
            or not np.isfinite(loss_floor):
        raise BenchmarkError(f"loss_floor must be a finite number or None, got {loss_floor!r}")
    return float(loss_floor)


def loss_capacity_explicitness(capacities, losses, baseline_loss, *,
                               loss_floor: float | None = 0.0) -> np.ndarray:
    """Explicitness of loss-capacity curves.

    Parameters
    ----------
    capacities : sequence of float, shape (M,)
        Probe capacities, strictly increasing (the x axis as given: pass logs
        for a logarithmic axis).
    losses : array of shape (M,) or (K, M)
        Held-out loss of each probe, one row per factor.
    baseline_loss : float or array of shape (K,)
        ``l_b``: the loss of a probe that knows nothing, per factor (positive).
    loss_floor : float or None, default 0.0
        ``l*``, the loss the area is measured from.  ``None``: each curve's own
        minimum, as the reference does.

    Returns
    -------
    ndarray of shape (K,) (a 0-d array for one curve)
        ``1 - AULCC / Z`` per curve (see the module docstring).

    Examples
    --------
    >>> # from l_b straight down to 0 at the largest capacity: the normaliser's triangle
    >>> float(loss_capacity_explicitness([1, 2, 3], [1.0, 0.5, 0.0], 1.0))
    0.0
    >>> float(loss_capacity_explicitness([1, 2, 3], [1.0, 1.0, 1.0], 1.0))
    -1.0
    >>> float(loss_capacity_explicitness([1, 2, 3], [1.0, 1.0, 1.0], 1.0, loss_floor=None))
    1.0
    """
    x = _check_capacities(capacities, "capacities")
    curves = np.asarray(losses, dtype=float)
    single = curves.ndim == 1
    curves = np.atleast_2d(curves)
    if curves.ndim != 2 or curves.shape[1] != x.size or not np.all(np.isfinite(curves)):
        raise BenchmarkError(f"losses must be finite, of shape ({x.size},) or (K, {x.size}), "
                             f"got shape {np.shape(losses)}")
    base = np.broadcast_to(np.asarray(baseline_loss, dtype=float), (curves.shape[0],))
    if not np.all(np.isfinite(base)) or np.any(base <= 0):
        raise BenchmarkError(f"baseline_loss must be positive, got {baseline_loss!r}")
    floor = _check_floor(loss_floor)
    # A larger probe can always be replaced by the best smaller one: the curve is the
    # lowest loss reached up to each capacity.
    curves = np.minimum.accumulate(curves, axis=1)
    floors = curves.min(axis=1, keepdims=True) if floor is None else floor
    above = curves - floors
    area = np.sum(0.5 * (above[:, 1:] + above[:, :-1]) * np.diff(x), axis=1)
    scores = 1.0 - area / (0.5 * (x[-1] - x[0]) * base)
    return scores[0] if single else scores


def _probe(x_train, y_train, x_test, y_test, depth, categorical, num_trees, seed):
    """Held-out loss and absolute impurity importances of one forest."""
    forest = RandomForestClassifier if categorical else RandomForestRegressor
    model = forest(n_estimators=num_trees, max_depth=depth, random_state=seed, n_jobs=1)
    model.fit(x_train, y_train)
    return 1.0 - float(model.score(x_test, y_test)), np.abs(model.feature_importances_)


def _mlp_probe(x_train, y_train, x_test, y_test, width, categorical, epochs, seed):
    """Held-out loss of one MLP probe (no importances: see the module docstring)."""
    mlp = MLPClassifier if categorical else MLPRegressor
    # n_iter_no_change = max_iter: the reference trains for a fixed budget, never stops early.
    model = mlp(hidden_layer_sizes=(width, width) if width else (), alpha=0.0,
                learning_rate_init=_MLP_LEARNING_RATE, batch_size=_MLP_BATCH, max_iter=epochs,
                n_iter_no_change=epochs, random_state=seed)
    model.fit(x_train, y_train)
    return 1.0 - float(model.score(x_test, y_test)), None


def _mlp_parameters(num_codes: int, width: int, outputs: int) -> int:
    """Trainable parameters of the reference's probe for one factor
    (``IndependentMLPs`` of ``src/loss_capacity/probing.py``, two hidden layers)."""
    if width == 0:
        return (num_codes + 1) * outputs
    return (num_codes + 1) * width + (width + 1) * width + (width + 1) * outputs


def _check_probe(probe) -> str:
    if probe not in ("forest", "mlp"):
        raise BenchmarkError(f"probe must be 'forest' or 'mlp', got {probe!r}")
    return probe


def _categorical_mask(categorical, num_factors: int) -> np.ndarray:
    mask = np.zeros(num_factors, dtype=bool)
    if categorical is None:
        return mask
    entries = np.asarray(categorical).reshape(-1)
    if entries.dtype == bool:
        if entries.size != num_factors:
            raise BenchmarkError(f"categorical as a mask needs {num_factors} entries, "
                                 f"got {entries.size}")
        return entries.copy()
    for entry in entries.tolist():
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral) \
                or not 0 <= entry < num_factors:
            raise BenchmarkError(f"categorical must list factor indices in 0..{num_factors - 1}, "
                                 f"got {categorical!r}")
        mask[entry] = True
    return mask


def dci_es_score(codes, factors, codes_test, factors_test, *,
                 max_depths=REFERENCE_DEPTHS, num_trees: int = 100, categorical=None,
                 factor_sizes=None, loss_floor: float | None = 0.0, random_state: int = 0,
                 n_jobs: int | None = -1, probe: str = "forest",
                 hidden_dims=REFERENCE_HIDDEN_DIMS) -> dict:
    """DCI-ES explicitness and size of given codes and factors.

    Parameters
    ----------
    codes, codes_test : ndarray of shape (n, L)
        Codes the probes are fitted on and scored on (the reference's train and
        test splits; its validation split does not enter the score).
    factors, factors_test : ndarray of shape (n, K), integer value indices
    max_depths : sequence of int, default the reference's grid
        Forest capacities: the forests' ``max_depth``, strictly increasing.
    num_trees : int, default 100
        Trees per forest (the reference's).
    categorical : sequence of int or bool mask, optional
        Factors predicted as classes (accuracy); the others are regressed on
        ``index / (size - 1)`` (R^2).  Default: none.
    factor_sizes : sequence of int, optional
        Number of values of each factor (default: the largest index seen + 1,
        at least 2); sets the scaling and the classification baseline.
    loss_floor : float or None, default 0.0
        ``l*`` (see :func:`loss_capacity_explicitness`); ``None`` is the reference.
    random_state : int
        Seeds one probe seed per factor (the same at every capacity).
    n_jobs : int or None, default -1
        Threads fitting the probes (the result does not depend on it).
    probe : {"forest", "mlp"}, default "forest"
        Random forests over ``max_depths``, or the reference's MLPs over
        ``hidden_dims`` (see the module docstring; ``max_depths`` and
        ``num_trees`` are then unused).
    hidden_dims : sequence of int, default :data:`REFERENCE_HIDDEN_DIMS`
        MLP capacities: the width of both hidden layers (0: a linear probe),
        increasing so that the parameter counts increase.

    Returns
    -------
    dict
        ``explicitness`` (the headline: mean over factors), ``size`` (``K / L``),
        ``informativeness`` (the best mean held-out score over capacities),
        ``best_capacity`` (the first capacity reaching it: a depth, or an MLP's
        parameter count per factor), ``explicitness_<k>`` per factor, and for
        forests ``disentanglement`` and ``completeness`` at that depth.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(200) % 2, np.arange(200) // 50], axis=1)
    >>> out = dci_es_score(y + 0.0, y, y + 0.0, y, max_depths=(1, 2, 4), num_trees=5,
    ...                    categorical=[0])
    >>> out["explicitness_0"], out["size"]  # a binary factor: a depth-1 probe is exact
    (1.0, 1.0)
    """
    codes_train, factors_train = check_codes_factors(codes, factors)
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    if codes_test.shape[1] != num_codes or factors_test.shape[1] != num_factors:
        raise BenchmarkError(
            f"test arrays have {codes_test.shape[1]} codes / {factors_test.shape[1]} factors, "
            f"training arrays {num_codes} / {num_factors}")
    if np.any(factors_train < 0) or np.any(factors_test < 0):
        raise BenchmarkError("factors must hold non-negative value indices")
    probe = _check_probe(probe)
    depths = _check_capacities(max_depths, "max_depths")
    if np.any(depths < 1) or np.any(depths != np.round(depths)):
        raise BenchmarkError(f"max_depths must be positive integers, got {max_depths!r}")
    depths = depths.astype(int)
    widths = _check_capacities(hidden_dims, "hidden_dims")
    if np.any(widths < 0) or np.any(widths != np.round(widths)):
        raise BenchmarkError(f"hidden_dims must be non-negative integers, got {hidden_dims!r}")
    widths = widths.astype(int)
    num_trees = check_positive_int(num_trees, "num_trees")
    floor = _check_floor(loss_floor)
    is_class = _categorical_mask(categorical, num_factors)
    seen = np.maximum(factors_train.max(axis=0), factors_test.max(axis=0)) + 1
    if factor_sizes is None:
        sizes = np.maximum(seen, 2)
    else:
        sizes = np.asarray(factor_sizes).reshape(-1)
        if sizes.size != num_factors or not np.issubdtype(sizes.dtype, np.integer) \
                or np.any(sizes < 2) or np.any(sizes < seen):
            raise BenchmarkError(f"factor_sizes must give {num_factors} integers >= 2 covering "
                                 f"the factor indices, got {factor_sizes!r}")
    targets_train = [factors_train[:, k] if is_class[k] else factors_train[:, k] / (sizes[k] - 1)
                     for k in range(num_factors)]
    targets_test = [factors_test[:, k] if is_class[k] else factors_test[:, k] / (sizes[k] - 1)
                    for k in range(num_factors)]
    seeds = np.random.default_rng(random_state).integers(2**31, size=num_factors)
    # Forests break ties between equally good splits by a random feature order, and an
    # MLP's initial weights are drawn row by row; a canonical column order (the columns'
    # ranks, which permuting latents does not change) makes every score exactly
    # invariant to permuting the latents.
    order = _canonical_order(codes_train)
    x_train, x_test = codes_train[:, order], codes_test[:, order]
    if probe == "forest":
        capacities = depths
        axis = depths
    else:
        outputs = np.where(is_class, sizes, 1)
        # The reference's x axis: log of the parameters of all factors' probes / K.
        capacities = np.array([sum(_mlp_parameters(num_codes, int(w), int(o)) for o in outputs)
                               // num_factors for w in widths])
        if np.any(np.diff(capacities) <= 0):
            raise BenchmarkError(f"hidden_dims {hidden_dims!r} give parameter counts "
                                 f"{capacities.tolist()}, which must increase")
        axis = np.log(capacities)
        # The reference loads its codes standardised (load_representation_dataset); the
        # training rows' statistics serve both splits, as a fitted scaler would.
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
        epochs = -(-_MLP_SAMPLES // x_train.shape[0])

    def fit(task):
        k, j = task
        if probe == "forest":
            return _probe(x_train, targets_train[k], x_test, targets_test[k], int(depths[j]),
                          bool(is_class[k]), num_trees, int(seeds[k]))
        return _mlp_probe(x_train, targets_train[k], x_test, targets_test[k], int(widths[j]),
                          bool(is_class[k]), epochs, int(seeds[k]))

    # Largest probes first: they take longest, so the threads finish together.
    tasks = [(k, j) for j in range(capacities.size - 1, -1, -1) for k in range(num_factors)]
    if probe == "forest":
        fitted = fit_in_threads(fit, tasks, n_jobs=n_jobs)
    else:
        # One BLAS thread per fit: the fits share the cores through n_jobs, and their
        # sums are then reduced in the same order whatever n_jobs is.  The fixed budget
        # ends every fit at max_iter, which scikit-learn reports as non-convergence.
        with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = fit_in_threads(fit, tasks, n_jobs=n_jobs)
    losses = np.empty((num_factors, capacities.size))
    importance = np.empty((capacities.size, num_codes, num_factors))
    for (k, j), (loss, weights) in zip(tasks, fitted):
        losses[k, j] = loss
        if weights is not None:
            importance[j, order, k] = weights
    baseline = np.where(is_class, 1.0 - 1.0 / sizes, 1.0)
    per_factor = loss_capacity_explicitness(axis, losses, baseline, loss_floor=floor)
    mean_score = np.mean(1.0 - losses, axis=0)
    best = int(np.argmax(mean_score))
    out = {
        "explicitness": float(np.mean(per_factor)),
        "size": num_factors / num_codes,
        "informativeness": float(mean_score[best]),
        "best_capacity": float(capacities[best]),
    }
    if probe == "forest":
        out["disentanglement"] = disentanglement(importance[best])
        out["completeness"] = completeness(importance[best])
    out.update({f"explicitness_{k}": float(e) for k, e in enumerate(per_factor)})
    return out


def dci_es(rep, rng, *, num_train: int = 4000, num_test: int = 1000,
           max_depths=REFERENCE_DEPTHS, num_trees: int = 20, categorical="auto",
           loss_floor: float | None = 0.0, n_jobs: int | None = -1) -> dict:
    """DCI-ES explicitness and size of ``rep`` with random-forest probes.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 4000 and 1000
        Codes the probes are fitted on and scored on (the reference: 8000 and
        1000, plus 1000 validation codes it does not score with).
    max_depths : sequence of int, default :data:`REFERENCE_DEPTHS`
        Probe depths (the reference's grid: E depends on the capacity axis, so
        scores are comparable only on the same grid).
    num_trees : int, default 20
        Trees per forest (the reference: 100; on the ideal dSprites codes 20
        trees change E by less than 1e-4).
    categorical : "auto", None or sequence of int / str
        Factors (indices or names) predicted as classes; ``"auto"``: those named
        in :data:`CATEGORICAL_NAMES`, as the authors' data sets do; ``None``: none.
    loss_floor : float or None, default 0.0
        ``None`` follows the reference (see the module docstring).
    n_jobs : int or None, default -1

    Returns
    -------
    dict
        The keys of :func:`dci_es_score`, with ``explicitness_<factor name>``
        per factor.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = dci_es(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=400, num_test=200,
    ...              max_depths=(1, 2, 4), num_trees=5)
    >>> # exact from depth 2 on: only the depth-1 probes' loss counts against E
    >>> round(out["explicitness"], 1), out["informativeness"], out["size"]
    (0.9, 1.0, 1.0)
    """
    rng = check_rng(rng)
    names = list(rep.space.names)
    if isinstance(categorical, str) and categorical == "auto":
        indices = [k for k, name in enumerate(names) if name in CATEGORICAL_NAMES]
    elif isinstance(categorical, str):
        raise BenchmarkError(f"categorical must be 'auto' or a sequence of factors, "
                             f"got {categorical!r}")
    else:
        indices = []
        entries = [] if categorical is None else np.asarray(categorical, dtype=object)
        for entry in np.reshape(entries, -1).tolist():
            if isinstance(entry, str):
                if entry not in names:
                    raise BenchmarkError(f"categorical: unknown factor {entry!r}; "
                                         f"factors are {', '.join(names)}")
                entry = names.index(entry)
            indices.append(entry)
    codes, factors, codes_test, factors_test = train_test_codes(rep, rng, num_train, num_test)
    out = dci_es_score(codes, factors, codes_test, factors_test, max_depths=max_depths,
                       num_trees=num_trees, categorical=indices, factor_sizes=rep.space.sizes,
                       loss_floor=loss_floor, random_state=seed_from(rng), n_jobs=n_jobs)
    per_factor = [out.pop(f"explicitness_{k}") for k in range(len(names))]
    out.update({f"explicitness_{name}": e for name, e in zip(names, per_factor)})
    return out


SPEC = MetricSpec("dci_es", dci_es, headline="explicitness", family="predictor",
                  display_name="DCI-ES explicitness", target="explicitness",
                  rising={"best_capacity"},
                  quick={"num_train": 1000, "num_test": 500, "num_trees": 10},
                  cost=(6, 0.87))
