"""The figures group metrics by family, and every built-in metric has a colour."""
from benchmark.runner.plotting import metric_colours, metric_order
from benchmark.runner.registry import BUILTIN_SPECS
from benchmark.spec import FAMILIES, MetricSpec

SPECS = {spec.name: spec for spec in BUILTIN_SPECS}


def test_rows_are_grouped_by_family_in_the_listed_order():
    plugin = MetricSpec("my_metric", lambda rep, rng: 0.0, "my_metric", source="plugin")
    specs = {**SPECS, "my_metric": plugin}
    order = metric_order([*SPECS, "my_metric"], specs, by_family=True)
    families = [specs[m].family for m in order]
    ranks = [FAMILIES.index(f) if f else len(FAMILIES) for f in families]
    assert ranks == sorted(ranks)  # intervention, predictor, information, then the rest
    assert order[-1] == "my_metric"
    assert set(order) == set(specs)


def test_every_builtin_metric_has_its_own_colour():
    colours = metric_colours(list(SPECS), SPECS)
    assert set(SPECS) <= set(colours)
    assert len({colours[m] for m in SPECS if not SPECS[m].highlight}) == len(SPECS) - 1
