"""A user's encodings as a representation: lookup, posteriors, and files refused in one clear line."""
import numpy as np
import pytest

from benchmark import BenchmarkError
from benchmark.encodings import from_arrays, load_dsprites_factors, load_encodings
from make_encodings import vae_like_encodings  # noqa: E402


def grid(sizes, repeat=1):
    g = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    return np.repeat(g, repeat, axis=0)


def test_table_lookup_returns_the_rows_codes():
    factors = grid((3, 4))
    codes = factors * np.array([10.0, 1.0])
    rep = from_arrays(factors, codes)
    rng = np.random.default_rng(0)
    query = np.array([[2, 3], [0, 1]])
    np.testing.assert_array_equal(rep.encode(query, rng), [[20.0, 3.0], [0.0, 1.0]])
    np.testing.assert_allclose(rep.space.entropies(), np.log([3, 4]))
    sampled = rep.space.sample(500, rng)
    assert {tuple(r) for r in sampled} <= {tuple(r) for r in factors}
    matched = rep.space.sample_matching(1, np.full(200, 2), rng)
    assert np.all(matched[:, 1] == 2)


def test_missing_combination_is_named():
    factors = np.array([[0, 0], [1, 1], [0, 1]])
    rep = from_arrays(factors, np.zeros((3, 2)))
    with pytest.raises(BenchmarkError, match=r"no row for factor values \{'f0': 1, 'f1': 0\}"):
        rep.encode(np.array([[1, 0]]), np.random.default_rng(0))


def test_posterior_variances_enable_posterior():
    factors = grid((2, 3))
    rep = from_arrays(factors, factors.astype(float), variances=np.full((6, 2), 0.1))
    means, variances = rep.posterior(np.array([[1, 2]]))
    np.testing.assert_array_equal(means, [[1.0, 2.0]])
    np.testing.assert_array_equal(variances, [[0.1, 0.1]])
    assert not hasattr(from_arrays(factors, factors.astype(float)), "posterior")


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("codes"), "missing key(s) codes"),
    (lambda a: a.__setitem__("codes", np.where(np.eye(1, 7, 2, dtype=bool), np.nan, a["codes"])),
     "codes contains NaN"),
    (lambda a: a.__setitem__("codes", a["codes"][:-1]), "differ in number of rows"),
    (lambda a: a.__setitem__("factors", a["factors"].astype(float)), "factors must be integers"),
    (lambda a: a.__setitem__("variances", -a["variances"]), "variances must be positive"),
    (lambda a: a.__setitem__("extra", np.zeros(2)), "unexpected key(s) ['extra']"),
])
def test_bad_encodings_files_get_one_clear_line(run_cli, tmp_path, capsys, change, message):
    arrays = vae_like_encodings(500, np.random.default_rng(0))
    change(arrays)
    path = tmp_path / "enc.npz"
    np.savez(path, **arrays)
    with pytest.raises(BenchmarkError) as info:
        load_encodings(path)
    assert message in str(info.value)
    assert run_cli("--attack", "noise", "--quick", "--encodings", str(path), "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def test_pickled_objects_are_refused(tmp_path):
    arrays = vae_like_encodings(100, np.random.default_rng(0))
    arrays["factor_names"] = np.array(list(arrays["factor_names"]), dtype=object)
    path = tmp_path / "obj.npz"
    np.savez(path, **arrays)
    with pytest.raises(BenchmarkError, match="no pickle"):
        load_encodings(path)


def test_files_that_are_not_npz_archives_are_named_as_such(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("factors,codes\n")
    with pytest.raises(BenchmarkError, match="is not a .npz file"):
        load_encodings(text)
    single = tmp_path / "codes.npy"
    np.save(single, np.zeros((4, 2)))
    with pytest.raises(BenchmarkError, match="single .npy array"):
        load_encodings(single)


def test_single_valued_factor_is_rejected():
    factors = np.column_stack([np.zeros(10, int), np.arange(10) % 2])
    with pytest.raises(BenchmarkError, match="single value"):
        from_arrays(factors, np.zeros((10, 2)))


def test_dsprites_loader_reads_only_latents_classes(tmp_path):
    classes = np.column_stack([np.zeros(12, int), grid((3, 2, 2))[:, [0]], grid((3, 2, 2))[:, 1:],
                               np.arange(12) % 32, np.arange(12)[::-1] % 32])
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    np.savez(path, imgs=np.zeros((12, 2, 2), np.uint8), latents_classes=classes,
             latents_values=classes.astype(float), metadata=np.array({"x": 1}, dtype=object))
    factors, names, sizes = load_dsprites_factors(path)
    np.testing.assert_array_equal(factors, classes[:, 1:])
    assert names[0] == "shape" and sizes == (3, 6, 40, 32, 32)


def test_auto_uses_the_exact_estimator_only_on_tables_that_cover_the_grid(grid_table):
    from benchmark.information import resolve_estimator
    factors, codes, variances = grid_table()
    full = from_arrays(factors, codes, variances)
    assert full.covers_grid and resolve_estimator(full) == "exact"
    # more rows than components: the mixture would be a sparse sample of them
    assert resolve_estimator(full, num_components=10) == "knn"
    sparse = from_arrays(factors[:-5], codes[:-5], variances[:-5])  # combination (2, 3) missing
    assert not sparse.covers_grid and resolve_estimator(sparse) == "knn"
    assert resolve_estimator(sparse, "exact") == "exact"  # still available on request
    assert resolve_estimator(from_arrays(**vae_like_encodings(2000, np.random.default_rng(0)))) == "knn"


def test_huge_factor_values_and_empty_columns_are_refused():
    factors = np.array([[0, 0], [1, 1], [0, 10**9]])
    with pytest.raises(BenchmarkError, match="has 1,000,000,001 values; at most 1,000,000"):
        from_arrays(factors, np.zeros((3, 2)))
    with pytest.raises(BenchmarkError, match="codes has no columns"):
        from_arrays(np.array([[0], [1]]), np.zeros((2, 0)))
    with pytest.raises(BenchmarkError, match="factors has no columns"):
        from_arrays(np.zeros((2, 0), dtype=int), np.zeros((2, 1)))
