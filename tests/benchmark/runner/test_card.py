"""The report card: expected against observed responses, and the card of a small sweep."""
import textwrap

import numpy as np
import pandas as pd
import pytest

import attacks
from benchmark.runner import card, get_metric
from benchmark.spec import MetricSpec


def rows(per_level, levels=None):
    """``scores.csv`` rows of one key: ``per_level[i]`` holds each seed's score at level i."""
    levels = range(len(per_level)) if levels is None else levels
    return pd.DataFrame([(level, seed, score) for level, scores in zip(levels, per_level)
                         for seed, score in enumerate(scores)], columns=["level", "seed", "score"])


def test_the_interval_is_a_paired_t_interval():
    """Per-seed changes -0.1, -0.2, -0.3: mean -0.2, sd 0.1, t(0.975, 2) = 4.3027."""
    intervals = card.change_intervals(rows([[1.0, 1.0, 1.0], [0.9, 0.8, 0.7]]))
    half = 4.302653 * 0.1 / np.sqrt(3)
    assert intervals.loc[1, ["change", "low", "high"]].tolist() == pytest.approx(
        [-0.2, -0.2 - half, -0.2 + half], abs=1e-6)


def test_the_flat_band_is_three_seed_deviations_with_a_floor():
    assert card.flat_band(rows([[1.0, 0.9, 0.8], [0.5, 0.5, 0.5]])) == pytest.approx(0.3)
    assert card.flat_band(rows([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])) == pytest.approx(0.005)
    # a score of 0 that rounding moves by 1e-16 is flat
    zero = rows([[1e-16, -1e-16, 0.0], [2e-16, 1e-16, 3e-16]])
    assert card.flat_band(zero) == card.BAND_ROUNDING and card.observed_response(zero)["observed"] == "flat"


def test_verdicts_follow_the_interval_and_the_band():
    seen = card.observed_response
    # level-0 spread 0.05: band 0.15; paired changes tight around -0.5
    falls = seen(rows([[0.8, 0.9, 0.85], [0.3, 0.41, 0.35]]))
    assert falls["observed"] == "falls"
    assert falls["relative_change"] == pytest.approx(-1.49 / 3 / 0.85, abs=1e-6)
    assert falls["change_low"] < falls["change_high"] < -falls["flat_band"]
    assert seen(rows([[0.2, 0.2, 0.2], [0.6, 0.61, 0.59]]))["observed"] == "rises"
    # every level within the band, however noisy its seeds
    assert seen(rows([[0.8, 0.9, 0.85], [0.82, 0.88, 0.86], [0.8, 0.9, 0.84]]))["observed"] == "flat"
    # a confident fall in the middle that comes back at the top
    moves = seen(rows([[1.0, 1.0, 1.01], [0.5, 0.5, 0.52], [1.0, 1.0, 1.01]]))
    assert moves["observed"] == "moves" and moves["level"] == 1.0
    # a fall at the middle level, and a top level whose interval straddles the band's edge
    straddles = seen(rows([[1.0, 1.0, 1.01], [0.8, 0.8, 0.81], [0.55, 0.95, 0.60]]))
    assert straddles["observed"] == "inconclusive"
    # one level only, or a seed missing at a level
    assert seen(rows([[1.0, 0.9]]))["observed"] == "n/a"
    holed = rows([[1.0, 0.9, 0.95], [0.5, 0.45, 0.47]]).iloc[:-1]
    assert seen(holed)["n_seeds"] == 2
    # two seeds that disagree: the interval straddles the band's edge
    assert seen(rows([[1.0, 1.0], [0.7, 1.0]]))["observed"] == "inconclusive"
    # one seed: no interval at all
    one = seen(rows([[1.0], [0.2]]))
    assert one["observed"] == "inconclusive" and np.isinf(one["change_low"])
    # a noiseless score may still wobble within 1 % of its level-0 value
    assert seen(rows([[1.0, 1.0], [0.995, 0.995]]))["observed"] == "flat"


def test_expected_responses_follow_the_metric_s_target():
    redundancy, rescale = attacks.get("redundancy"), attacks.get("rescale")
    assert card.expected_response(get_metric("beta_vae"), redundancy) == "fall"  # modularity
    assert card.expected_response(get_metric("unibound"), redundancy) == "fall"
    assert card.expected_response(get_metric("beta_vae"), attacks.get("duplicate")) == "flat"
    untargeted = MetricSpec("plain", lambda rep, rng: 0.0, "plain")
    assert card.expected_response(untargeted, rescale) == "flat"  # every property agrees
    assert card.expected_response(untargeted, redundancy) is None  # properties disagree
    # a headline that measures entanglement should rise where disentanglement falls
    entangled = MetricSpec("tc", lambda rep, rng: 0.0, "tc", rising=frozenset({"tc"}))
    assert card.expected_response(entangled, attacks.get("noise")) == "rise"
    assert card.expected_response(entangled, rescale) == "flat"


@pytest.mark.slow
def test_the_card_of_a_small_sweep(run_cli, tmp_path, capsys):
    plugin = tmp_path / "bad.py"
    plugin.write_text(textwrap.dedent("""
        import numpy as np

        def first_variance(rep, rng):
            # deliberately bad: the first latent's spread in log units depends on its units
            # (rescale draws a random scale per seed, up or down: |log| rises either way)
            y = rep.space.sample(2000, rng)
            return float(abs(np.log(np.var(rep.encode(y, rng)[:, 0]))))
    """))
    out = tmp_path / "out"
    assert run_cli("--attack", "permute,rescale,warp,redundancy,synergy", "--quick", "--seeds", "3",
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
    assert bad["expected"] == "flat" and bad["observed"] == "rises" and bad["agrees"] == "false"
    assert graded.loc[("first_variance", "redundancy"), "agrees"] == ""  # no claim without a target
    assert (out / "report_card.png").stat().st_size > 10_000


def test_missing_scores_and_the_tally():
    assert card.observed_response(rows([[0.5, 0.5], [float("nan"), 0.5]]))["observed"] == "n/a"
    spec = MetricSpec("m", lambda rep, rng: 0.0, "m", target="modularity")
    frames = {"permute": pd.DataFrame(
        [(level, seed, "m", "m", score) for level, scores in [(0, [1.0, 1.0]), (1, [0.7, 1.0])]
         for seed, score in enumerate(scores)], columns=["level", "seed", "metric", "key", "score"])}
    graded = card.report_card(frames, {"m": spec}, {"permute": attacks.get("permute")})
    assert graded.loc[0, ["expected", "observed", "agrees"]].tolist() == ["flat", "inconclusive", ""]
    assert card.tally(graded, {"m": spec}) == [
        "m: inconclusive under every attack that expects an answer (more seeds decide)"]
