"""`python -m ml.bandit evaluate` on plain logged-feedback files that did not come from the pipeline."""

import json

import numpy as np

from ml.bandit.cli import main
from ml.bandit.estimators import true_value
from ml.bandit.simulate import simulate_logged_feedback

ARGS = ["--context", "segment,device,network,hour", "--position", "slot", "--action", "ad_id",
        "--reward", "is_clicked", "--n-bootstrap", "200"]


def test_csv_with_candidate_lists_is_evaluated_with_intervals(tmp_path, capsys):
    log = simulate_logged_feedback(6_000, seed=2)
    table = log.table.assign(candidates=log.table["candidates"].map("|".join))
    table.to_csv(tmp_path / "logged.csv", index=False)
    out = tmp_path / "report.json"
    assert main(["evaluate", str(tmp_path / "logged.csv"), *ARGS, "--out", str(out),
                 "--save-policy", str(tmp_path / "policy")]) == 0
    report = json.loads(out.read_text())
    assert report["train_rows"] == 3_000 and report["rows"] == 3_000
    assert set(report["estimates"]) == {"learned", "uniform", "logging"}
    # the logging policy's value on the evaluation rows is their mean click rate
    assert report["estimates"]["logging"]["ips"]["value"] == np.mean(log.table["is_clicked"][3_000:])
    # the uniform policy's true value is known here: its estimate's interval covers it
    uniform_truth = true_value(np.full((3_000, 4), 0.25), log.true_click_probs[3_000:])
    for name in ("ips", "snips", "dr"):
        estimate = report["estimates"]["uniform"][name]
        assert estimate["ci_low"] < uniform_truth < estimate["ci_high"]
    assert "| uplift learned - logging |" in capsys.readouterr().out
    assert (tmp_path / "policy" / "policy.vw").exists()


def test_parquet_without_candidates_uses_every_action_seen(tmp_path):
    table = simulate_logged_feedback(2_000, seed=2).table.drop(columns=["candidates"])
    table.to_parquet(tmp_path / "logged.parquet")
    out = tmp_path / "report.json"
    assert main(["evaluate", str(tmp_path / "logged.parquet"), *ARGS, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["rows"] == 1_000


def test_zero_or_missing_propensity_is_a_clear_error(tmp_path, capsys):
    table = simulate_logged_feedback(200, seed=2).table.drop(columns=["candidates"])
    table.loc[10, "propensity"] = 0.0
    table.loc[12, "propensity"] = None
    table.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["evaluate", str(tmp_path / "bad.csv"), *ARGS]) == 2
    error = capsys.readouterr().err
    assert "1 missing or non-numeric (first rows: [12])" in error and "1 zero (first rows: [10])" in error
