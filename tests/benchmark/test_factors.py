"""Factor spaces: the built-in grids, sampling and validation."""
import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace


def test_builtin_spaces_match_the_spec():
    assert FactorSpace.named("dsprites").sizes == (3, 6, 40, 32, 32)
    assert FactorSpace.named("shapes3d").names == (
        "floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert FactorSpace.named("shapes3d").sizes == (10, 10, 10, 8, 4, 15)
    mpi = FactorSpace.named("mpi3d")
    assert mpi.sizes == (6, 6, 2, 3, 3, 40, 40) and mpi.names[-1] == "vertical_axis"
    assert FactorSpace.synthetic((4, 5)).names == ("f0", "f1")


@pytest.mark.parametrize("name, images, num_factors", [
    ("mpi3d", 1_036_800, 7), ("mpi3d_2019", 460_800, 7), ("mpi3d_complex", 460_800, 7),
    ("falcor3d", 233_280, 7), ("isaac3d", 737_280, 9), ("cars3d", 17_568, 3),
    # 48,600 images: 10 instances per combination, not a factor in disentanglement_lib
    ("smallnorb", 48_600 // 10, 4),
])
def test_each_grid_has_its_data_sets_number_of_images(name, images, num_factors):
    space = FactorSpace.named(name)
    assert (int(np.prod(space.sizes)), space.num_factors, space.name) == (images, num_factors, name)
    assert len(set(space.names)) == num_factors


def test_falcor3d_and_isaac3d_follow_their_authors_index_order():
    """NVlabs' README indexes Falcor3D images as lighting_intensity * 46656 + ... and
    Isaac3D with strides 245760, 30720, ...: those of the factors in this order."""
    for name, strides in (("falcor3d", (46656, 7776, 1296, 216, 36, 6, 1)),
                          ("isaac3d", (245760, 30720, 6144, 1536, 384, 96, 16, 4, 1))):
        sizes = FactorSpace.named(name).sizes
        assert tuple(int(np.prod(sizes[k + 1:])) for k in range(len(sizes))) == strides


def test_sample_is_uniform_and_seeded():
    space = FactorSpace.synthetic((3, 7))
    y = space.sample(70000, np.random.default_rng(0))
    assert y.shape == (70000, 2) and y.dtype == np.int64
    freq = np.bincount(y[:, 1], minlength=7) / len(y)
    # binomial SE = sqrt(p(1-p)/n) ~ 0.0013; 5 SE
    np.testing.assert_allclose(freq, 1 / 7, atol=0.007)
    np.testing.assert_array_equal(y, space.sample(70000, np.random.default_rng(0)))
    np.testing.assert_allclose(space.entropies(), np.log([3, 7]))


@pytest.mark.parametrize("bad", [dict(names=("a",), sizes=(1,)), dict(names=("a", "a"), sizes=(2, 3)),
                                 dict(names=("a",), sizes=(2, 3))])
def test_space_rejects_bad_definitions(bad):
    with pytest.raises(BenchmarkError):
        FactorSpace(**bad)


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(BenchmarkError, match="unknown dataset 'nope'"):
        FactorSpace.named("nope")
