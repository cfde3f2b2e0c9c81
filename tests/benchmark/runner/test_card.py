"""The report card: expected against observed responses, and the card of a small sweep."""
import textwrap

import pandas as pd
import pytest

import attacks
from benchmark.runner import card, get_metric
from benchmark.spec import MetricSpec


def rows(means, stds, n=3, verdict="blind", first=None):
    first = means[0] if first is None else first
    change = (means[-1] - first) / abs(first) if first else 0.0
    return pd.DataFrame({"level": range(len(means)), "mean": means, "std": stds, "n_seeds": n,
                         "relative_change": change, "verdict": verdict})


def test_observed_flat_is_within_the_metric_s_own_noise():
    # level-0 spread 0.05 over 3 seeds: 3 SE of a difference of means is 0.122
    assert card.observed_response(rows([0.8, 0.9, 0.7], [0.05, 0.0, 0.3]))[0] == "flat"
    assert card.observed_response(rows([0.8, 0.95, 0.8], [0.05, 0.0, 0.0]))[0] == "moves"
    # a noiseless score may still wobble by FLAT_TOLERANCE
    assert card.observed_response(rows([1.0, 0.99, 0.985], [0.0, 0.0, 0.0]))[0] == "flat"
    falls = card.observed_response(rows([1.0, 0.6, 0.2], [0.0] * 3, verdict="detects"))
    assert falls == ("falls", pytest.approx(-0.8))
    assert card.observed_response(rows([0.2, 0.5], [0.0, 0.0], verdict="inverted"))[0] == "rises"


def test_expected_responses_follow_the_metric_s_target():
    redundancy, rescale = attacks.get("redundancy"), attacks.get("rescale")
    assert card.expected_response(get_metric("beta_vae"), redundancy) == "fall"  # modularity
    assert card.expected_response(get_metric("unibound"), redundancy) == "fall"
    assert card.expected_response(get_metric("beta_vae"), attacks.get("duplicate")) == "flat"
    untargeted = MetricSpec("plain", lambda rep, rng: 0.0, "plain")
    assert card.expected_response(untargeted, rescale) == "flat"  # every property agrees
    assert card.expected_response(untargeted, redundancy) is None  # properties disagree


@pytest.mark.slow
def test_the_card_of_a_small_sweep(run_cli, tmp_path, capsys):
    plugin = tmp_path / "bad.py"
    plugin.write_text(textwrap.dedent("""
        import numpy as np

        def first_variance(rep, rng):
            # deliberately bad: the variance of the first latent depends on its units
            y = rep.space.sample(2000, rng)
            return float(np.var(rep.encode(y, rng)[:, 0]))
    """))
    out = tmp_path / "out"
    assert run_cli("--attack", "permute,rescale,warp,redundancy,synergy", "--quick", "--seeds", "2",
                   "--metrics", "unibound", "--metric", f"{plugin}:first_variance",
                   "--out", str(out)) == 0
    assert "UniBound answers 5 of 5 attacks as expected" in capsys.readouterr().out
    graded = pd.read_csv(out / "report_card.csv", keep_default_na=False).set_index(["metric", "attack"])
    assert list(graded.columns) == card.CARD_COLUMNS[2:]
    for attack in ("permute", "rescale", "warp"):
        assert graded.loc[("unibound", attack), "observed"] == "flat"
    for attack in ("redundancy", "synergy"):
        assert graded.loc[("unibound", attack), ["expected", "observed"]].tolist() == ["fall", "falls"]
    assert (graded.xs("unibound")["agrees"] == "true").all()
    bad = graded.loc[("first_variance", "rescale")]
    assert bad["expected"] == "flat" and bad["agrees"] == "false"
    assert graded.loc[("first_variance", "redundancy"), "agrees"] == ""  # no claim without a target
    assert (out / "report_card.png").stat().st_size > 10_000


def test_missing_scores_and_rising_headlines():
    assert card.observed_response(rows([0.5, float("nan")], [0.0, 0.0]))[0] == "n/a"
    # a headline that measures entanglement: the summary's "detects" means it rose
    assert card.observed_response(rows([0.1, 0.6], [0.0, 0.0], verdict="detects"), rising=True)[0] \
        == "rises"
    # a clear trend is a trend even when level 0 is noisy
    noisy = rows([1.0, 0.8, 0.63], [0.2, 0.2, 0.2], verdict="detects")
    assert card.observed_response(noisy)[0] == "falls"
