"""Which estimator applies to which representation."""
import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.information import informations, mixture_informations, resolve_estimator
from benchmark.representations import linear_transform


def test_estimator_choice_and_errors(diagonal_posterior):
    rep = ideal(FactorSpace.synthetic([3, 4]))
    assert resolve_estimator(rep) == "exact"
    assert resolve_estimator(rep, "knn") == "knn"
    assert informations(rep, np.random.default_rng(0), num_mc_points=500).estimator == "exact"
    with pytest.raises(BenchmarkError, match="estimator"):
        resolve_estimator(rep, "bogus")
    with pytest.raises(BenchmarkError, match="num_mc_points"):
        mixture_informations(rep, np.random.default_rng(0), num_mc_points=0)
    with pytest.raises(BenchmarkError, match="rng"):
        mixture_informations(rep, "seed")
    table = linear_transform(diagonal_posterior(np.eye(3), np.ones((3, 3))), np.eye(3))
    # an attack on a posterior table does not transform the posteriors: not exact
    assert resolve_estimator(table) == "knn"
    with pytest.raises(BenchmarkError, match="exact"):
        resolve_estimator(table, "exact")


def test_auto_uses_the_exact_estimator_on_a_posterior_grid_only_when_it_fits():
    # a mixture over a sample of a larger grid singles out its components' values of
    # the other factors, so auto falls back to kNN there
    class GridPosterior:

        def __init__(self, sizes):
            self.space, self.dim, self.name = FactorSpace.synthetic(sizes), len(sizes), "grid"

        def posterior(self, y):
            return y / np.asarray(self.space.sizes, float), np.full(y.shape, 0.01)

    assert resolve_estimator(GridPosterior([100, 100])) == "exact"
    assert resolve_estimator(GridPosterior([100, 100]), num_components=2000) == "knn"
    assert resolve_estimator(GridPosterior([100, 100]), "exact", num_components=2000) == "exact"
