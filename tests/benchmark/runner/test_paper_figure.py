"""The paper's redundancy figure: its layout is written, and it shows the paper's point."""
import pandas as pd
import pytest

from benchmark.runner import main


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    assert main(["--attack", "redundancy", "--levels", "0,0.5,1,1.5,2", "--quick", "--seeds", "2",
                 "--metrics", "beta_vae,factor_vae,mig,unibound", "--out", str(out),
                 "--no-progress"]) == 0
    return out / "redundancy"


def headline_means(run_dir):
    scores = pd.read_csv(run_dir / "scores.csv")
    heads = {"beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy", "mig": "mig",
             "unibound": "unibound"}
    scores = scores[[heads[m] == k for m, k in zip(scores.metric, scores.key)]]
    return scores.groupby(["metric", "level"])["score"].mean().unstack("level")


@pytest.mark.slow
def test_paper_figure_is_written(paper_run):
    assert (paper_run / "paper_figure.png").stat().st_size > 10_000
    assert (paper_run / "pid_profile.png").exists()


@pytest.mark.slow
def test_paper_directions(paper_run):
    means = headline_means(paper_run)
    first, last = means[0.0], means[2.0]
    # BetaVAE and FactorVAE: a classifier still finds the fixed factor -> flat or rising
    for metric in ("beta_vae", "factor_vae"):
        assert last[metric] >= first[metric] - 0.01
        assert first[metric] > 0.98
    # MIG falls, but only partly (a few percent)
    mig_drop = (first["mig"] - last["mig"]) / first["mig"]
    assert 0.02 < mig_drop < 0.2
    # UniBound falls clearly and at every step
    uni = means.loc["unibound"]
    assert uni.is_monotonic_decreasing
    uni_drop = (first["unibound"] - last["unibound"]) / first["unibound"]
    assert uni_drop > 0.25 and uni_drop > 2 * mig_drop
    summary = pd.read_csv(paper_run / "summary.csv")
    verdict = summary.drop_duplicates(["metric", "key"]).set_index(["metric", "key"])["verdict"]
    assert verdict["unibound", "unibound"] == "detects"
    assert verdict["beta_vae", "eval_accuracy"] == "blind"
