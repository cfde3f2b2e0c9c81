"""A user's encodings as a representation: lookup, posteriors, and files refused in one clear line."""
import io
import zipfile

import numpy as np
import pytest

import benchmark.encodings as encodings
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
    # more rows than components: every row is still a component (the streamed kernel)
    assert resolve_estimator(full, num_components=10) == "exact"
    sparse = from_arrays(factors[:-5], codes[:-5], variances[:-5])  # combination (2, 3) missing
    # a sample of a posterior table: kNN on posterior draws; a table of means: plain kNN
    assert not sparse.covers_grid and resolve_estimator(sparse) == "posterior_knn"
    assert resolve_estimator(sparse, "exact") == "exact"  # still available on request
    vae_like = from_arrays(**vae_like_encodings(2000, np.random.default_rng(0)))
    assert resolve_estimator(vae_like) == "posterior_knn"
    assert resolve_estimator(from_arrays(factors[:-5], codes[:-5])) == "knn"


def test_huge_factor_values_and_empty_columns_are_refused():
    factors = np.array([[0, 0], [1, 1], [0, 10**9]])
    with pytest.raises(BenchmarkError, match="has 1,000,000,001 values; at most 1,000,000"):
        from_arrays(factors, np.zeros((3, 2)))
    with pytest.raises(BenchmarkError, match="codes has no columns"):
        from_arrays(np.array([[0], [1]]), np.zeros((2, 0)))
    with pytest.raises(BenchmarkError, match="factors has no columns"):
        from_arrays(np.zeros((2, 0), dtype=int), np.zeros((2, 1)))


# --- exact look-up when the factor grid has more than 2**63 cells -------------------------------

def test_lookup_is_exact_when_an_int64_key_would_wrap():
    # these two rows had the same int64 radix key: 18e18 + 446744e12 + 73709e6 + 551616 == 2**64
    factors = np.array([[0, 0, 0, 0], [18, 446744, 73709, 551616]])
    rep = from_arrays(factors, np.array([[0.0], [1.0]]), factor_sizes=[10**6] * 4)
    rng = np.random.default_rng(0)
    query = np.repeat(factors, 50, axis=0)
    np.testing.assert_array_equal(rep.encode(query, rng)[:, 0], np.repeat([0.0, 1.0], 50))


def test_lookup_is_exact_for_hundreds_of_binary_factors():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 2, size=(400, 300))
    # rows that differ only before their last 64 factors: an int64 radix key (2**k wraps to 0
    # from k = 64 on) gave them all one key
    factors[2:, -64:] = 0
    factors[:2] = [[0], [1]]
    factors = np.unique(factors, axis=0)
    factors = factors[rng.permutation(len(factors))]
    codes = np.arange(len(factors), dtype=float)[:, None]
    rep = from_arrays(factors, codes, variances=np.ones_like(codes))
    # the posterior's draws are centred on the row looked up
    np.testing.assert_array_equal(rep.codes[rep._rows(factors, rng)], codes)
    assert not rep.covers_grid
    with pytest.raises(BenchmarkError, match="no row for factor values"):
        rep.encode(1 - factors[:1], rng)


def test_many_huge_factors_do_not_overflow_the_grid_size():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 10**6, size=(50, 60))
    factors[:2] = [[0] * 60, [10**6 - 1] * 60]  # every factor takes at least two values
    codes = np.arange(50, dtype=float)[:, None]
    rep = from_arrays(factors, codes, variances=np.ones_like(codes), factor_sizes=[10**6] * 60)
    assert not rep.covers_grid  # 1e360 cells: a float product would be inf
    np.testing.assert_array_equal(rep.codes[rep._rows(factors, rng)], codes)


def test_multi_word_keys_pick_the_same_rows_as_int64_keys(monkeypatch):
    factors = grid((3, 4, 5), repeat=3)[np.random.default_rng(1).permutation(180)]
    codes = np.random.default_rng(2).normal(size=(180, 2))
    fast = from_arrays(factors, codes, variances=np.ones_like(codes))
    monkeypatch.setattr(encodings, "_INT64_KEYS", 5)  # one factor per word
    exact = from_arrays(factors, codes, variances=np.ones_like(codes))
    assert fast._radix.shape[1] == 1 and exact._radix.shape[1] == 3
    np.testing.assert_array_equal(exact._order, fast._order)
    query = grid((3, 4, 5), repeat=4)
    np.testing.assert_array_equal(exact._rows(query, np.random.default_rng(7)),
                                  fast._rows(query, np.random.default_rng(7)))
    assert exact.covers_grid and fast.covers_grid
    keep = ~np.all(factors == [2, 3, 4], axis=1)
    assert not from_arrays(factors[keep], codes[keep], variances=np.ones((177, 2))).covers_grid


# --- files whose headers claim more than can be loaded -------------------------------------------

def fake_npz(path, **members):
    """An .npz whose members are bare .npy headers ``key=(shape, dtype)``: no data behind them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, (shape, dtype) in members.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {
                "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                "shape": shape})
            archive.writestr(f"{key}.npy", header.getvalue() + bytes(64))
    return path


SMALL = {"factors": ((10, 2), "<i8"), "codes": ((10, 3), "<f8")}


@pytest.mark.parametrize("key, shape, dtype, message", [
    ("codes", (10**6, 10**6), "<f8", "(1000000, 1000000), 1,000,000 latents; at most 4,096"),
    ("factors", (10**8, 5), "<i8", "(100000000, 5), 100,000,000 rows; at most 10,000,000"),
    ("factors", (10, 300), "<i8", "'factors' has shape (10, 300), 300 factors; at most 64"),
    ("variances", (10**7, 1000), "<f8", "'variances' has shape (10000000, 1000) of float64, 74.5 GiB"),
    ("factor_names", (10**5,), "<U8", "'factor_names' has shape (100000,), 100,000 entries; at most 64"),
    ("factor_names", (4,), "<U200000000", "'factor_names' has shape (4,) of <U200000000, 3.0 GiB"),
    ("codes", (10**6,) * 3, "<f8", "(1000000, 1000000, 1000000) of float64, 7,450,580,596.9 GiB"),
])
def test_oversized_arrays_are_refused_from_their_headers(run_cli, tmp_path, capsys, key, shape, dtype,
                                                         message):
    path = fake_npz(tmp_path / "bomb.npz", **{**SMALL, key: (shape, dtype)})
    with pytest.raises(BenchmarkError) as info:
        load_encodings(path)
    assert str(info.value).startswith(f"bomb.npz: '{key}' has shape ") and message in str(info.value)
    assert run_cli("--attack", "noise", "--quick", "--encodings", str(path), "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def test_wide_encodings_load_up_to_the_limit(tmp_path):
    factors = np.repeat(np.arange(4)[:, None], 3, axis=0)
    codes = np.random.default_rng(0).standard_normal((12, encodings.MAX_LATENTS)).astype(np.float32)
    np.savez(tmp_path / "wide.npz", factors=factors, codes=codes)
    assert encodings.MAX_LATENTS == 4096 and load_encodings(tmp_path / "wide.npz").dim == 4096
    np.savez(tmp_path / "wider.npz", factors=factors, codes=np.zeros((12, 4097), np.float32))
    with pytest.raises(BenchmarkError, match="4,097 latents; at most 4,096"):
        load_encodings(tmp_path / "wider.npz")


def test_a_file_beyond_the_free_memory_is_refused_before_loading(run_cli, tmp_path, capsys,
                                                                monkeypatch):
    path = tmp_path / "big.npz"
    np.savez(path, factors=np.repeat(np.arange(4)[:, None], 250, axis=0),
             codes=np.zeros((1000, 2048), np.float32))
    # 1000 x 2048 float32 codes, their float64 copy and the factors' index: about 24 MB
    assert encodings._bytes_to_load(encodings._npz_headers(path)) == pytest.approx(24.6e6, rel=0.01)
    monkeypatch.setattr(encodings, "_available_bytes", lambda: 10 * 2**20)
    with pytest.raises(BenchmarkError, match=r"big.npz: reading its codes of shape \(1000, 2048\) "
                                             r"needs about 0.0 GiB and this machine has 0.0 GiB free"):
        load_encodings(path)
    assert run_cli("--attack", "noise", "--quick", "--encodings", str(path), "--out", str(tmp_path)) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    monkeypatch.setattr(encodings, "_available_bytes", lambda: None)  # a system that does not say
    assert load_encodings(path).dim == 2048


def test_a_compressed_file_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    monkeypatch.setattr(encodings, "MAX_ROWS", 1000)
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, factors=np.tile([[0, 1], [1, 0]], (600, 1)), codes=np.zeros((1200, 4)))
    assert path.stat().st_size < 10_000
    with pytest.raises(BenchmarkError, match=r"zeros.npz: 'factors' has shape \(1200, 2\), 1,200 rows"):
        load_encodings(path)


def test_members_that_are_not_npy_arrays_and_unreadable_data_get_one_line(tmp_path):
    path = tmp_path / "raw.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("factors.npy", b"not an array at all")
        archive.writestr("codes.npy", b"")
    with pytest.raises(BenchmarkError, match=r"raw.npz: '(factors|codes)' is not a .npy array"):
        load_encodings(path)
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, factors=grid((2, 2)), codes=np.zeros((4, 2)))
    truncated.write_bytes(truncated.read_bytes()[:-40])  # the zip directory is cut short
    with pytest.raises(BenchmarkError, match="truncated.npz is not a"):
        load_encodings(truncated)


def test_memory_errors_while_loading_become_one_line(tmp_path, monkeypatch):
    path = tmp_path / "enc.npz"
    np.savez(path, factors=grid((2, 2)), codes=np.zeros((4, 2)))

    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.28 TiB for an array with shape (1000000, 1000000)")

    with monkeypatch.context() as patch:
        patch.setattr(np.lib.format, "read_array", out_of_memory)
        with pytest.raises(BenchmarkError, match=r"^enc.npz: not enough memory to load it \(Unable"):
            load_encodings(path)
    monkeypatch.setattr(encodings, "from_arrays", out_of_memory)
    with pytest.raises(BenchmarkError, match="^enc.npz: not enough memory to index the encodings"):
        load_encodings(path)


def test_dsprites_loader_refuses_an_oversized_latents_classes(tmp_path):
    path = fake_npz(tmp_path / "dsprites.npz", latents_classes=((10**9, 6), "<i8"),
                    imgs=((10**9, 64, 64), "|u1"))
    with pytest.raises(BenchmarkError, match=r"^dsprites.npz: 'latents_classes' has shape \(1000000000, 6\)"):
        load_dsprites_factors(path)
    missing = fake_npz(tmp_path / "other.npz", imgs=((3, 64, 64), "|u1"))
    with pytest.raises(BenchmarkError, match="^other.npz has no 'latents_classes' array"):
        load_dsprites_factors(missing)
